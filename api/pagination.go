package api

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/infra/apperr"
)

const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// pageParams reads limit (1-200, default 50) and the cursor parameter
// (an id; 0 when absent). A page that comes back full carries the cursor
// of the next one (next_after / next_before); a shorter page is the last.
func pageParams(c *gin.Context, cursor string) (int, int64, error) {
	limit := defaultPageSize
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return 0, 0, apperr.Invalid("limit", "must be 1 to 200")
		}
		limit = n
	}
	var cur int64
	if v := c.Query(cursor); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, apperr.Invalid(cursor, "must be the cursor of a previous page")
		}
		cur = n
	}
	return limit, cur, nil
}
