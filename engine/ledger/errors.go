package ledger

import (
	"github.com/synapsehq/synapse/infra/apperr"
)

// Errors the ledger returns, each wrapping the apperr sentinel the API maps
// to a status (api/errors.go), so callers test either errors.Is(err,
// ledger.ErrInsufficientFunds) or the generic class:
//
//   - ErrInsufficientFunds wraps apperr.ErrConflict (409): the request is
//     well formed but the current balance refuses it; it may succeed later.
//   - ErrIdempotencyConflict wraps apperr.ErrConflict: the key was used
//     before with other content.
//   - ErrAlreadyReversed, ErrNotReversible, ErrSeasonOpen, ErrNoOpenSeason
//     wrap apperr.ErrConflict.
//   - ErrNotTransferable and ErrNotSpendable are *apperr.ValidationError on
//     field "currency" (400): the currency's configuration forbids the
//     operation, whatever the balance.
//   - ErrUnknownCurrency, ErrUnknownItem, ErrUnknownTransaction wrap
//     apperr.ErrNotFound (404), also for another tenant's rows.
var (
	ErrInsufficientFunds   error = &kindError{"insufficient funds", apperr.ErrConflict}
	ErrIdempotencyConflict error = &kindError{"idempotency key already used with different content", apperr.ErrConflict}
	ErrAlreadyReversed     error = &kindError{"transaction already reversed", apperr.ErrConflict}
	ErrNotReversible       error = &kindError{"transaction cannot be reversed", apperr.ErrConflict}
	ErrSeasonOpen          error = &kindError{"a season is already running", apperr.ErrConflict}
	ErrNoOpenSeason        error = &kindError{"no season is running", apperr.ErrConflict}

	ErrNotTransferable error = &apperr.ValidationError{Field: "currency", Message: "currency is not transferable"}
	ErrNotSpendable    error = &apperr.ValidationError{Field: "currency", Message: "currency cannot be spent"}

	ErrUnknownCurrency    error = &kindError{"currency not found", apperr.ErrNotFound}
	ErrUnknownItem        error = &kindError{"shop item not found", apperr.ErrNotFound}
	ErrUnknownTransaction error = &kindError{"transaction not found", apperr.ErrNotFound}
	ErrUnknownSeason      error = &kindError{"season not found", apperr.ErrNotFound}
)

// kindError is a ledger sentinel with a readable message that still
// unwraps to its apperr class.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }
