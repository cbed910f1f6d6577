package rules

import "errors"

// pendingRule is a rule of a batched event between its stateless part and
// the answer of State.
type pendingRule struct {
	r      *CompiledRule
	lo, hi int   // its planned effects in ec.effects
	batch  int   // its batchRule, -1 when it has no stateful work
	err    error // a run-time failure, reported unless a stateful condition refuses first
	// A rule stopped by a stateless condition is pending too, with no
	// effects and no batch, so its consecutive failures are reset in
	// order with the other events' (see evaluateInOrder).
}

// evaluateBatched is evaluateOne with the event's State calls in one round
// trip. Each rule's stateless conditions run and its effects are planned
// first (a capped credit at its full amount, its consumption queued); the
// rules' stateful conditions and consumptions then go to State together,
// in rule order, and State makes them as one call each would, stopping a
// rule at its first refusing condition. Planning ahead changes no outcome:
// it is pure but for Facts, and a rule refused by State drops its effects,
// and its failure if planning failed, as it would have been refused before
// planning. Not used for traces (dry runs), which report each step.
func (e *Engine) evaluateBatched(ec *evalCtx, bs batchState, rules []*CompiledRule, res *Result) error {
	defer ec.clearBatch()
	if err := ec.prepareBatch(rules); err != nil {
		return err
	}
	if len(ec.brules) > 0 {
		if err := bs.runRules(ec.ctx, ec.brules, ec.ops); err != nil {
			return err
		}
	}
	e.finishBatch(ec, res)
	return nil
}

// prepareBatch runs the event's stateless conditions and plans its
// effects, queueing the rules' State calls in ec.brules and ec.ops.
func (ec *evalCtx) prepareBatch(rules []*CompiledRule) error {
	ev := ec.ev
	ec.batching = true
	ec.batchStart, ec.batchQueued = len(ec.effects), len(ec.queue)
	for _, r := range rules {
		if inChain(ev.Chain, r.ID) {
			continue
		}
		ec.rule = r
		p := pendingRule{r: r, batch: -1, lo: len(ec.effects)}
		ok, err := ec.conditions(r, r.stateless, 0)
		if err == nil && ok {
			if len(r.stateful) > 0 || len(r.caps) > 0 {
				b := batchRule{condLo: len(ec.ops)}
				for _, c := range r.stateful {
					ec.ops = c.(statefulCondition).appendOps(ec, ec.ops)
				}
				b.condHi = len(ec.ops)
				p.batch = len(ec.brules)
				ec.effects, err = ec.planEffects(r, ec.effects)
				b.hi = len(ec.ops)
				ec.brules = append(ec.brules, b)
			} else {
				ec.effects, err = ec.planEffects(r, ec.effects)
			}
		}
		if err != nil {
			var ie *infraError
			if errors.As(err, &ie) {
				return ie.err
			}
			clear(ec.effects[p.lo:])
			ec.effects = ec.effects[:p.lo]
			p.err = err
		}
		p.hi = len(ec.effects)
		ec.pending = append(ec.pending, p)
	}
	return nil
}

// emits reports whether the prepared event planned an internal event: its
// rules must see the events chained from it before the next event.
func (ec *evalCtx) emits() bool {
	for _, eff := range ec.effects[ec.batchStart:] {
		if _, ok := eff.(Emit); ok {
			return true
		}
	}
	return false
}

// finishBatch keeps what each rule planned, once State answered, in rule
// order, as one call each would have.
func (e *Engine) finishBatch(ec *evalCtx, res *Result) {
	ev, m := ec.ev, ec.mode
	w := ec.batchStart
	for _, p := range ec.pending {
		r := p.r
		var b *batchRule
		if p.batch >= 0 {
			b = &ec.brules[p.batch]
		}
		stopped := b != nil && !b.passed
		if p.err != nil && !stopped {
			res.Failures = append(res.Failures, e.fail(ec.ctx, ec.set, r, p.err, m))
			continue
		}
		if !m.dryRun {
			r.ran()
		}
		if stopped {
			continue
		}
		if b != nil {
			for _, op := range ec.ops[b.condHi:b.hi] {
				if op.effect < 0 {
					continue
				}
				if op.grant == 0 {
					ec.effects[op.effect] = nil // capped out
				} else {
					ec.effects[op.effect].(*Credit).Amount = op.grant
				}
			}
		}
		mark := w
		for _, eff := range ec.effects[p.lo:p.hi] {
			if eff != nil {
				ec.effects[w] = eff
				w++
			}
		}
		if w == mark {
			continue
		}
		ec.fired = append(ec.fired, Fired{RuleID: r.ID, Version: r.Version, Name: r.Name, Event: ev.Name, SourceID: ev.SourceID})
		for _, eff := range ec.effects[mark:w] {
			if em, ok := eff.(Emit); ok {
				ec.queue = append(ec.queue, em.Event)
			}
		}
	}
	clear(ec.effects[w:])
	ec.effects = ec.effects[:w]
	e.queueChildren(ec, ec.batchQueued, res)
}

// clearBatch forgets a batched event's State calls.
func (ec *evalCtx) clearBatch() {
	ec.batching = false
	ec.batchStart, ec.batchQueued = 0, 0
	clear(ec.ops)
	clear(ec.pending)
	ec.ops, ec.brules, ec.pending = ec.ops[:0], ec.brules[:0], ec.pending[:0]
}
