package jobs

import (
	"context"
	"sync"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/engine/rules"
)

// postedCredit is a credit one round posted with the ledger's result of it
// (the balance it left, for level.up).
type postedCredit struct {
	credit rules.Credit
	result ledger.Result
}

// roundFeedback gathers what one evaluation round caused that rules react
// to: the credits it posted and the milestones it awarded.
type roundFeedback struct {
	mu      sync.Mutex
	credits []postedCredit
	awarded []milestones.Awarded
}

func (f *roundFeedback) addCredits(cs []rules.Credit, results []ledger.Result) {
	f.mu.Lock()
	for i, c := range cs {
		f.credits = append(f.credits, postedCredit{credit: c, result: results[i]})
	}
	f.mu.Unlock()
}

func (f *roundFeedback) addAwarded(as []milestones.Awarded) {
	f.mu.Lock()
	f.awarded = append(f.awarded, as...)
	f.mu.Unlock()
}

func (f *roundFeedback) take() ([]postedCredit, []milestones.Awarded) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cs, as := f.credits, f.awarded
	f.credits, f.awarded = nil, nil
	return cs, as
}

type feedbackKey struct{}

func withFeedback(ctx context.Context, f *roundFeedback) context.Context {
	return context.WithValue(ctx, feedbackKey{}, f)
}

// feedbackOf is the round's collector, nil outside a rules round.
func feedbackOf(ctx context.Context) *roundFeedback {
	f, _ := ctx.Value(feedbackKey{}).(*roundFeedback)
	return f
}

// resultPoster posts like a rules.LedgerPoster and returns each credit's
// ledger result (ledgerpost.Poster).
type resultPoster interface {
	PostResults(ctx context.Context, tenantID int64, credits []rules.Credit, debits []rules.Debit) ([]ledger.Result, error)
}

// recordingPoster posts through the ledger and tells the task's collector
// (found in ctx: tasks run concurrently) which credits went through.
type recordingPoster struct {
	inner resultPoster
	hooks *Hooks
}

func (p recordingPoster) Post(ctx context.Context, tenantID int64, credits []rules.Credit, debits []rules.Debit) error {
	results, err := p.inner.PostResults(ctx, tenantID, credits, debits)
	if err != nil {
		return err
	}
	if p.hooks != nil && p.hooks.Credited != nil && len(credits) > 0 {
		p.hooks.Credited(credits)
	}
	if f := feedbackOf(ctx); f != nil {
		f.addCredits(credits, results)
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
