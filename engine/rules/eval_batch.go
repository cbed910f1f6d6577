package rules

import "errors"

// pendingRule is a rule of a batched event between its stateless part and
// the answer of State.
type pendingRule struct {
	r      *CompiledRule
	lo, hi int   // its planned effects in ec.effects
	batch  int   // its batchRule, -1 when it has no stateful work
	err    error // a run-time failure, reported unless a stateful condition refuses first
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
	ev, m := ec.ev, ec.mode
	start, queued := len(ec.effects), len(ec.queue)
	ec.batching = true
	defer ec.clearBatch()
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
		if p.err != nil || p.hi > p.lo || p.batch >= 0 {
			ec.pending = append(ec.pending, p)
		} else if !m.dryRun && r.failures.Load() != 0 {
			r.failures.Store(0) // stopped by a stateless condition: no failure
		}
	}
	if len(ec.brules) > 0 {
		if err := bs.runRules(ec.ctx, ec.brules, ec.ops); err != nil {
			return err
		}
	}
	// Keep what each rule planned, in rule order, as one call each would have.
	w := start
	for _, p := range ec.pending {
		r := p.r
		var b *batchRule
		if p.batch >= 0 {
			b = &ec.brules[p.batch]
		}
		if b != nil && !b.passed {
			if !m.dryRun && r.failures.Load() != 0 {
				r.failures.Store(0)
			}
			continue
		}
		if p.err != nil {
			res.Failures = append(res.Failures, e.fail(ec.ctx, ec.set, r, p.err, m))
			continue
		}
		if !m.dryRun && r.failures.Load() != 0 {
			r.failures.Store(0)
		}
		if b != nil {
			for _, op := range ec.ops[b.condHi:b.hi] {
				if op.effect < 0 {
					continue
				}
				c := ec.effects[op.effect].(Credit)
				if c.Amount = op.grant; op.grant == 0 {
					ec.effects[op.effect] = nil // capped out
				} else {
					ec.effects[op.effect] = c
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
	e.queueChildren(ec, queued, res)
	return nil
}

// clearBatch forgets a batched event's State calls.
func (ec *evalCtx) clearBatch() {
	ec.batching = false
	clear(ec.ops)
	clear(ec.pending)
	ec.ops, ec.brules, ec.pending = ec.ops[:0], ec.brules[:0], ec.pending[:0]
}
