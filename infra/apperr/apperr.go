// Package apperr defines the domain errors every store and service returns.
// The API maps them to HTTP status codes in exactly one place (api/errors.go).
package apperr

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound: the thing does not exist, or exists in another tenant
	// (the two are deliberately indistinguishable).
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the caller may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated: no valid session or token.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrConflict: the write clashes with the current state (duplicate,
	// stale version, idempotency key reused with other content).
	ErrConflict = errors.New("conflict")
	// ErrLimitExceeded: a plan limit or rate limit was reached.
	ErrLimitExceeded = errors.New("limit exceeded")
	// ErrUnavailable: a dependency is down; retrying later may work.
	ErrUnavailable = errors.New("unavailable")
	// ErrPlanLimit: the tenant's plan allows no more of this; a higher
	// plan does (see billing.LimitError).
	ErrPlanLimit = errors.New("plan limit reached")
)

// ValidationError says which input field is wrong and why.
type ValidationError struct {
	Field   string // JSON path of the offending field, e.g. "effects[0].amount"
	Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "invalid input: " + e.Message
	}
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Message)
}

// Invalid builds a ValidationError.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound wraps ErrNotFound with what was looked for.
func NotFound(what string) error { return fmt.Errorf("%s: %w", what, ErrNotFound) }
