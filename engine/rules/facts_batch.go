package rules

import (
	"context"
	"sync"
)

// batchFacts serves one batch's member facts, loading each member once.
// Facts read during a batch are the same whichever event asks: the
// Runner applies a batch's effects only after every event was evaluated,
// so nothing a batch does changes what its own events see.
type batchFacts struct {
	inner   Facts
	mu      sync.Mutex
	members map[memberRef]*factsEntry
}

type memberRef struct{ guild, user int64 }

type factsEntry struct {
	ready chan struct{}
	f     MemberFacts
	err   error
}

func newBatchFacts(inner Facts) *batchFacts {
	return &batchFacts{inner: inner, members: map[memberRef]*factsEntry{}}
}

// Member implements Facts: a member asked for concurrently is loaded once,
// the other callers wait for it.
func (b *batchFacts) Member(ctx context.Context, guildID, userID int64) (MemberFacts, error) {
	ref := memberRef{guildID, userID}
	b.mu.Lock()
	e, ok := b.members[ref]
	if !ok {
		e = &factsEntry{ready: make(chan struct{})}
		b.members[ref] = e
	}
	b.mu.Unlock()
	if !ok {
		e.f, e.err = b.inner.Member(ctx, guildID, userID)
		close(e.ready)
		return e.f, e.err
	}
	select {
	case <-e.ready:
		return e.f, e.err
	case <-ctx.Done():
		return MemberFacts{}, ctx.Err()
	}
}

// BatchFacts is Facts that can also load many members of a guild in one
// go (a query per table rather than per member). A batch prefetches its
// acting members through it when the Facts implements it; members absent
// from the answer get MemberFacts{UserID: id}, as Member gives them.
type BatchFacts interface {
	Facts
	Members(ctx context.Context, guildID int64, userIDs []int64, need FactNeeds) (map[int64]MemberFacts, error)
}

// FactNeeds says which parts of the facts a batch's rules read, for the
// parts that cost a loader more than the member row: members loaded
// without them must not be evaluated by rules that read them.
type FactNeeds struct {
	Counters bool // MemberFacts.Counters (some rule's CEL reads counters)
}

// prefetch loads the acting members of events: in one call per guild when
// the Facts is a BatchFacts, else up to n at a time, so the round trips of
// a batch overlap instead of following one another.
func (b *batchFacts) prefetch(ctx context.Context, events []Event, n int, need FactNeeds) {
	seen := map[memberRef]bool{}
	var refs []memberRef
	for _, ev := range events {
		ref := memberRef{ev.GuildID, ev.UserID}
		if ev.UserID != 0 && !seen[ref] {
			seen[ref] = true
			refs = append(refs, ref)
		}
	}
	if bf, ok := b.inner.(BatchFacts); ok {
		b.prefetchBulk(ctx, bf, refs, need)
		return
	}
	if len(refs) < 2 || n <= 1 {
		return // loaded on first use, as without a batch
	}
	work := make(chan memberRef)
	var wg sync.WaitGroup
	for i := 0; i < min(n, len(refs)); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ref := range work {
				_, _ = b.Member(ctx, ref.guild, ref.user) // errors are kept for the event that needs the member
			}
		}()
	}
	for _, ref := range refs {
		if ctx.Err() != nil {
			break
		}
		work <- ref
	}
	close(work)
	wg.Wait()
}

func (b *batchFacts) prefetchBulk(ctx context.Context, bf BatchFacts, refs []memberRef, need FactNeeds) {
	byGuild := map[int64][]int64{}
	for _, r := range refs {
		byGuild[r.guild] = append(byGuild[r.guild], r.user)
	}
	for guild, users := range byGuild {
		got, err := bf.Members(ctx, guild, users, need)
		if err != nil {
			return // each member is then loaded (and fails) on first use
		}
		b.mu.Lock()
		for _, u := range users {
			ref := memberRef{guild, u}
			if _, ok := b.members[ref]; ok {
				continue
			}
			f, ok := got[u]
			if !ok {
				f = MemberFacts{UserID: u}
			}
			f.UserID = u
			e := &factsEntry{ready: make(chan struct{}), f: f}
			close(e.ready)
			b.members[ref] = e
		}
		b.mu.Unlock()
	}
}
