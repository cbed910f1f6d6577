package milestones

import (
	"fmt"
	"iter"
	"math"
	"time"

	"github.com/synapsehq/synapse/engine/lake"
)

// counterRow is one member's counters for (type, channel, day); Day is
// oldDay for the rows older than any window needs, summed together.
type counterRow struct {
	typ     lake.Type
	channel int64
	day     Day
	events  int64
	mag     int64
}

const oldDay Day = math.MinInt32

type walletVals struct{ balance, lifetime int64 }

// awardSlots is what a member holds of one template in the current scope.
type awardSlots struct {
	taken  int // slots used, revoked ones included
	active int // not revoked
}

// memberState is everything the templates read about one member, loaded
// once per check.
type memberState struct {
	now        time.Time
	localToday Day // in the guild's time zone
	utcToday   Day
	loc        *time.Location

	cache *counterCache
	// activity memoises active days by streak definition.
	activity map[string]func(Day) bool
	// unscoped memoises lifetime-scope totals: events by type over all
	// channels and days, and non-AFK voice seconds (-1: not computed).
	unscoped    map[lake.Type]int64
	voiceLife   int64
	voiceLifeOK bool

	// closed rows come from the counter cache (shared between checks:
	// read only), live rows from this check's read of the live days.
	closed, live map[lake.Type][]counterRow
	wallets      map[int64]walletVals
	joinedAt     time.Time
	member       bool
	flags        int32
	roles        []int64
	ranks        map[int64]int64 // currency id → live rank (1 = first), loaded when a template needs it

	seasonID    int64 // 0: no season running
	seasonStart Day
	afk         map[int64]bool

	slots     map[int64]awardSlots // by template id, in the template's scope
	earnedIDs []int64              // templates with an active award (any scope)
	awardRows int
	earned    map[string]bool // template keys with an active award (any scope)

	celVars map[string]any // built on first CEL use
	set     *guildSet
}

// result is a node's evaluation: progress toward it and how many times it
// is met (repeatable milestones earn once per multiple of the threshold).
type result struct {
	current, target float64
	unit            string
	met             bool
	times           int
}

func (s *memberState) seasonal(c *compiled) bool { return c.t.Scope == ScopeSeasonal }

// sinceDay is the first counter day a leaf counts.
func (s *memberState) sinceDay(c *compiled, window int) Day {
	from := oldDay
	if window > 0 {
		from = s.utcToday - Day(window) + 1
	}
	if s.seasonal(c) && s.seasonStart > from {
		from = s.seasonStart
	}
	return from
}

func (s *memberState) eval(c *compiled, n *node) (result, error) {
	switch n.kind {
	case "all", "any":
		r := result{target: float64(len(n.children)), unit: "requirements", met: !n.any}
		if n.any {
			r.times = 0
		} else {
			r.times = math.MaxInt
		}
		var only result
		for _, ch := range n.children {
			cr, err := s.eval(c, ch)
			if err != nil {
				return result{}, err
			}
			only = cr
			if cr.met {
				r.current++
			}
			if n.any {
				r.met = r.met || cr.met
				r.times = max(r.times, cr.times)
			} else {
				r.met = r.met && cr.met
				r.times = min(r.times, cr.times)
			}
		}
		if len(n.children) == 1 {
			only.met, only.times = r.met, r.times
			return only, nil
		}
		if n.any && r.met {
			r.current = r.target
		}
		return r, nil
	case ReqCurrency:
		w := s.wallets[n.currencyID]
		v := w.balance
		if n.lifetime {
			v = w.lifetime
		}
		return threshold(float64(v), float64(n.min), s.set.currencyCodes[n.currencyID]), nil
	case ReqEvents:
		return threshold(float64(s.countEvents(c, n)), float64(n.min), eventUnit(n.types[0])), nil
	case ReqVoiceMinutes:
		return threshold(float64(s.voiceSeconds(c)/60), float64(n.min), "voice minutes"), nil
	case ReqMemberDays:
		return threshold(float64(s.memberDays()), float64(n.min), "days"), nil
	case ReqStreak:
		return threshold(float64(CurrentStreak(s.activeDays(n), s.localToday)), float64(n.days), "days"), nil
	case ReqRole:
		met := false
		for _, r := range s.roles {
			met = met || r == n.roleID
		}
		return boolResult(met, "role"), nil
	case ReqMilestones:
		have := 0
		for _, k := range n.keys {
			if s.earned[k] {
				have++
			}
		}
		r := threshold(float64(have), float64(len(n.keys)), "milestones")
		r.times = min(r.times, 1)
		return r, nil
	case ReqRank:
		rank := s.ranks[n.currencyID] // 0: unranked, -1: outside the places counted
		r := result{current: float64(rank), target: float64(n.top), unit: "rank", met: rank >= 1 && rank <= int64(n.top)}
		if r.met {
			r.times = 1
		}
		return r, nil
	case ReqCEL:
		ok, err := evalCEL(n.prg, s.celVariables(c))
		if err != nil {
			ok = false // a missing key reads as not met
		}
		return boolResult(ok, "condition"), nil
	}
	return result{}, fmt.Errorf("milestones: unknown node kind %q", n.kind)
}

func threshold(cur, target float64, unit string) result {
	r := result{current: cur, target: target, unit: unit, met: cur >= target}
	if target > 0 && cur >= target {
		r.times = int(cur / target)
	}
	return r
}

func boolResult(met bool, unit string) result {
	r := result{target: 1, unit: unit, met: met}
	if met {
		r.current, r.times = 1, 1
	}
	return r
}

func eventUnit(t lake.Type) string {
	switch t {
	case lake.MessageCreate:
		return "messages"
	case lake.ReactionAdd:
		return "reactions"
	case lake.ThreadCreate:
		return "threads"
	}
	return t.String() + " events"
}

// rowsOf yields a type's counter rows, cached days then live days.
func (s *memberState) rowsOf(t lake.Type) iter.Seq[counterRow] {
	return func(yield func(counterRow) bool) {
		for _, r := range s.closed[t] {
			if !yield(r) {
				return
			}
		}
		for _, r := range s.live[t] {
			if !yield(r) {
				return
			}
		}
	}
}

func (s *memberState) countEvents(c *compiled, n *node) int64 {
	plain := n.windowDays == 0 && n.channelID == 0 && n.zone == "" && !s.seasonal(c)
	if plain {
		if v, ok := s.unscoped[n.types[0]]; ok {
			return v
		}
	}
	from := s.sinceDay(c, n.windowDays)
	var total int64
	for r := range s.rowsOf(n.types[0]) {
		if r.day < from {
			continue
		}
		if n.channelID != 0 && r.channel != n.channelID {
			continue
		}
		if n.zone != "" && !n.channels[r.channel] {
			continue
		}
		total += r.events
	}
	if plain {
		if s.unscoped == nil {
			s.unscoped = map[lake.Type]int64{}
		}
		s.unscoped[n.types[0]] = total
	}
	return total
}

func (s *memberState) voiceSeconds(c *compiled) int64 {
	if !s.seasonal(c) && s.voiceLifeOK {
		return s.voiceLife
	}
	// voice_active holds only stretches that were not AFK when they ended
	// (AFK channel, excluded channel, muted and deafened throughout), on
	// the channel they were spent in; a channel the operator excluded
	// since is left out too.
	from := s.sinceDay(c, 0)
	var secs int64
	for r := range s.rowsOf(lake.VoiceActive) {
		if r.day >= from && !s.afk[r.channel] {
			secs += r.mag
		}
	}
	if !s.seasonal(c) {
		s.voiceLife, s.voiceLifeOK = secs, true
	}
	return secs
}

func (s *memberState) memberDays() int64 {
	if s.joinedAt.IsZero() || s.now.Before(s.joinedAt) {
		return 0
	}
	return int64(s.now.Sub(s.joinedAt) / (24 * time.Hour))
}

// activeDays says which guild-local dates count for a streak definition,
// memoised per definition; days before the counters' cutoff read as
// inactive. A local date is at most a day either side of UTC's.
func (s *memberState) activeDays(n *node) func(Day) bool {
	if a, ok := s.activity[n.activityKey]; ok {
		return a
	}
	base := s.utcToday - Day(s.set.oldestDay) - 1
	perDay := make([]int64, s.set.oldestDay+4)
	for _, t := range n.types {
		for r := range s.rowsOf(activeType(t)) {
			if i := int(r.day - base); r.day != oldDay && i >= 0 && i < len(perDay) {
				perDay[i] += r.events
			}
		}
	}
	active := func(d Day) bool {
		i := int(d - base)
		return i >= 0 && i < len(perDay) && perDay[i] >= n.minEvents
	}
	if s.activity == nil {
		s.activity = map[string]func(Day) bool{}
	}
	s.activity[n.activityKey] = active
	return active
}

func (s *memberState) celVariables(c *compiled) map[string]any {
	// Scope matters for events and voice: seasonal templates get their own view.
	if s.celVars != nil && !s.seasonal(c) {
		return s.celVars
	}
	wallet, lifetime := map[string]float64{}, map[string]float64{}
	for code, id := range s.set.currencies {
		w := s.wallets[id]
		wallet[code], lifetime[code] = float64(w.balance), float64(w.lifetime)
	}
	from := s.sinceDay(c, 0)
	events := map[string]float64{}
	for _, t := range lake.CounterTypes {
		var n int64
		for r := range s.rowsOf(t) {
			if r.day >= from {
				n += r.events
			}
		}
		events[t.String()] = float64(n)
	}
	earned := make([]string, 0, len(s.earned))
	for k := range s.earned {
		earned = append(earned, k)
	}
	streak := CurrentStreak(s.activeDays(defaultStreak), s.localToday)
	vars := map[string]any{
		"wallet": wallet, "lifetime": lifetime, "events": events,
		"voice_minutes": float64(s.voiceSeconds(c) / 60), "member_days": float64(s.memberDays()),
		"streak": float64(streak), "roles": s.roles, "milestones": earned,
	}
	if !s.seasonal(c) {
		s.celVars = vars
	}
	return vars
}
