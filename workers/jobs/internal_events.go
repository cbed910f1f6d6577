package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/ledger/levels"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/engine/rules"
)

// maxCreditRounds bounds how far feedback goes; each event's Chain also
// stops a rule from firing on what it caused.
const maxCreditRounds = 3

// rounds evaluates evs, then feeds back what they caused as internal
// events, round after round: credits as ledger.credited (and level.up
// when one crossed a level of its currency), awards as milestone.awarded.
// Their ids derive from what caused them, so a retried task replays the
// same rounds. pending are the awards whose events are in evs.
//
// An award's currency rewards are paid once the round that evaluated its
// event has shown which of them rules paid instead (Classic's "Stars for
// milestones" pays event.data.stars): paying both would pay twice.
func (e *Evaluator) rounds(ctx context.Context, tenantID int64, evs []rules.Event, pending []milestones.Awarded) error {
	var at time.Time
	for _, ev := range evs {
		if ev.OccurredAt.After(at) {
			at = ev.OccurredAt
		}
	}
	for round := 0; len(evs) > 0 && round <= maxCreditRounds; round++ {
		fb := &roundFeedback{}
		rep, err := e.runner.Process(withFeedback(ctx, fb), tenantID, evs)
		if err != nil {
			return err
		}
		if len(rep.Failures) > 0 {
			e.log.Warn("rules failed on some events", slog.Int64("tenant_id", tenantID), slog.Int("failures", len(rep.Failures)))
		}
		credits, awarded := fb.take()
		if err := e.internal.settle(ctx, tenantID, pending, credits); err != nil {
			return err
		}
		if evs, err = e.internal.next(ctx, tenantID, credits, awarded, at); err != nil {
			return err
		}
		pending = awarded
	}
	// Awards of the last round get no round of their own: the milestones
	// pay all their rewards.
	return e.internal.settle(ctx, tenantID, pending, nil)
}

// Awarded runs the rules on awards made outside a rules round (the
// sweep's), then pays the rewards the rules did not.
func (e *Evaluator) Awarded(ctx context.Context, tenantID int64, awards []milestones.Award) error {
	if e.internal == nil {
		return errors.New("rules evaluator: no milestones to settle awards with")
	}
	awarded, err := e.internal.milestones.ForTenant(tenantID).AwardedEvents(ctx, awards, nil)
	if err != nil {
		return err
	}
	return e.rounds(ctx, tenantID, awardedEvents(awarded), awarded)
}

// internalEvents derives a round's internal events from what it caused,
// and settles the awards it fed to the rules. A nil *internalEvents feeds
// back ledger.credited only.
type internalEvents struct {
	milestones *milestones.Service
	curves     *levelCurves
}

func newInternalEvents(ms *milestones.Service, led *ledger.Service) *internalEvents {
	return &internalEvents{milestones: ms, curves: &levelCurves{ledger: led, ttl: curveTTL, now: time.Now, byGuild: map[guildKey]curveEntry{}}}
}

// onAwarded is the milestone Adapter's OnAwarded: in a rules round the
// awards wait for the next round (their rewards are settled after it);
// outside one there is no round to come, so their rewards are paid now.
func (in *internalEvents) onAwarded(ctx context.Context, tenantID int64, awarded []milestones.Awarded) error {
	if f := feedbackOf(ctx); f != nil {
		f.addAwarded(awarded)
		return nil
	}
	awards := make([]milestones.Award, len(awarded))
	for i, a := range awarded {
		awards[i] = a.Award
	}
	return in.milestones.ForTenant(tenantID).CreditRewards(ctx, awards)
}

// next is the round after: ledger.credited for every credit posted,
// level.up for those that crossed a level, milestone.awarded for every
// award still standing.
func (in *internalEvents) next(ctx context.Context, tenantID int64, credits []postedCredit, awarded []milestones.Awarded, at time.Time) ([]rules.Event, error) {
	evs := make([]rules.Event, 0, len(credits)+len(awarded))
	for _, pc := range credits {
		evs = append(evs, rules.CreditedEvent(pc.credit, tenantID, at))
	}
	if in == nil {
		return evs, nil
	}
	evs, err := in.levelUps(ctx, tenantID, credits, at, evs)
	if err != nil {
		return nil, err
	}
	return append(evs, awardedEvents(awarded)...), nil
}

// awardedEvents are the events of the awards not revoked since.
func awardedEvents(awarded []milestones.Awarded) []rules.Event {
	var evs []rules.Event
	for _, a := range awarded {
		if a.Award.RevokedAt == nil {
			evs = append(evs, a.Event)
		}
	}
	return evs
}

// levelUps appends a level.up for each credit that took its member to a
// higher level of a currency with a level curve. The balances come from
// the ledger's result, which a replayed key repeats: a retried task
// derives the same level-ups.
func (in *internalEvents) levelUps(ctx context.Context, tenantID int64, credits []postedCredit, at time.Time, out []rules.Event) ([]rules.Event, error) {
	for _, pc := range credits {
		before, after, ok := balanceMove(pc.result, pc.credit.UserID)
		if !ok || after <= before {
			continue
		}
		curves, err := in.curves.get(ctx, tenantID, pc.credit.GuildID)
		if err != nil {
			return nil, err
		}
		curve, ok := curves[pc.credit.Currency]
		if !ok {
			continue
		}
		if from, to := curve.At(before).Level, curve.At(after).Level; to > from {
			out = append(out, rules.LevelUpEvent(pc.credit, tenantID, at, from, to))
		}
	}
	return out, nil
}

// balanceMove is the member's balance before and after the posting a
// ledger result made to them; false for a refused op.
func balanceMove(r ledger.Result, userID int64) (before, after int64, ok bool) {
	if r.Err != nil {
		return 0, 0, false
	}
	for _, p := range r.Postings {
		if p.Account == userID && p.BalanceAfter != nil {
			return *p.BalanceAfter - p.Amount, *p.BalanceAfter, true
		}
	}
	return 0, 0, false
}

// settle pays the currency rewards of awards whose events a round has
// evaluated, except the currencies a rule credited on the award's event.
func (in *internalEvents) settle(ctx context.Context, tenantID int64, pending []milestones.Awarded, credits []postedCredit) error {
	if in == nil || len(pending) == 0 {
		return nil
	}
	type paidKey struct {
		source   int64
		currency string
	}
	paid := map[paidKey]bool{}
	for _, pc := range credits {
		if c := pc.credit; c.Event == rules.EventMilestoneAwarded {
			paid[paidKey{c.SourceID, c.Currency}] = true
		}
	}
	source := make(map[int64]int64, len(pending)) // award id → its event's source id
	awards := make([]milestones.Award, len(pending))
	for i, a := range pending {
		awards[i] = a.Award
		source[a.Award.ID] = a.Event.SourceID
	}
	return in.milestones.ForTenant(tenantID).CreditRewardsExcept(ctx, awards, func(aw milestones.Award, currency string) bool {
		return paid[paidKey{source[aw.ID], currency}]
	})
}

// curveTTL is how long a guild's level curves are reused: every round with
// credits needs them and they rarely change; a new curve is seen after at
// most this long.
const curveTTL = 30 * time.Second

type guildKey struct{ tenant, guild int64 }

type curveEntry struct {
	read   time.Time
	curves map[string]levels.Curve // by currency code; only currencies with levels
}

// levelCurves caches the level curves of each guild's currencies.
type levelCurves struct {
	ledger  *ledger.Service
	ttl     time.Duration
	now     func() time.Time
	mu      sync.Mutex
	byGuild map[guildKey]curveEntry
}

func (lc *levelCurves) get(ctx context.Context, tenantID, guildID int64) (map[string]levels.Curve, error) {
	k := guildKey{tenantID, guildID}
	lc.mu.Lock()
	e, ok := lc.byGuild[k]
	lc.mu.Unlock()
	if ok && lc.now().Sub(e.read) < lc.ttl {
		return e.curves, nil
	}
	cs, err := lc.ledger.ForTenant(tenantID).Currencies(ctx, guildID)
	if err != nil {
		return nil, err
	}
	e = curveEntry{read: lc.now(), curves: map[string]levels.Curve{}}
	for _, c := range cs {
		if c.LevelCurve != nil {
			e.curves[c.Code] = *c.LevelCurve
		}
	}
	lc.mu.Lock()
	lc.byGuild[k] = e
	lc.mu.Unlock()
	return e.curves, nil
}
