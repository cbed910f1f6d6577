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
type recordingPoster struct{ inner rules.LedgerPoster }

func (p recordingPoster) Post(ctx context.Context, tenantID int64, credits []rules.Credit, debits []rules.Debit) error {
	if err := p.inner.Post(ctx, tenantID, credits, debits); err != nil {
		return err
	}
	if c, ok := ctx.Value(collectorKey{}).(*creditCollector); ok {
		c.add(credits)
	}
	return nil
}
