package rules

import "encoding/json"

// ClassicKey is the Classic Gamification preset's key.
const ClassicKey = "classic"

// Classic returns the Classic Gamification preset: the v3 reward pipeline
// (zones and multipliers, quality modifiers, anti-gaming, XP, Gold and
// Stars) expressed as rules. Its behaviour is pinned by the golden files in
// testdata/classic.
//
//	message XP     10 × zone × quality per message of ≥ 5 chars, 60 s cooldown, 500/day
//	message Gold   5 × zone for messages of quality ≥ 1.5 from accounts ≥ 7 days old, 10 min cooldown, 50/day
//	reaction XP    3 × zone to the author of a reacted message (not self), ≤ 3 per reactor→author per hour, 100/day
//	thread         25 XP × zone and 1 Star per thread, 15 min cooldown
//	voice XP       2 × zone per whole non-AFK minute of each stretch of ≥ 60 s in one channel (a leave or a move ends one), 300/day
//	milestones     every XP credit asks the milestone engine to check; an awarded milestone pays its Stars
func Classic() Preset {
	t := func(b bool) *bool { return &b }
	return Preset{
		Key:  ClassicKey,
		Name: "Classic Gamification",
		Zones: []Zone{
			{Name: "general", Multipliers: map[string]float64{"xp": 1, "gold": 1}},
			{Name: "help", Multipliers: map[string]float64{"xp": 1.5, "gold": 2}},
			{Name: "showcase", Multipliers: map[string]float64{"xp": 1.25, "gold": 1.5}},
			{Name: "off-topic", Multipliers: map[string]float64{"xp": 0.5, "gold": 0}},
		},
		Rules: []Document{
			{
				Key: "classic.message_xp", Name: "XP for messages", Module: ClassicKey, Group: "xp", Priority: 100, Enabled: t(true),
				Trigger: Trigger{Events: []string{"message_create"}},
				Conditions: []ConditionSpec{
					cond(CondNotBot, nil),
					cond(CondMinLength, map[string]any{"chars": 5}),
					cond(CondCooldown, map[string]any{"seconds": 60}),
					cond(CondCap, map[string]any{"currency": "xp", "limit": 500, "period": "day"}),
				},
				Effects: []EffectSpec{eff(EffectCredit, map[string]any{"currency": "xp", "base": 10, "amount": "base * zone.multiplier * quality"})},
			},
			{
				Key: "classic.message_gold", Name: "Gold for quality messages", Module: ClassicKey, Group: "gold", Priority: 90,
				Trigger: Trigger{Events: []string{"message_create"}},
				Conditions: []ConditionSpec{
					cond(CondNotBot, nil),
					cond(CondMinQuality, map[string]any{"score": 1.5}),
					cond(CondAccountAge, map[string]any{"min_days": 7}),
					cond(CondCooldown, map[string]any{"seconds": 600}),
					cond(CondCap, map[string]any{"currency": "gold", "limit": 50, "period": "day"}),
				},
				Effects: []EffectSpec{eff(EffectCredit, map[string]any{"currency": "gold", "base": 5, "amount": "base * zone.multiplier"})},
			},
			{
				Key: "classic.reaction_xp", Name: "XP for reactions received", Module: ClassicKey, Group: "xp", Priority: 80,
				Trigger: Trigger{Events: []string{"reaction_add"}},
				Conditions: []ConditionSpec{
					cond(CondNotBot, nil),
					cond(CondCEL, map[string]any{"expr": "event.target_id != 0 && event.target_id != event.user_id"}),
					cond(CondReactionVelocity, map[string]any{"limit": 3, "window_seconds": 3600}),
					cond(CondCap, map[string]any{"currency": "xp", "limit": 100, "period": "day"}),
				},
				Effects: []EffectSpec{eff(EffectCredit, map[string]any{"currency": "xp", "base": 3, "amount": "base * zone.multiplier", "to": "target"})},
			},
			{
				Key: "classic.thread", Name: "XP and a Star for starting threads", Module: ClassicKey, Group: "xp", Priority: 70,
				Trigger: Trigger{Events: []string{"thread_create"}},
				Conditions: []ConditionSpec{
					cond(CondNotBot, nil),
					cond(CondCooldown, map[string]any{"seconds": 900}),
				},
				Effects: []EffectSpec{
					eff(EffectCredit, map[string]any{"currency": "xp", "base": 25, "amount": "base * zone.multiplier"}),
					eff(EffectCredit, map[string]any{"currency": "stars", "base": 1, "amount": "base"}),
				},
			},
			{
				Key: "classic.voice_xp", Name: "XP for voice minutes", Module: ClassicKey, Group: "xp", Priority: 60,
				Trigger: Trigger{Events: []string{"voice_leave", "voice_move"}},
				Conditions: []ConditionSpec{
					cond(CondNotBot, nil),
					cond(CondVoiceNotAFK, map[string]any{"min_seconds": 60}),
					cond(CondCap, map[string]any{"currency": "xp", "limit": 300, "period": "day"}),
				},
				Effects: []EffectSpec{eff(EffectCredit, map[string]any{"currency": "xp", "base": 2, "amount": "base * math.floor(event.duration / 60.0) * zone.multiplier"})},
			},
			{
				Key: "classic.milestone_check", Name: "Check milestones on XP", Module: ClassicKey, Group: "milestones", Priority: 10,
				Trigger:    Trigger{Events: []string{EventLedgerCredited}},
				Conditions: []ConditionSpec{cond(CondCEL, map[string]any{"expr": "event.data.currency == 'xp'"})},
				Effects:    []EffectSpec{eff(EffectMilestoneCheck, nil)},
			},
			{
				Key: "classic.milestone_stars", Name: "Stars for milestones", Module: ClassicKey, Group: "stars", Priority: 10,
				Trigger: Trigger{Events: []string{EventMilestoneAwarded}},
				Effects: []EffectSpec{eff(EffectCredit, map[string]any{"currency": "stars", "base": 1, "amount": "has(event.data.stars) ? event.data.stars : base"})},
			},
		},
	}
}

func cond(typ string, params map[string]any) ConditionSpec {
	return ConditionSpec{Type: typ, Params: mustParams(params)}
}

func eff(typ string, params map[string]any) EffectSpec {
	return EffectSpec{Type: typ, Params: mustParams(params)}
}

// mustParams marshals params built here from plain maps, which cannot fail.
func mustParams(params map[string]any) json.RawMessage {
	if params == nil {
		return nil
	}
	b, err := json.Marshal(params)
	if err != nil {
		panic(err)
	}
	return b
}
