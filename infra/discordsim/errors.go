package discordsim

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound: an unknown guild, channel, member, message or role.
	ErrNotFound = errors.New("discordsim: not found")
	// ErrInvalid: a request the simulated Discord would reject.
	ErrInvalid = errors.New("discordsim: invalid request")
)

func notFound(kind string, id ID) error { return fmt.Errorf("%s %s: %w", kind, id, ErrNotFound) }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalid)
}
