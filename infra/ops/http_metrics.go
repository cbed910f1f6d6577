package ops

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HTTPMetrics records request durations by route pattern (never the raw
// path, which would carry ids and explode the label set).
type HTTPMetrics struct {
	duration *prometheus.HistogramVec
}

// NewHTTPMetrics registers synapse_http_request_duration_seconds on reg.
func NewHTTPMetrics(reg prometheus.Registerer) *HTTPMetrics {
	m := &HTTPMetrics{duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "synapse_http_request_duration_seconds",
		Help:    "HTTP request duration by route, method and status code.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "method", "code"})}
	reg.MustRegister(m.duration)
	return m
}

// Observe records one request.
func (m *HTTPMetrics) Observe(route, method string, code int, took time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.duration.WithLabelValues(route, method, strconv.Itoa(code)).Observe(took.Seconds())
}

// Wrap instruments a plain net/http handler, labelling by the mux pattern.
func (m *HTTPMetrics) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		m.Observe(r.Pattern, r.Method, rec.code, time.Since(start))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}
