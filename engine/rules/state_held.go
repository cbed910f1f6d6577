package rules

import (
	"context"
	"time"
)

// heldState is a State whose calls for one event can share one lock
// (MemoryState): an event's dozen calls take it once. The engine takes it
// at the event's first State call (see evalCtx.state) and gives it back
// when the event ends, and before calling out of the package (Facts, a
// Chance, the failure log and Disabler), so it is never held across I/O.
type heldState interface {
	State
	// hold takes the lock and returns the State whose calls assume it held.
	hold() State
	release()
}

var _ heldState = (*MemoryState)(nil)

func (s *MemoryState) hold() State {
	s.mu.Lock()
	return (*memoryHeld)(s)
}

func (s *MemoryState) release() { s.mu.Unlock() }

// memoryHeld is MemoryState with its lock held by the caller.
type memoryHeld MemoryState

func (h *memoryHeld) Cooldown(_ context.Context, key Key, token Token, at time.Time, window time.Duration) (bool, error) {
	return (*MemoryState)(h).fire(&key, &token, at, window, 1), nil
}

func (h *memoryHeld) Velocity(_ context.Context, key Key, token Token, at time.Time, window time.Duration, limit int) (bool, error) {
	return (*MemoryState)(h).fire(&key, &token, at, window, limit), nil
}

func (h *memoryHeld) CapUsed(_ context.Context, key Key, token Token) (int64, error) {
	return (*MemoryState)(h).capUsed(&key, &token), nil
}

func (h *memoryHeld) CapConsume(_ context.Context, key Key, token Token, amount, limit int64, periodEnd time.Time) (int64, error) {
	return (*MemoryState)(h).capConsume(&key, &token, amount, limit, periodEnd), nil
}

// run is stateOp.run's call, the op's key and token passed in place.
func (h *memoryHeld) run(op *stateOp) bool {
	s := (*MemoryState)(h)
	switch op.kind {
	case opCooldown:
		return s.fire(&op.key, &op.token, op.at, op.window, 1)
	case opVelocity:
		return s.fire(&op.key, &op.token, op.at, op.window, int(op.limit))
	}
	return s.capUsed(&op.key, &op.token) < op.limit
}

// capUsed is State.CapUsed, made directly on a held MemoryState.
func (ec *evalCtx) capUsed(key *Key, token *Token) (int64, error) {
	s := ec.state()
	if h, ok := s.(*memoryHeld); ok {
		return (*MemoryState)(h).capUsed(key, token), nil
	}
	return s.CapUsed(ec.ctx, *key, *token)
}

// capConsume is State.CapConsume, made directly on a held MemoryState.
func (ec *evalCtx) capConsume(key *Key, token *Token, amount, limit int64, periodEnd time.Time) (int64, error) {
	s := ec.state()
	if h, ok := s.(*memoryHeld); ok {
		return (*MemoryState)(h).capConsume(key, token, amount, limit, periodEnd), nil
	}
	return s.CapConsume(ec.ctx, *key, *token, amount, limit, periodEnd)
}

// state is the State this evaluation reads and writes: with a heldState,
// its held view, the lock taken at the event's first call.
func (ec *evalCtx) state() State {
	if ec.held != nil {
		return ec.held
	}
	if ec.holder != nil {
		ec.held = ec.holder.hold()
		return ec.held
	}
	return ec.mode.state
}

// releaseState gives back a heldState's lock, if the event holds it.
func (ec *evalCtx) releaseState() {
	if ec.held != nil {
		ec.held = nil
		ec.holder.release()
	}
}
