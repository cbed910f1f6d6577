package jobs

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// recordedActions is a rules.DiscordActions that keeps what it is given.
type recordedActions struct {
	mu      sync.Mutex
	actions []rules.DiscordAction
}

func (r *recordedActions) Enqueue(_ context.Context, _ int64, as []rules.DiscordAction) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.actions = append(r.actions, as...)
	return nil
}

// staticSets serves one rule set for every guild.
type staticSets struct{ set *rules.RuleSet }

func (s staticSets) Get(context.Context, int64, int64) (*rules.RuleSet, error) { return s.set, nil }

// Member facts carry the member's counters from the lake's event_counters
// (today and this ISO week, UTC), and a rule reading them sees them: the
// member who was active enough fires, the other does not.
func TestFactsCountersComeFromTheLake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	log := testenv.Logger(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	other := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tn.ID, nil)
	og := tenanttest.Guild(ctx, t, db.Bun, other.ID, nil)
	const alice, bob, stranger = int64(910000000000000001), int64(910000000000000002), int64(910000000000000003)

	now := time.Date(2026, 11, 18, 15, 0, 0, 0, time.UTC) // a Wednesday: the week began on Monday the 16th
	var low uint64
	event := func(tenantID, guildID int64, typ lake.Type, user int64, at time.Time, mod func(*lake.Event)) lake.Event {
		low++
		e := lake.Event{TenantID: tenantID, GuildID: guildID, OccurredAt: at, SourceID: lake.MintSnowflake(at, low),
			Type: typ, UserID: user, ChannelID: 5, Magnitude: 20}
		if mod != nil {
			mod(&e)
		}
		return e
	}
	msg := func(user int64, at time.Time) lake.Event {
		return event(tn.ID, g.ID, lake.MessageCreate, user, at, nil)
	}
	var events []lake.Event
	for i := range 3 {
		events = append(events, msg(alice, now.Add(-time.Duration(i)*time.Hour)))
	}
	events = append(events,
		msg(alice, now.AddDate(0, 0, -2)),                    // Monday
		msg(alice, now.AddDate(0, 0, -2).Add(-13*time.Hour)), // Monday, just after midnight
		msg(alice, now.AddDate(0, 0, -3)),                    // Sunday: last week
		msg(bob, now.Add(-time.Hour)),
		event(tn.ID, g.ID, lake.ThreadCreate, alice, now.Add(-time.Hour), nil),
		event(tn.ID, g.ID, lake.ReactionAdd, bob, now.Add(-time.Hour), func(e *lake.Event) { e.TargetID, e.Magnitude = alice, 0 }),
		event(tn.ID, g.ID, lake.VoiceLeave, alice, now.AddDate(0, 0, -1), func(e *lake.Event) { e.Magnitude = 900 }),
		event(tn.ID, g.ID, lake.VoiceLeave, alice, now.Add(-time.Hour), func(e *lake.Event) { e.Magnitude, e.Flags = 600, lake.FlagAFK }),
		event(other.ID, og.ID, lake.MessageCreate, alice, now, nil), // another tenant's guild
	)
	_, err := lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: events})
	require.NoError(t, err)

	facts := NewMemberFacts(tenants.NewStore(db.Bun), ledger.New(db, log))
	facts.now = func() time.Time { return now }
	bulk, err := facts.Members(ctx, g.ID, []int64{alice, bob, stranger}, rules.FactNeeds{Counters: true})
	require.NoError(t, err)
	require.Equal(t, map[string]float64{
		"messages_today": 3, "messages_week": 5,
		"reactions_today": 0, "reactions_week": 0,
		"reactions_received_today": 1, "reactions_received_week": 1,
		"threads_today": 1, "threads_week": 1,
		"voice_minutes_today": 0, "voice_minutes_week": 15, // the AFK stretch is not counted
	}, bulk[alice].Counters)
	require.Equal(t, 1.0, bulk[bob].Counters["messages_today"])
	require.Equal(t, 1.0, bulk[bob].Counters["reactions_week"])
	require.Len(t, bulk[stranger].Counters, 10, "every counter is there, 0")
	require.Zero(t, bulk[stranger].Counters["messages_week"])
	for _, u := range []int64{alice, bob, stranger} {
		one, err := facts.Member(ctx, g.ID, u)
		require.NoError(t, err)
		require.Equal(t, bulk[u], one, "user %d", u)
	}
	lean, err := facts.Members(ctx, g.ID, []int64{alice}, rules.FactNeeds{})
	require.NoError(t, err)
	require.Nil(t, lean[alice].Counters, "a batch whose rules read no counters does not load them")
	require.Equal(t, bulk[alice].Wallet, lean[alice].Wallet)

	// A rule reading counters, run as the pipeline runs it (facts loaded
	// for the batch in one call).
	comp, err := rules.NewCompiler(rules.NewRegistry(), rules.CompilerOptions{})
	require.NoError(t, err)
	var doc rules.Document
	require.NoError(t, json.Unmarshal([]byte(`{"name": "Regulars", "trigger": {"events": ["message_create"]},
		"conditions": [{"type": "cel", "expr": "counters.messages_today > 2.0 && counters['voice_minutes_week'] >= 15.0"}],
		"effects": [{"type": "send_message", "channel": "5", "content": "welcome back"}]}`), &doc))
	cr, err := comp.Compile(rules.Rule{ID: 1, GuildID: g.ID, Version: 1, Enabled: true, Document: doc})
	require.NoError(t, err)
	eng, err := rules.NewEngine(rules.Options{State: rules.NewMemoryState(), Facts: facts, Logger: log})
	require.NoError(t, err)
	sent := &recordedActions{}
	runner := &rules.Runner{Sets: staticSets{rules.NewRuleSet(tn.ID, g.ID, []*rules.CompiledRule{cr}, nil)}, Engine: eng, Discord: sent}
	rep, err := runner.Process(ctx, tn.ID, []rules.Event{rules.FromLake(events[0]), rules.FromLake(events[6])})
	require.NoError(t, err)
	require.Empty(t, rep.Failures)
	require.Equal(t, 1, rep.Fired, "alice's message, not bob's")
	require.Len(t, sent.actions, 1)
	require.Equal(t, events[0].SourceID, sent.actions[0].Meta().SourceID)
}
