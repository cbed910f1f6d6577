package rules

import (
	"context"
	"time"
)

// stateOp is one State call of a rule's stateful conditions or capped
// credits, made at once (run) or sent with the rest of an event's calls
// in one round trip (batchState).
type stateOp struct {
	kind   stateOpKind
	key    Key
	token  Token
	at     time.Time // cooldown, velocity: event time; cap consumption: period end
	window time.Duration
	limit  int64
	amount int64
	// Filled by a batch: a cap consumption's grant, and the index in the
	// evaluation's effects of the credit it clips.
	grant  int64
	effect int
}

type stateOpKind uint8

const (
	opCooldown stateOpKind = iota
	opVelocity
	opCapUsed    // passes while used < limit
	opCapConsume // grant
)

// run makes a condition's call now and says whether it passes.
func (op *stateOp) run(ec *evalCtx) (bool, error) {
	s := ec.state()
	if h, ok := s.(*memoryHeld); ok {
		return h.run(op), nil
	}
	switch op.kind {
	case opCooldown:
		ok, err := s.Cooldown(ec.ctx, op.key, op.token, op.at, op.window)
		return ok, infra(err)
	case opVelocity:
		ok, err := s.Velocity(ec.ctx, op.key, op.token, op.at, op.window, int(op.limit))
		return ok, infra(err)
	}
	used, err := s.CapUsed(ec.ctx, op.key, op.token)
	return used < op.limit, infra(err)
}

// batchState is a State that takes an event's calls in one round trip;
// RedisState is one. The engine then evaluates each rule's stateless
// conditions and plans its effects first, and sends the rules' stateful
// work together, in rule order, with the same answers as one call each.
type batchState interface {
	State
	runRules(ctx context.Context, rules []batchRule, ops []stateOp) error
}

// pipelineState is a batchState that also takes many events' calls in one
// round trip, made in the order given (RedisState: a pipeline).
type pipelineState interface {
	batchState
	runEvents(ctx context.Context, events []eventCalls) error
}

// eventCalls are one event's rules and State calls in a pipeline.
type eventCalls struct {
	rules []batchRule
	ops   []stateOp
}

// batchRule is one rule's stateful work in a batch: ops[condLo:condHi]
// are its conditions' calls, made in order until one refuses, and
// ops[condHi:hi] its cap consumptions, made only when every condition
// passed (their grants are written back into ops).
type batchRule struct {
	condLo, condHi, hi int
	passed             bool
}
