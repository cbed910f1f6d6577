package rules

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// evalCtx is one event's evaluation: facts are loaded once per member and
// the CEL activation is shared by every rule.
type evalCtx struct {
	ctx   context.Context
	eng   *Engine
	mode  evalMode
	set   *RuleSet
	ev    *Event
	token Token
	// keySuffix is the event's part of idempotency keys: "<event>.<source>.e".
	keySuffix string
	// period starts of the event's day and week, computed on first use by caps.
	dayStart, weekStart time.Time
	zone                *Zone
	quality             float64
	members             map[int64]*MemberFacts
	actor               *MemberFacts
	act                 activation
	actVars             bool
	rule                *CompiledRule
	// credited is set by credit effects for caps: recipient of the current effect.
}

func newEvalCtx(ctx context.Context, e *Engine, m evalMode, set *RuleSet, ev *Event) *evalCtx {
	ec := &evalCtx{ctx: ctx, eng: e, mode: m, set: set, ev: ev}
	ec.token = Token{Event: ev.Name, Source: ev.SourceID}
	ec.keySuffix = ev.Name + "." + strconv.FormatInt(ev.SourceID, 10) + ".e"
	ec.zone = set.zones.of(ev)
	ec.quality = QualityScore(ev)
	return ec
}

// member returns facts for a user, loading each user once per event.
func (ec *evalCtx) member(userID int64) (*MemberFacts, error) {
	if m, ok := ec.members[userID]; ok {
		return m, nil
	}
	f, err := ec.eng.o.Facts.Member(ec.ctx, ec.set.GuildID, userID)
	if err != nil {
		return nil, infra(fmt.Errorf("member facts %d: %w", userID, err))
	}
	if ec.members == nil {
		ec.members = make(map[int64]*MemberFacts, 2)
	}
	ec.members[userID] = &f
	return &f, nil
}

func (ec *evalCtx) actorFacts() (*MemberFacts, error) {
	if ec.actor == nil {
		m, err := ec.member(ec.ev.UserID)
		if err != nil {
			return nil, err
		}
		ec.actor = m
	}
	return ec.actor, nil
}

// vars prepares the CEL activation for this event (once) and sets the
// per-effect variables.
func (ec *evalCtx) vars(base float64, currency string) (*activation, error) {
	if !ec.actVars {
		actor, err := ec.actorFacts()
		if err != nil {
			return nil, err
		}
		ec.act = activation{ev: ec.ev, facts: actor, zone: ec.zone, zones: ec.set.zones, quality: ec.quality}
		ec.actVars = true
	}
	ec.act.base = base
	if ec.act.currency != currency || ec.act.zoneMult == 0 {
		ec.act.currency = currency
		ec.act.zoneMult = ec.zone.Multiplier(currency)
	}
	return &ec.act, nil
}

// runRule evaluates one rule, appending its effects to out: none (and nil
// error) when a condition stops it.
func (ec *evalCtx) runRule(r *CompiledRule, out []Effect) ([]Effect, error) {
	ec.rule = r
	for i, c := range r.stateless {
		ok, err := c.Eval(ec)
		if err != nil {
			ec.step(r, "failed", r.condIndex[i], r.condTypes[r.condIndex[i]], err.Error())
			return out, err
		}
		if !ok {
			ec.step(r, "skipped", r.condIndex[i], r.condTypes[r.condIndex[i]], "")
			return out, nil
		}
	}
	for i, c := range r.stateful {
		j := len(r.stateless) + i
		ok, err := c.Eval(ec)
		if err != nil {
			ec.step(r, "failed", r.condIndex[j], r.condTypes[r.condIndex[j]], err.Error())
			return out, err
		}
		if !ok {
			ec.step(r, "skipped", r.condIndex[j], r.condTypes[r.condIndex[j]], "")
			return out, nil
		}
	}
	mark := len(out)
	for i, p := range r.effects {
		o := Origin{RuleID: r.ID, RuleVersion: r.Version, Index: i, GuildID: ec.set.GuildID,
			IdempotencyKey: r.keyPrefix + ec.keySuffix + strconv.Itoa(i), Chain: ec.ev.Chain}
		eff, err := p.plan(ec, o)
		if err != nil {
			ec.step(r, "failed", -1, "", fmt.Sprintf("effects[%d]: %s", i, err))
			return out, fmt.Errorf("effects[%d]: %w", i, err)
		}
		if eff != nil {
			out = append(out, eff)
		}
	}
	if len(out) == mark {
		ec.step(r, "skipped", -1, "", "no effect left to apply (zero amounts or capped)")
		return out, nil
	}
	ec.step(r, "fired", -1, "", "")
	return out, nil
}

func (ec *evalCtx) step(r *CompiledRule, outcome string, cond int, condType, detail string) {
	if !ec.mode.trace {
		return
	}
	*ec.mode.tracing = append(*ec.mode.tracing, Step{RuleID: r.ID, Name: r.Name, Event: ec.ev.Name,
		Outcome: outcome, Condition: cond, ConditionType: condType, Detail: detail})
}

// state is the State this evaluation reads and writes.
func (ec *evalCtx) state() State { return ec.mode.state }

// recipient resolves an effect's "to": the acting user or the event's target.
func (ec *evalCtx) recipient(to string) int64 {
	if to == toTarget {
		return ec.ev.TargetID
	}
	return ec.ev.UserID
}

// periodStart is the start (UTC) of the day or ISO week holding t.
func periodStart(t time.Time, period string) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if period == periodWeek {
		wd := (int(day.Weekday()) + 6) % 7 // Monday = 0
		return day.AddDate(0, 0, -wd)
	}
	return day
}

func periodEnd(start time.Time, period string) time.Time {
	if period == periodWeek {
		return start.AddDate(0, 0, 7)
	}
	return start.AddDate(0, 0, 1)
}

// periodStartOf is periodStart for the event's time, computed once per event.
func (ec *evalCtx) periodStartOf(period string) time.Time {
	if period == periodWeek {
		if ec.weekStart.IsZero() {
			ec.weekStart = periodStart(ec.ev.OccurredAt, periodWeek)
		}
		return ec.weekStart
	}
	if ec.dayStart.IsZero() {
		ec.dayStart = periodStart(ec.ev.OccurredAt, periodDay)
	}
	return ec.dayStart
}
