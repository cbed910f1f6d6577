package rules

import "context"

// maxPipeline bounds how many events' State calls share one round trip.
const maxPipeline = 64

// evaluateInOrder evaluates events[i] for i in idx, in that order, into
// results[i], reusing its storage (see EvaluateInto). With a
// pipelineState, consecutive events are prepared (see prepareBatch) and
// their State calls sent in one pipeline, which Redis runs in order, so
// each event sees the state its predecessors left as it would one round
// trip each: preparing an event reads no state. An event that plans an
// internal event ends the pipeline, so the chained events run before the
// next one, as they would alone.
func (e *Engine) evaluateInOrder(ctx context.Context, m evalMode, setOf func(i int) (*RuleSet, error), events []Event, idx []int, results []Result) error {
	ps, ok := m.state.(pipelineState)
	if !ok || e.oneCallEach || m.trace {
		for _, i := range idx {
			set, err := setOf(i)
			if err != nil {
				return err
			}
			if err := e.evaluate(ctx, set, events[i], m, &results[i], true); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		group []*evalCtx
		calls []eventCalls
	)
	release := func() {
		for _, ec := range group {
			ec.clearBatch()
			e.putCtx(ec)
		}
		group = group[:0]
	}
	defer release()
	flush := func() error {
		calls = calls[:0]
		for _, ec := range group {
			if len(ec.brules) > 0 {
				calls = append(calls, eventCalls{rules: ec.brules, ops: ec.ops})
			}
		}
		if len(calls) > 0 {
			if err := ps.runEvents(ctx, calls); err != nil {
				return err
			}
		}
		for _, ec := range group {
			e.finishBatch(ec, ec.res)
			ec.clearBatch()
			if err := e.chained(ec); err != nil {
				return err
			}
		}
		release()
		return nil
	}
	for _, i := range idx {
		set, err := setOf(i)
		if err != nil {
			return err
		}
		ec := e.getCtx(ctx, m, set, &results[i], true)
		group = append(group, ec)
		if rules := set.byEvent[events[i].Name]; len(rules) > 0 {
			ec.begin(&events[i])
			if err := ec.prepareBatch(rules); err != nil {
				return err
			}
		}
		if ec.emits() || len(group) == maxPipeline {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}
