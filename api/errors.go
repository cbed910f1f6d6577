package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/infra/apperr"
)

// ErrorBody is the one shape every API error has.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong, on which field, for which request.
type ErrorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id"`
}

var (
	errRouteNotFound    = apperr.NotFound("route")
	errMethodNotAllowed = errors.New("method not allowed")
)

// writeError is the single place where domain errors become HTTP statuses.
// Unknown errors are 500s whose message does not leak internals.
func writeError(c *gin.Context, err error) {
	status, code, msg, field := http.StatusInternalServerError, "internal", "internal error", ""
	var ve *apperr.ValidationError
	switch {
	case errors.As(err, &ve):
		status, code, msg, field = http.StatusBadRequest, "invalid", ve.Message, ve.Field
	case errors.Is(err, apperr.ErrNotFound):
		status, code, msg = http.StatusNotFound, "not_found", err.Error()
	case errors.Is(err, apperr.ErrUnauthenticated):
		status, code, msg = http.StatusUnauthorized, "unauthenticated", "authentication required"
	case errors.Is(err, apperr.ErrForbidden):
		status, code, msg = http.StatusForbidden, "forbidden", "you may not do this"
	case errors.Is(err, apperr.ErrConflict):
		status, code, msg = http.StatusConflict, "conflict", err.Error()
	case errors.Is(err, apperr.ErrPlanLimit):
		status, code, msg = http.StatusPaymentRequired, "plan_limit", err.Error()
	case errors.Is(err, apperr.ErrLimitExceeded):
		status, code, msg = http.StatusTooManyRequests, "limit_exceeded", err.Error()
	case errors.Is(err, apperr.ErrUnavailable):
		status, code, msg = http.StatusServiceUnavailable, "unavailable", err.Error()
	case errors.Is(err, errMethodNotAllowed):
		status, code, msg = http.StatusMethodNotAllowed, "method_not_allowed", err.Error()
	}
	// "…: conflict" reads as noise to a person: the code says it already.
	for _, sentinel := range []error{apperr.ErrConflict, apperr.ErrLimitExceeded, apperr.ErrUnavailable} {
		msg = strings.TrimSuffix(msg, ": "+sentinel.Error())
	}
	c.AbortWithStatusJSON(status, ErrorBody{Error: ErrorDetail{Code: code, Message: msg, Field: field, RequestID: requestIDOf(c)}})
}
