package rules

import "context"

// maxPipeline bounds how many events' State calls share one round trip.
const maxPipeline = 64

// evaluateInOrder evaluates events[i] for i in idx, in that order, into
// results[i]. With a pipelineState, consecutive events are prepared (see
// prepareBatch) and their State calls sent in one pipeline, which Redis
// runs in order, so each event sees the state its predecessors left as it
// would one round trip each: preparing an event reads no state. An event
// that plans an internal event ends the pipeline, so the chained events
// run before the next one, as they would alone.
func (e *Engine) evaluateInOrder(ctx context.Context, m evalMode, setOf func(i int) (*RuleSet, error), events []Event, idx []int, results []Result) error {
	ps, ok := m.state.(pipelineState)
	if !ok || e.oneCallEach || m.trace {
		for _, i := range idx {
			set, err := setOf(i)
			if err != nil {
				return err
			}
			if results[i], err = e.evaluate(ctx, set, events[i], m); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		group []*evalCtx
		at    []int // results index of each of group
		calls []eventCalls
	)
	release := func() {
		for _, ec := range group {
			ec.clearBatch()
			e.putCtx(ec)
		}
		group, at = group[:0], at[:0]
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
		for k, ec := range group {
			var res Result
			e.finishBatch(ec, &res)
			ec.clearBatch()
			res, err := e.chained(ec, res)
			if err != nil {
				return err
			}
			results[at[k]] = res
		}
		release()
		return nil
	}
	for _, i := range idx {
		set, err := setOf(i)
		if err != nil {
			return err
		}
		ec := e.getCtx(ctx, m, set)
		group, at = append(group, ec), append(at, i)
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
