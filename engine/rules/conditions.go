package rules

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/apperr"
)

// Condition type ids. They are stored in rule documents: never rename one
// (add an alias with Registry.Alias instead).
const (
	CondChannelInZone    = "channel_in_zone"
	CondHasRole          = "has_role"
	CondLacksRole        = "lacks_role"
	CondNotBot           = "not_bot"
	CondCooldown         = "cooldown"
	CondCap              = "cap"
	CondMinLength        = "min_length"
	CondMinQuality       = "min_quality"
	CondAccountAge       = "account_age"
	CondMemberAge        = "member_age"
	CondTimeWindow       = "time_window"
	CondRandomChance     = "random_chance"
	CondReactionVelocity = "reaction_velocity"
	CondVoiceNotAFK      = "voice_not_afk"
	CondCEL              = "cel"
)

func builtinConditions() []ConditionType {
	return []ConditionType{
		{ID: CondChannelInZone, Summary: "the event's channel is in one of the zones (or in none of them with invert)", Compile: compileChannelInZone},
		{ID: CondHasRole, Summary: "the acting member has any (or all) of the roles", Compile: compileRoles(true)},
		{ID: CondLacksRole, Summary: "the acting member has none of the roles", Compile: compileRoles(false)},
		{ID: CondNotBot, Summary: "the acting user is not a bot", Compile: compileNotBot},
		{ID: CondCooldown, Summary: "the rule fired for this user (channel, guild) no more than once per window", Compile: compileCooldown},
		{ID: CondCap, Summary: "a daily or weekly cap on what the rule (or all capped rules) credits of a currency", Compile: compileCap},
		{ID: CondMinLength, Summary: "the message has at least N characters", Compile: compileMinLength},
		{ID: CondMinQuality, Summary: "the message's quality score is at least S", Compile: compileMinQuality},
		{ID: CondAccountAge, Summary: "the Discord account is at least N days old", Compile: compileAge(false)},
		{ID: CondMemberAge, Summary: "the member joined the guild at least N days ago", Compile: compileAge(true)},
		{ID: CondTimeWindow, Summary: "the event happened within hours and weekdays in a time zone", Compile: compileTimeWindow},
		{ID: CondRandomChance, Summary: "passes with a probability (the same event always rolls the same)", Compile: compileRandomChance},
		{ID: CondReactionVelocity, Summary: "no more than N reactions from one member to one author per window", Compile: compileReactionVelocity},
		{ID: CondVoiceNotAFK, Summary: "the voice session was not AFK (and lasted at least N seconds)", Compile: compileVoiceNotAFK},
		{ID: CondCEL, Summary: "a CEL boolean over event, member, zone, wallet, counters and quality", Compile: compileCELCondition},
	}
}

type condFunc func(ec *evalCtx) (bool, error)

func (f condFunc) Eval(ec *evalCtx) (bool, error) { return f(ec) }

// --- channel_in_zone

func compileChannelInZone(cc *compileCtx, raw []byte, path string) (Condition, error) {
	var p struct {
		Zones  []string `json:"zones"`
		Invert bool     `json:"invert"`
	}
	if err := decodeParams(raw, &p, path); err != nil {
		return nil, err
	}
	if len(p.Zones) == 0 {
		return nil, apperr.Invalid(path+".zones", "must name at least one zone")
	}
	for i, z := range p.Zones {
		if strings.TrimSpace(z) == "" || len(z) > 64 {
			return nil, apperr.Invalid(idx(path+".zones", i), "must be a zone name of 1 to 64 characters")
		}
	}
	for i, z := range p.Zones {
		cc.zoneRefs = append(cc.zoneRefs, zoneRef{name: z, path: idx(path+".zones", i)})
	}
	zones, invert := p.Zones, p.Invert
	return condFunc(func(ec *evalCtx) (bool, error) {
		in := ec.zone != nil && contains(zones, ec.zone.Name)
		return in != invert, nil
	}), nil
}

// --- has_role / lacks_role

func compileRoles(has bool) func(*compileCtx, []byte, string) (Condition, error) {
	return func(cc *compileCtx, raw []byte, path string) (Condition, error) {
		var p struct {
			Roles []Snowflake `json:"roles"`
			All   bool        `json:"all"`
		}
		if err := decodeParams(raw, &p, path); err != nil {
			return nil, err
		}
		if len(p.Roles) == 0 {
			return nil, apperr.Invalid(path+".roles", "must list at least one role")
		}
		if !has && p.All {
			return nil, apperr.Invalid(path+".all", "does not apply to lacks_role")
		}
		for i, r := range p.Roles {
			if r <= 0 {
				return nil, apperr.Invalid(idx(path+".roles", i), "must be a role id")
			}
		}
		roles, all := p.Roles, p.All
		cc.needsFacts = true
		return condFunc(func(ec *evalCtx) (bool, error) {
			m, err := ec.actorFacts()
			if err != nil {
				return false, err
			}
			n := 0
			for _, r := range roles {
				if m.HasRole(int64(r)) {
					n++
				}
			}
			switch {
			case !has:
				return n == 0, nil
			case all:
				return n == len(roles), nil
			default:
				return n > 0, nil
			}
		}), nil
	}
}

// --- not_bot

func compileNotBot(cc *compileCtx, raw []byte, path string) (Condition, error) {
	var p struct{}
	if err := decodeParams(raw, &p, path); err != nil {
		return nil, err
	}
	cc.needsFacts = true
	return condFunc(func(ec *evalCtx) (bool, error) {
		if ec.ev.Flags&lake.FlagBot != 0 {
			return false, nil
		}
		m, err := ec.actorFacts()
		if err != nil {
			return false, err
		}
		return !m.Bot, nil
	}), nil
}

// --- min_length, min_quality

func compileMinLength(cc *compileCtx, raw []byte, path string) (Condition, error) {
	var p struct {
		Chars int64 `json:"chars"`
	}
	if err := decodeParams(raw, &p, path); err != nil {
		return nil, err
	}
	if p.Chars < 1 || p.Chars > 4000 {
		return nil, apperr.Invalid(path+".chars", "must be between 1 and 4000")
	}
	if err := cc.requireTriggers(path, CondMinLength, "message_create"); err != nil {
		return nil, err
	}
	n := p.Chars
	return condFunc(func(ec *evalCtx) (bool, error) { return ec.ev.Magnitude >= n, nil }), nil
}

func compileMinQuality(cc *compileCtx, raw []byte, path string) (Condition, error) {
	var p struct {
		Score float64 `json:"score"`
	}
	if err := decodeParams(raw, &p, path); err != nil {
		return nil, err
	}
	if p.Score <= 0 || p.Score > 10 {
		return nil, apperr.Invalid(path+".score", "must be above 0 and at most 10")
	}
	if err := cc.requireTriggers(path, CondMinQuality, "message_create"); err != nil {
		return nil, err
	}
	s := p.Score
	return condFunc(func(ec *evalCtx) (bool, error) { return ec.quality >= s, nil }), nil
}

// --- account_age / member_age

func compileAge(membership bool) func(*compileCtx, []byte, string) (Condition, error) {
	return func(cc *compileCtx, raw []byte, path string) (Condition, error) {
		var p struct {
			MinDays float64 `json:"min_days"`
		}
		if err := decodeParams(raw, &p, path); err != nil {
			return nil, err
		}
		if p.MinDays <= 0 || p.MinDays > 3650 {
			return nil, apperr.Invalid(path+".min_days", "must be above 0 and at most 3650")
		}
		min := time.Duration(p.MinDays * float64(24*time.Hour))
		cc.needsFacts = true
		return condFunc(func(ec *evalCtx) (bool, error) {
			m, err := ec.actorFacts()
			if err != nil {
				return false, err
			}
			if !membership {
				return accountAge(m, ec.ev.OccurredAt) >= min, nil
			}
			return !m.JoinedAt.IsZero() && memberAge(m, ec.ev.OccurredAt) >= min, nil
		}), nil
	}
}

// --- time_window

var weekdayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

func compileTimeWindow(cc *compileCtx, raw []byte, path string) (Condition, error) {
	var p struct {
		From     string   `json:"from"`
		To       string   `json:"to"`
		Weekdays []string `json:"weekdays"`
		TZ       string   `json:"tz"`
	}
	if err := decodeParams(raw, &p, path); err != nil {
		return nil, err
	}
	loc := time.UTC
	if p.TZ != "" {
		l, err := time.LoadLocation(p.TZ)
		if err != nil {
			return nil, apperr.Invalid(path+".tz", "unknown time zone %q", p.TZ)
		}
		loc = l
	}
	from, to := -1, -1
	if p.From != "" || p.To != "" {
		var err error
		if from, err = clockMinutes(p.From); err != nil {
			return nil, apperr.Invalid(path+".from", "must be HH:MM")
		}
		if to, err = clockMinutes(p.To); err != nil {
			return nil, apperr.Invalid(path+".to", "must be HH:MM")
		}
		if from == to {
			return nil, apperr.Invalid(path+".to", "must differ from from")
		}
	}
	var days [7]bool
	for i, d := range p.Weekdays {
		wd, ok := weekdayNames[strings.ToLower(d)]
		if !ok {
			return nil, apperr.Invalid(idx(path+".weekdays", i), "must be one of mon, tue, wed, thu, fri, sat, sun")
		}
		days[wd] = true
	}
	if from < 0 && len(p.Weekdays) == 0 {
		return nil, apperr.Invalid(path, "must set from/to, weekdays, or both")
	}
	anyDay := len(p.Weekdays) == 0
	return condFunc(func(ec *evalCtx) (bool, error) {
		t := ec.ev.OccurredAt.In(loc)
		if !anyDay && !days[t.Weekday()] {
			return false, nil
		}
		if from < 0 {
			return true, nil
		}
		m := t.Hour()*60 + t.Minute()
		if from < to {
			return m >= from && m < to, nil
		}
		return m >= from || m < to, nil // window over midnight
	}), nil
}

func clockMinutes(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, strconv.ErrSyntax
	}
	return hh*60 + mm, nil
}

// --- random_chance

func compileRandomChance(cc *compileCtx, raw []byte, path string) (Condition, error) {
	var p struct {
		Probability float64 `json:"probability"`
	}
	if err := decodeParams(raw, &p, path); err != nil {
		return nil, err
	}
	if p.Probability <= 0 || p.Probability > 1 || math.IsNaN(p.Probability) {
		return nil, apperr.Invalid(path+".probability", "must be above 0 and at most 1")
	}
	prob := p.Probability
	return condFunc(func(ec *evalCtx) (bool, error) {
		return ec.roll() < prob, nil
	}), nil
}

// --- voice_not_afk

func compileVoiceNotAFK(cc *compileCtx, raw []byte, path string) (Condition, error) {
	var p struct {
		MinSeconds int64 `json:"min_seconds"`
	}
	if err := decodeParams(raw, &p, path); err != nil {
		return nil, err
	}
	if p.MinSeconds < 0 || p.MinSeconds > 86400 {
		return nil, apperr.Invalid(path+".min_seconds", "must be between 0 and 86400")
	}
	if err := cc.requireTriggers(path, CondVoiceNotAFK, "voice_join", "voice_move", "voice_leave"); err != nil {
		return nil, err
	}
	minS := p.MinSeconds
	return condFunc(func(ec *evalCtx) (bool, error) {
		if ec.ev.Flags&lake.FlagAFK != 0 {
			return false, nil
		}
		// A leave or a move closes a stretch (Magnitude seconds): a session
		// with moves earns per stretch, each long enough on its own.
		return ec.ev.Name == "voice_join" || ec.ev.Magnitude >= minS, nil
	}), nil
}

// --- cel

func compileCELCondition(cc *compileCtx, raw []byte, path string) (Condition, error) {
	var p struct {
		Expr string `json:"expr"`
	}
	if err := decodeParams(raw, &p, path); err != nil {
		return nil, err
	}
	prg, err := cc.cel(p.Expr, path+".expr", celBool)
	if err != nil {
		return nil, err
	}
	return condFunc(func(ec *evalCtx) (bool, error) {
		act, err := ec.vars(0, "", prg.facts)
		if err != nil {
			return false, err
		}
		return prg.evalBool(act)
	}), nil
}
