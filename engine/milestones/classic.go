package milestones

import (
	"context"
	"errors"
	"fmt"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// classicStars is what each rarity pays in Stars (the v3 achievements).
var classicStars = map[string]int64{Common: 1, Uncommon: 2, Rare: 3, Epic: 5, Legendary: 10}

// Classic returns the Classic preset's milestones: the v3 achievements,
// now over the ledger (xp, stars) and the lake's counters. Every one pays
// Stars by rarity and is announced.
func Classic() []Template {
	ev := func(event string, min int64) Requirement { return Requirement{Type: ReqEvents, Event: event, Min: min} }
	ts := []Template{
		{Key: "first_message", Name: "First Words", Description: "Send your first message", Emoji: "💬", Rarity: Common,
			Requirement: ev("message_create", 1)},
		{Key: "messages_100", Name: "Chatterbox", Description: "Send 100 messages", Emoji: "🗨️", Rarity: Uncommon,
			Requirement: ev("message_create", 100)},
		{Key: "messages_1000", Name: "Pillar of the Community", Description: "Send 1,000 messages", Emoji: "🏛️", Rarity: Rare,
			Requirement: ev("message_create", 1000)},
		{Key: "first_reaction", Name: "Reactor", Description: "React to a message for the first time", Emoji: "👍", Rarity: Common,
			Requirement: ev("reaction_add", 1)},
		{Key: "first_reaction_received", Name: "Appreciated", Description: "Receive your first reaction from another member", Emoji: "💖", Rarity: Common,
			Requirement: ev("reaction_received", 1)},
		{Key: "helpful_answers", Name: "Helping Hand", Description: "Post 25 messages in the help zone", Emoji: "🤝", Rarity: Rare,
			Requirement: Requirement{Type: ReqEvents, Event: "message_create", Zone: "help", Min: 25}},
		{Key: "thread_starter", Name: "Thread Starter", Description: "Start 5 threads", Emoji: "🧵", Rarity: Uncommon,
			Requirement: ev("thread_create", 5)},
		{Key: "voice_regular", Name: "Voice Regular", Description: "Spend 10 hours in voice (not AFK)", Emoji: "🎙️", Rarity: Uncommon,
			Requirement: Requirement{Type: ReqVoiceMinutes, Min: 600}},
		{Key: "streak_7", Name: "On a Roll", Description: "Be active 7 days in a row", Emoji: "🔥", Rarity: Rare,
			Requirement: Requirement{Type: ReqStreak, Days: 7}},
		{Key: "streak_30", Name: "Unstoppable", Description: "Be active 30 days in a row", Emoji: "☄️", Rarity: Epic,
			Requirement: Requirement{Type: ReqStreak, Days: 30}},
		{Key: "season_top_10", Name: "Season Top 10", Description: "Reach the top 10 in Stars this season", Emoji: "🏆", Rarity: Epic,
			Scope: ScopeSeasonal,
			Requirement: Requirement{All: []Requirement{
				{Type: ReqRank, Currency: "stars", Top: 10},
				{Type: ReqCurrency, Currency: "stars", Min: 1},
			}}},
		{Key: "xp_1000", Name: "Rising Star", Description: "Earn 1,000 XP", Emoji: "✨", Rarity: Uncommon,
			Requirement: Requirement{Type: ReqCurrency, Currency: "xp", Field: "lifetime", Min: 1000}},
		{Key: "veteran", Name: "Veteran", Description: "Be a member for a year", Emoji: "🎖️", Rarity: Rare,
			Requirement: Requirement{Type: ReqMemberDays, Min: 365}},
		{Key: "busy_week", Name: "Busy Week", Description: "Send 50 messages within 7 days", Emoji: "📅", Rarity: Common,
			Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 50, WindowDays: 7}},
		{Key: "regular_contributor", Name: "Regular Contributor", Description: "Every 500 messages", Emoji: "📈", Rarity: Common,
			Repeatable: true, Requirement: ev("message_create", 500)},
		{Key: "completionist", Name: "Completionist", Description: "Earn the big four", Emoji: "👑", Rarity: Legendary, Hidden: true,
			Requirement: Requirement{Type: ReqMilestones, Keys: []string{"messages_1000", "helpful_answers", "voice_regular", "streak_30"}}},
	}
	for i := range ts {
		ts[i].Rewards = []Reward{
			{Type: RewardCurrency, Currency: "stars", Amount: classicStars[ts[i].Rarity]},
			{Type: RewardAnnounce, DM: ts[i].Rarity == Legendary},
		}
	}
	return ts
}

// InstallClassic installs the Classic currencies (through the ledger's
// preset, itself idempotent) and the Classic milestones a guild does not
// have yet, by key; running it again changes nothing. Each creation is
// audited. It returns the templates it created.
func (m *Milestones) InstallClassic(ctx context.Context, actor tenants.Actor, guildID int64) ([]Template, error) {
	if _, err := m.led.InstallPreset(ctx, actor, guildID, ledger.PresetClassic); err != nil {
		return nil, fmt.Errorf("milestones: classic currencies: %w", err)
	}
	var out []Template
	for _, t := range Classic() {
		t.GuildID = guildID
		if _, err := m.GetByKey(ctx, guildID, t.Key); err == nil {
			continue
		} else if !errors.Is(err, apperr.ErrNotFound) {
			return out, err
		}
		made, err := m.Create(ctx, actor, t)
		if errors.Is(err, apperr.ErrConflict) {
			continue // a concurrent install created it
		}
		if err != nil {
			return out, fmt.Errorf("milestones: classic %s: %w", t.Key, err)
		}
		out = append(out, made)
	}
	return out, nil
}
