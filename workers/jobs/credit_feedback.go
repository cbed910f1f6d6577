package jobs

import (
	"context"
	"sync"

	"github.com/synapsehq/synapse/engine/rules"
)

// creditCollector gathers the credits one evaluation round posted.
type creditCollector struct {
	mu      sync.Mutex
	credits []rules.Credit
}

func (c *creditCollector) add(cs []rules.Credit) {
	c.mu.Lock()
	c.credits = append(c.credits, cs...)
	c.mu.Unlock()
}

func (c *creditCollector) take() []rules.Credit {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.credits
	c.credits = nil
	return out
}

type collectorKey struct{}

func withCollector(ctx context.Context, c *creditCollector) context.Context {
	return context.WithValue(ctx, collectorKey{}, c)
}

// recordingPoster posts through the ledger and tells the task's collector
// (found in ctx: tasks run concurrently) which credits went through.
type recordingPoster struct {
	inner rules.LedgerPoster
	hooks *Hooks
}

func (p recordingPoster) Post(ctx context.Context, tenantID int64, credits []rules.Credit, debits []rules.Debit) error {
	if err := p.inner.Post(ctx, tenantID, credits, debits); err != nil {
		return err
	}
	if p.hooks != nil && p.hooks.Credited != nil && len(credits) > 0 {
		p.hooks.Credited(credits)
	}
	if c, ok := ctx.Value(collectorKey{}).(*creditCollector); ok {
		c.add(credits)
	}
	return nil
}

// Hooks let a caller watch the rules pipeline (the load test measures
// latency and throughput with them). Set them before the worker starts.
type Hooks struct {
	// Credited sees the credits of each ledger batch right after it
	// committed (replayed keys included: the ledger applied them once).
	Credited func(credits []rules.Credit)
	// Evaluated sees how many lake events each rules:evaluate task
	// evaluated and applied.
	Evaluated func(events int)
	// Failed sees each rules:evaluate task that returned an error (it is
	// retried).
	Failed func(err error)
}
