package rules

import (
	"context"
	"fmt"
	"time"
)

// evalCtx is one evaluation: an event and those it chains into. Facts are
// loaded once per member and event, and the CEL activation is shared by
// every rule of an event. Contexts are pooled by the engine (see
// Engine.getCtx): a Result points only into the arenas' chunks, which are
// never written again once handed out.
type evalCtx struct {
	ctx  context.Context
	eng  *Engine
	mode evalMode
	set  *RuleSet
	// Scratch kept across evaluations (cleared, not freed): what every
	// event so far produced, and the chained events still to evaluate.
	effects    []Effect
	fired      []Fired
	queue      []Event
	effArena   arena[Effect]
	firedArena arena[Fired]
	// Where the result goes: with reuse (EvaluateInto), into res's own
	// slices and credits; otherwise into the arenas, copied out once.
	res         *Result
	reuse       bool
	credits     *slab[Credit] // &res.credits or &creditArena
	creditArena slab[Credit]  // never reset: its credits outlive the context
	// An event whose State calls go together (see evaluateBatched).
	batching bool
	// where the batched event's effects and chained events start
	batchStart, batchQueued int
	ops                     []stateOp
	brules                  []batchRule
	pending                 []pendingRule
	// Per event (see begin).
	ev    *Event // &evCopy
	token Token
	// period starts and ends of the event's day and week, computed on
	// first use by caps.
	dayStart, weekStart time.Time
	dayEnd, weekEnd     time.Time
	zone                *Zone
	quality             float64
	// members are the facts loaded for this event: the actor and a target
	// fit in slots; more spill into a map.
	slots   [2]memberSlot
	nSlots  int
	more    map[int64]*MemberFacts
	actor   *MemberFacts
	act     activation
	actVars bool
	rule    *CompiledRule
	evCopy  Event
	// origin is the effect being planned's, passed to its plan in place.
	origin   Origin
	chanceBf [128]byte
	rollTail []byte // the event's part of random_chance keys, in chanceBf
	// mode.state when it is a heldState, and its held view while the
	// event holds its lock (see state).
	holder heldState
	held   State
}

type memberSlot struct {
	id int64
	f  MemberFacts
}

// getCtx takes a context from the engine's pool for one evaluation into
// res: with reuse, res's storage is reset and written over (see
// EvaluateInto); otherwise res must be empty.
func (e *Engine) getCtx(ctx context.Context, m evalMode, set *RuleSet, res *Result, reuse bool) *evalCtx {
	ec, _ := e.ctxPool.Get().(*evalCtx)
	if ec == nil {
		ec = &evalCtx{}
	}
	ec.ctx, ec.eng, ec.mode, ec.set = ctx, e, m, set
	ec.holder, _ = m.state.(heldState)
	ec.res, ec.reuse, ec.credits = res, reuse, &ec.creditArena
	if reuse {
		res.reset()
		ec.credits = &res.credits
	}
	return ec
}

// begin sets the context up for the next event of the evaluation.
func (ec *evalCtx) begin(ev *Event) {
	ec.resetEvent()
	ec.evCopy = *ev
	ec.ev = &ec.evCopy
	ec.token = Token{Event: ev.Name, Source: ev.SourceID}
	ec.zone = ec.set.zones.of(ev)
	ec.quality = QualityScore(ev)
}

// resetEvent clears what one event set, keeping the scratch and arenas.
func (ec *evalCtx) resetEvent() {
	ec.ev, ec.token = nil, Token{}
	ec.dayStart, ec.weekStart = time.Time{}, time.Time{}
	ec.dayEnd, ec.weekEnd = time.Time{}, time.Time{}
	ec.zone, ec.quality = nil, 0
	ec.slots, ec.nSlots, ec.more, ec.actor = [2]memberSlot{}, 0, nil, nil
	ec.act, ec.actVars, ec.rule = activation{}, false, nil
	ec.evCopy, ec.rollTail, ec.origin = Event{}, nil, Origin{}
}

// putCtx clears what the context references and returns it to the pool.
func (e *Engine) putCtx(ec *evalCtx) {
	ec.releaseState()
	ec.holder = nil
	ec.resetEvent()
	ec.ctx, ec.eng, ec.mode, ec.set = nil, nil, evalMode{}, nil
	ec.res, ec.reuse, ec.credits = nil, false, nil
	clear(ec.effects)
	clear(ec.fired)
	clear(ec.queue)
	ec.effects, ec.fired, ec.queue = ec.effects[:0], ec.fired[:0], ec.queue[:0]
	ec.clearBatch()
	e.ctxPool.Put(ec)
}

// member returns facts for a user, loading each user once per event.
func (ec *evalCtx) member(userID int64) (*MemberFacts, error) {
	for i := 0; i < ec.nSlots; i++ {
		if ec.slots[i].id == userID {
			return &ec.slots[i].f, nil
		}
	}
	if m, ok := ec.more[userID]; ok {
		return m, nil
	}
	facts := ec.eng.o.Facts
	if ec.mode.facts != nil {
		facts = ec.mode.facts
	}
	ec.releaseState()
	f, err := facts.Member(ec.ctx, ec.set.GuildID, userID)
	if err != nil {
		return nil, infra(fmt.Errorf("member facts %d: %w", userID, err))
	}
	if ec.nSlots < len(ec.slots) {
		s := &ec.slots[ec.nSlots]
		ec.nSlots++
		s.id, s.f = userID, f
		return &s.f, nil
	}
	if ec.more == nil {
		ec.more = make(map[int64]*MemberFacts, 2)
	}
	spilled := new(MemberFacts) // not &f: f would move to the heap on every call
	*spilled = f
	ec.more[userID] = spilled
	return spilled, nil
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
// per-effect variables. The acting member's facts are loaded only for a
// program that reads them (facts).
func (ec *evalCtx) vars(base float64, currency string, facts bool) (*activation, error) {
	if !ec.actVars {
		ec.act = activation{ev: ec.ev, zone: ec.zone, zones: ec.set.zones, quality: ec.quality}
		ec.actVars = true
	}
	if facts && ec.act.facts == nil {
		actor, err := ec.actorFacts()
		if err != nil {
			return nil, err
		}
		ec.act.facts = actor
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
	if ok, err := ec.conditions(r, r.stateless, 0); !ok || err != nil {
		return out, err
	}
	if ok, err := ec.conditions(r, r.stateful, len(r.stateless)); !ok || err != nil {
		return out, err
	}
	return ec.planEffects(r, out)
}

// conditions evaluates conds, r's conditions from index off on, and
// traces the one that stops the rule.
func (ec *evalCtx) conditions(r *CompiledRule, conds []Condition, off int) (bool, error) {
	for i, c := range conds {
		ok, err := c.Eval(ec)
		if err != nil {
			if ec.mode.trace {
				j := r.condIndex[off+i]
				ec.step(r, "failed", j, r.condTypes[j], err.Error())
			}
			return false, err
		}
		if !ok {
			if ec.mode.trace {
				j := r.condIndex[off+i]
				ec.step(r, "skipped", j, r.condTypes[j], "")
			}
			return false, nil
		}
	}
	return true, nil
}

// planEffects appends the rule's effects to out. A cap consumption queued
// while batching (see capCondition.clip) notes the credit it clips.
func (ec *evalCtx) planEffects(r *CompiledRule, out []Effect) ([]Effect, error) {
	mark := len(out)
	for i, p := range r.effects {
		ec.origin = Origin{RuleID: r.ID, RuleVersion: r.Version, Index: i, GuildID: ec.set.GuildID,
			Event: ec.ev.Name, SourceID: ec.ev.SourceID, Chain: ec.ev.Chain}
		queued := len(ec.ops)
		eff, err := p.plan(ec, &ec.origin)
		if err != nil {
			ec.step(r, "failed", -1, "", fmt.Sprintf("effects[%d]: %s", i, err))
			return out, fmt.Errorf("effects[%d]: %w", i, err)
		}
		if eff != nil {
			if len(ec.ops) > queued {
				ec.ops[len(ec.ops)-1].effect = len(out)
			}
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

// roll is the rule's random_chance roll for the event: Chance.Roll of
// idempotencyKey(rule, version, event, source, -1), the key built in a
// scratch buffer when the chance is the default hash.
func (ec *evalCtx) roll() float64 {
	h, ok := ec.eng.o.Chance.(HashChance)
	if !ok {
		b := append(ec.chanceBf[:0], ec.rule.keyPrefix...)
		b = appendKeyTail(b, ec.ev.Name, ec.ev.SourceID, -1)
		ec.releaseState()
		return ec.eng.o.Chance.Roll(string(b))
	}
	// hashRoll of the key, its event's part formatted once per event.
	if len(ec.rollTail) == 0 {
		ec.rollTail = appendKeyTail(ec.chanceBf[:0], ec.ev.Name, ec.ev.SourceID, -1)
	}
	return rollOf(fnvBytes(ec.rule.chancePrefix(h.Seed), ec.rollTail))
}

// chancePrefix is the FNV state of HashChance{Seed: seed}'s roll after the
// rule's key prefix: kept from compilation for the default seed, 0.
func (r *CompiledRule) chancePrefix(seed uint64) uint64 {
	if seed == 0 && r.chance0 != 0 {
		return r.chance0
	}
	return fnvBytes(fnvSeed(seed), r.keyPrefix)
}

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

// periodOf is the start and end of the event's day or week (periodStart,
// periodEnd), computed once per event.
func (ec *evalCtx) periodOf(period string) (start, end time.Time) {
	if period == periodWeek {
		if ec.weekStart.IsZero() {
			ec.weekStart = periodStart(ec.ev.OccurredAt, periodWeek)
			ec.weekEnd = periodEnd(ec.weekStart, periodWeek)
		}
		return ec.weekStart, ec.weekEnd
	}
	if ec.dayStart.IsZero() {
		ec.dayStart = periodStart(ec.ev.OccurredAt, periodDay)
		ec.dayEnd = periodEnd(ec.dayStart, periodDay)
	}
	return ec.dayStart, ec.dayEnd
}
