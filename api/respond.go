package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// respond ends a handler: the error in its one shape, or v as JSON with
// status (204: no body).
func respond(c *gin.Context, status int, v any, err error) {
	switch {
	case err != nil:
		writeError(c, err)
	case status == http.StatusNoContent:
		c.Status(status)
	default:
		c.JSON(status, v)
	}
}

// pathID reads a positive id from the path (or query); when it is not one
// it answers 400 naming the parameter and reports false.
func pathID(c *gin.Context, name string) (int64, bool) {
	id, err := int64Param(c, name)
	if err != nil {
		writeError(c, err)
		return 0, false
	}
	return id, true
}
