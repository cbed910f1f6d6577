package milestones

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
)

// TestRequirementKinds checks every leaf kind on a member who meets it and
// on one who falls just short, through Check (awarding) and Progress.
func TestRequirementKinds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	today := now.UTC()
	const chHelp, chOther, chAFK = 501, 502, 503
	roles := staticRoles{}
	b.svc.Roles = roles

	type fixture func(t *testing.T, g, u int64, meet bool)
	n := func(meet bool, yes, no int64) int64 {
		if meet {
			return yes
		}
		return no
	}
	cases := []struct {
		name  string
		req   Requirement
		data  fixture
		label string // progress label of the member who meets it
	}{
		{name: "currency balance", req: Requirement{Type: ReqCurrency, Currency: "gold", Min: 100},
			data: func(t *testing.T, g, u int64, meet bool) { b.credit(t, g, u, "gold", n(meet, 100, 99)) }, label: "100/100 gold"},
		{name: "currency lifetime earned survives spending", req: Requirement{Type: ReqCurrency, Currency: "gold", Field: "lifetime", Min: 100},
			data: func(t *testing.T, g, u int64, meet bool) {
				b.credit(t, g, u, "gold", n(meet, 100, 99))
				_, err := b.led.Debit(b.ctx, ledgerDebit(g, u, "gold", 90))
				require.NoError(t, err)
			}, label: "100/100 gold"},
		{name: "event count all time", req: Requirement{Type: ReqEvents, Event: "message_create", Min: 10},
			data: func(t *testing.T, g, u int64, meet bool) {
				b.count(t, g, u, today.AddDate(0, 0, -400), lake.MessageCreate, chOther, 6, 0)
				b.count(t, g, u, today, lake.MessageCreate, chHelp, n(meet, 4, 3), 0)
				b.count(t, g, u, today, lake.ReactionAdd, chHelp, 50, 0) // another type does not count
			}, label: "10/10 messages"},
		{name: "event count in a channel", req: Requirement{Type: ReqEvents, Event: "message_create", ChannelID: chHelp, Min: 5},
			data: func(t *testing.T, g, u int64, meet bool) {
				b.count(t, g, u, today, lake.MessageCreate, chHelp, n(meet, 5, 4), 0)
				b.count(t, g, u, today, lake.MessageCreate, chOther, 100, 0)
			}, label: "5/5 messages"},
		{name: "event count in a zone", req: Requirement{Type: ReqEvents, Event: "message_create", Zone: "help", Min: 5},
			data: func(t *testing.T, g, u int64, meet bool) {
				_, err := b.db.Pool.Exec(b.ctx, `INSERT INTO rule_zones (tenant_id, guild_id, name, channels) VALUES ($1, $2, 'help', ARRAY[$3::bigint]) ON CONFLICT DO NOTHING`, b.tenant, g, chHelp)
				require.NoError(t, err)
				b.count(t, g, u, today.AddDate(0, 0, -30), lake.MessageCreate, chHelp, n(meet, 5, 4), 0)
				b.count(t, g, u, today, lake.MessageCreate, chOther, 100, 0)
			}, label: "5/5 messages"},
		{name: "event count within a window", req: Requirement{Type: ReqEvents, Event: "thread_create", WindowDays: 7, Min: 3},
			data: func(t *testing.T, g, u int64, meet bool) {
				b.count(t, g, u, today.AddDate(0, 0, -6), lake.ThreadCreate, chOther, n(meet, 2, 1), 0) // first day of the window
				b.count(t, g, u, today, lake.ThreadCreate, chOther, 1, 0)
				b.count(t, g, u, today.AddDate(0, 0, -7), lake.ThreadCreate, chOther, 10, 0) // just outside
			}, label: "3/3 threads"},
		{name: "streak of active days", req: Requirement{Type: ReqStreak, Days: 3},
			data: func(t *testing.T, g, u int64, meet bool) {
				b.count(t, g, u, today.AddDate(0, 0, -1), lake.MessageCreate, chOther, 1, 0)
				b.count(t, g, u, today.AddDate(0, 0, -2), lake.ReactionAdd, chOther, 1, 0)
				if meet {
					b.count(t, g, u, today.AddDate(0, 0, -3), lake.ThreadCreate, chOther, 1, 0)
				} else {
					b.count(t, g, u, today.AddDate(0, 0, -4), lake.MessageCreate, chOther, 1, 0) // a gap
				}
			}, label: "3/3 days"},
		{name: "streak with configured activity", req: Requirement{Type: ReqStreak, Days: 2, Active: &ActiveDay{Events: []string{"message_create"}, MinEvents: 5}},
			data: func(t *testing.T, g, u int64, meet bool) {
				b.count(t, g, u, today, lake.MessageCreate, chOther, 5, 0)
				b.count(t, g, u, today.AddDate(0, 0, -1), lake.MessageCreate, chOther, n(meet, 5, 4), 0)
				b.count(t, g, u, today.AddDate(0, 0, -1), lake.ReactionAdd, chOther, 50, 0) // not an activity here
			}, label: "2/2 days"},
		{name: "non-AFK voice minutes", req: Requirement{Type: ReqVoiceMinutes, Min: 60},
			data: func(t *testing.T, g, u int64, meet bool) {
				b.count(t, g, u, today, lake.VoiceActive, chOther, 1, 1800)
				b.count(t, g, u, today, lake.VoiceActive, chOther, 1, n(meet, 1800, 1799))
				b.count(t, g, u, today, lake.VoiceActive, chAFK, 1, 100000)  // a channel excluded (settings) since
				b.count(t, g, u, today, lake.VoiceActive, 504, 1, 100000)    // the guild's AFK channel
				b.count(t, g, u, today, lake.VoiceLeave, chOther, 1, 100000) // raw voice seconds, AFK stretches included
			}, label: "60/60 voice minutes"},
		{name: "member for days", req: Requirement{Type: ReqMemberDays, Min: 30},
			data: func(t *testing.T, g, u int64, meet bool) {
				joined := now.Add(-30*24*time.Hour - time.Minute)
				if !meet {
					joined = now.Add(-30*24*time.Hour + time.Minute)
				}
				_, err := b.db.Pool.Exec(b.ctx, `UPDATE members SET joined_at = $1 WHERE tenant_id = $2 AND guild_id = $3 AND user_id = $4`, joined, b.tenant, g, u)
				require.NoError(t, err)
			}, label: "30/30 days"},
		{name: "holds a role", req: Requirement{Type: ReqRole, RoleID: 777},
			data: func(t *testing.T, g, u int64, meet bool) {
				roles[u] = []int64{1, n(meet, 777, 778)}
			}, label: "1/1 role"},
		{name: "other milestones earned", req: Requirement{Type: ReqMilestones, Keys: []string{"pre_a", "pre_b"}},
			data: func(t *testing.T, g, u int64, meet bool) {
				_, err := b.ms.Grant(b.ctx, b.actor, g, u, "pre_a")
				require.NoError(t, err)
				if meet {
					_, err := b.ms.Grant(b.ctx, b.actor, g, u, "pre_b")
					require.NoError(t, err)
				}
			}, label: "2/2 milestones"},
		{name: "cel expression", req: Requirement{Type: ReqCEL, Expr: "wallet['gold'] >= 10.0 && events['message_create'] >= 2.0"},
			data: func(t *testing.T, g, u int64, meet bool) {
				b.credit(t, g, u, "gold", 10)
				b.count(t, g, u, today, lake.MessageCreate, chOther, n(meet, 2, 1), 0)
			}, label: "1/1 condition"},
		{name: "rank in a currency", req: Requirement{Type: ReqRank, Currency: "xp", Top: 2},
			data: func(t *testing.T, g, u int64, meet bool) {
				for _, amt := range []int64{500, 400} {
					b.credit(t, g, b.member(t, g, time.Time{}, 0), "xp", amt)
				}
				b.credit(t, g, u, "xp", n(meet, 450, 300))
			}, label: "rank #2 (top 2)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, meet := range []bool{true, false} {
				g := b.guild(t, `{"capture": {"afk_channels": ["503"]}}`)
				_, err := b.db.Pool.Exec(b.ctx, `UPDATE guilds SET afk_channel_id = 504 WHERE tenant_id = $1 AND id = $2`, b.tenant, g)
				require.NoError(t, err)
				b.template(t, g, Template{Key: "pre_a", Requirement: Requirement{Type: ReqRole, RoleID: 1 << 50}})
				b.template(t, g, Template{Key: "pre_b", Requirement: Requirement{Type: ReqRole, RoleID: 1 << 50}})
				b.template(t, g, Template{Key: "target", Requirement: tc.req})
				u := b.member(t, g, time.Time{}, 0)
				tc.data(t, g, u, meet)

				ps, err := b.ms.progress(b.ctx, g, u, now)
				require.NoError(t, err)
				p := progressOf(t, ps, "target")
				if meet {
					require.Equal(t, tc.label, p.Label)
				} else {
					require.NotEqual(t, tc.label, p.Label)
				}
				require.False(t, p.Earned)

				as, err := b.ms.check(b.ctx, CheckRequest{GuildID: g, UserID: u, Key: "target"}, now)
				require.NoError(t, err)
				if meet {
					require.Equal(t, []string{"target"}, keys(as), "member who meets it")
				} else {
					require.Empty(t, as, "member one short")
				}
			}
		})
	}
}

func progressOf(t *testing.T, ps []Progress, key string) Progress {
	t.Helper()
	for _, p := range ps {
		if p.Key == key {
			return p
		}
	}
	t.Fatalf("no progress for %s", key)
	return Progress{}
}
