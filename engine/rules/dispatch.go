package rules

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// LedgerPoster applies credits and debits through the ledger's batched
// API. Implementations must treat IdempotencyKey as unique: a posting whose
// key was already applied is skipped, not repeated (tasks are delivered at
// least once).
type LedgerPoster interface {
	Post(ctx context.Context, tenantID int64, credits []Credit, debits []Debit) error
}

// DiscordAction is an effect that becomes a Discord REST call: GrantRole,
// RemoveRole, SendMessage or DM.
type DiscordAction interface {
	Effect
	discordAction()
}

func (GrantRole) discordAction()   {}
func (RemoveRole) discordAction()  {}
func (SendMessage) discordAction() {}
func (DM) discordAction()          {}

// DiscordActions is the action queue in front of Discord's REST API (it
// owns rate limits). Enqueue must be idempotent on IdempotencyKey, and a
// GrantRole with ExpiresAt must be followed by the role's removal then.
type DiscordActions interface {
	Enqueue(ctx context.Context, tenantID int64, actions []DiscordAction) error
}

// MilestoneChecker receives milestone checks (idempotent on key, too).
type MilestoneChecker interface {
	Check(ctx context.Context, tenantID int64, checks []MilestoneCheck) error
}

// RuleSets gives the rule set of a guild; *Cache implements it.
type RuleSets interface {
	Get(ctx context.Context, tenantID, guildID int64) (*RuleSet, error)
}

// Runner is what the pipeline's task handler calls with one batch of
// committed events: it evaluates them and hands the effects to the sinks
// in one call per sink.
type Runner struct {
	Sets       RuleSets
	Engine     *Engine
	Ledger     LedgerPoster
	Discord    DiscordActions
	Milestones MilestoneChecker
	// Concurrency evaluates up to this many shards of a batch at once,
	// events sharded by acting user so each member's events stay in order
	// (default 1: sequential). Worth it when State is remote: a Redis round
	// trip per event with stateful rules otherwise serialises the batch.
	Concurrency int

	results sync.Pool // *[]Result: a batch's results, reused by later batches
}

// BatchReport summarises a batch.
type BatchReport struct {
	Events   int
	Fired    int
	Effects  int
	Failures []Failure
}

// Process evaluates a batch of one tenant's events (any guilds) and
// dispatches the effects. An error means the batch should be retried as a
// whole: every effect carries an idempotency key, so what was already
// applied is not applied twice. Rule failures are not errors: they are in
// the report, and the rule is disabled after repeated ones.
func (r *Runner) Process(ctx context.Context, tenantID int64, events []Event) (BatchReport, error) {
	rep := BatchReport{Events: len(events)}
	for i := range events {
		if events[i].TenantID != tenantID {
			return rep, fmt.Errorf("event %d of the batch belongs to tenant %d, not %d", i, events[i].TenantID, tenantID)
		}
	}
	buf, _ := r.results.Get().(*[]Result)
	if buf == nil {
		buf = new([]Result)
	}
	defer r.results.Put(buf) // nothing below keeps a result: credits are copied
	*buf = slices.Grow((*buf)[:0], len(events))[:len(events)]
	results := *buf
	if err := r.evaluate(ctx, tenantID, events, results); err != nil {
		return rep, err
	}
	var (
		credits []Credit
		debits  []Debit
		actions []DiscordAction
		checks  []MilestoneCheck
	)
	for _, res := range results { // in event order, whatever the concurrency
		rep.Fired += len(res.Fired)
		rep.Effects += len(res.Effects)
		rep.Failures = append(rep.Failures, res.Failures...)
		for _, e := range res.Effects {
			switch v := e.(type) {
			case *Credit:
				credits = append(credits, *v)
			case Debit:
				debits = append(debits, v)
			case MilestoneCheck:
				checks = append(checks, v)
			case DiscordAction:
				actions = append(actions, v)
			}
		}
	}
	var errs []error
	if len(credits)+len(debits) > 0 {
		if r.Ledger == nil {
			errs = append(errs, errors.New("rules: no ledger poster for credits/debits"))
		} else if err := r.Ledger.Post(ctx, tenantID, credits, debits); err != nil {
			errs = append(errs, fmt.Errorf("post to ledger: %w", err))
		}
	}
	if len(actions) > 0 && r.Discord != nil {
		if err := r.Discord.Enqueue(ctx, tenantID, actions); err != nil {
			errs = append(errs, fmt.Errorf("enqueue discord actions: %w", err))
		}
	}
	if len(checks) > 0 && r.Milestones != nil {
		if err := r.Milestones.Check(ctx, tenantID, checks); err != nil {
			errs = append(errs, fmt.Errorf("milestone checks: %w", err))
		}
	}
	return rep, errors.Join(errs...)
}

// evaluate runs every event of the batch into results, in shards by acting
// user when Concurrency > 1; results are in event order.
func (r *Runner) evaluate(ctx context.Context, tenantID int64, events []Event, results []Result) error {
	facts := newBatchFacts(r.Engine.o.Facts)
	var reads []Event // events some rule of which reads the actor's facts
	var need FactNeeds
	for i := range events {
		set, err := r.Sets.Get(ctx, tenantID, events[i].GuildID)
		if err != nil {
			return err
		}
		if set.factsFor[events[i].Name] {
			reads = append(reads, events[i])
			need.Counters = need.Counters || set.countersFor[events[i].Name]
		}
	}
	facts.prefetch(ctx, reads, 2*r.Concurrency, need)
	mode := evalMode{engine: r.Engine, state: r.Engine.o.State, facts: facts}
	setOf := func(i int) (*RuleSet, error) { return r.Sets.Get(ctx, tenantID, events[i].GuildID) }
	n := r.Concurrency
	if n <= 1 || len(events) < 2 {
		all := make([]int, len(events))
		for i := range all {
			all[i] = i
		}
		return r.Engine.evaluateInOrder(ctx, mode, setOf, events, all, results)
	}
	shards := make([][]int, n)
	for i, ev := range events {
		s := int(uint64(ev.UserID) % uint64(n))
		shards[s] = append(shards[s], i)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for s, idx := range shards {
		if len(idx) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Engine.evaluateInOrder(ctx, mode, setOf, events, idx, results); err != nil {
				errs[s] = err
				cancel()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
