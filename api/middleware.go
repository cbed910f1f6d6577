package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/synapsehq/synapse/infra/ops"
)

const requestIDHeader = "X-Request-Id"

// requestID tags every request with an id (the caller's, if sane) that
// appears in logs, error bodies and audit entries.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(requestIDHeader)
		if id == "" || len(id) > 64 {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set(requestIDHeader, id)
		c.Header(requestIDHeader, id)
		c.Next()
	}
}

func requestIDOf(c *gin.Context) string { return c.GetString(requestIDHeader) }

func observe(m *ops.HTTPMetrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		m.Observe(c.FullPath(), c.Request.Method, c.Writer.Status(), time.Since(start))
	}
}

// recoverJSON turns a panic into a logged 500 with the standard error body.
func recoverJSON(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				log.ErrorContext(c.Request.Context(), "panic in handler",
					slog.String("request_id", requestIDOf(c)), slog.String("panic", fmt.Sprint(r)))
				if !c.Writer.Written() {
					writeError(c, fmt.Errorf("panic: %v", r))
				}
				c.Abort()
			}
		}()
		c.Next()
	}
}

func promhttpHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}

// maxBodyBytes bounds a request body: the largest legitimate one (a rule
// document with pasted dry-run events) is far smaller.
const maxBodyBytes = 1 << 20

// limitBody makes reading past maxBodyBytes fail, so a hostile client
// cannot make a handler buffer an endless body.
func limitBody() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
		}
		c.Next()
	}
}
