package api

import (
	"crypto/subtle"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/infra/apperr"
)

// requireOperatorToken admits requests that carry the platform operator's
// bearer token. It guards the data endpoints until per-user login and
// role-based access (sessions, personal tokens, casbin) take its place;
// with no token configured the data endpoints refuse everyone.
func requireOperatorToken(token string) gin.HandlerFunc {
	return func(c *gin.Context) {
		got, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if token == "" || !ok {
			writeError(c, apperr.ErrUnauthenticated)
			return
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			writeError(c, apperr.ErrUnauthenticated)
			return
		}
		c.Next()
	}
}
