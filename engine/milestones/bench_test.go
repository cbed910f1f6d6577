package milestones

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
)

// BenchmarkMilestoneCheck100 checks one member against 100 templates of
// every requirement kind (trees included), with 90 days of counters over
// four event types and three channels (~1,100 counter rows) and wallets in
// Postgres. The steady state is measured: the member's due awards were
// taken by the first check, as they are for nearly every real check.
//
//	go test -run '^$' -bench BenchmarkMilestoneCheck100 -benchtime 2000x ./engine/milestones/
func BenchmarkMilestoneCheck100(b *testing.B) {
	tb, g, u := benchSetup(b)
	first, err := tb.ms.Check(tb.ctx, g, u, "")
	require.NoError(b, err)
	require.NotEmpty(b, first)
	ps, err := tb.ms.Progress(tb.ctx, g, u)
	require.NoError(b, err)
	require.Len(b, ps, 100)
	b.Logf("first check made %d awards (repeatables count several times)", len(first))

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		as, err := tb.ms.Check(tb.ctx, g, u, "")
		if err != nil {
			b.Fatal(err)
		}
		if len(as) != 0 {
			b.Fatalf("steady state awarded %d", len(as))
		}
	}
}

// benchSetup is one member with 90 days of activity and a guild of 100
// templates.
func benchSetup(b testing.TB) (*testBundle, int64, int64) {
	tb := setup(b)
	g := tb.guild(b, `{"timezone": "Europe/Paris", "capture": {"afk_channels": ["3"]}}`)
	_, err := tb.db.Pool.Exec(tb.ctx, `INSERT INTO rule_zones (tenant_id, guild_id, name, channels) VALUES ($1, $2, 'help', ARRAY[2::bigint])`, tb.tenant, g)
	require.NoError(b, err)
	u := tb.member(b, g, time.Now().AddDate(0, -4, 0), 0)
	tb.svc.Roles = staticRoles{u: {10, 11, 12}}
	for d := range 90 {
		day := time.Now().AddDate(0, 0, -d)
		for ch := int64(1); ch <= 3; ch++ {
			tb.count(b, g, u, day, lake.MessageCreate, ch, 12, 600)
			tb.count(b, g, u, day, lake.ReactionAdd, ch, 4, 0)
			tb.count(b, g, u, day, lake.VoiceLeave, ch, 1, 1200)
			if d%3 == 0 {
				tb.count(b, g, u, day, lake.ThreadCreate, ch, 1, 0)
			}
		}
	}
	tb.credit(b, g, u, "xp", 25_000)
	tb.credit(b, g, u, "gold", 700)
	tb.credit(b, g, u, "stars", 40)
	for i := range 5 {
		tb.credit(b, g, tb.member(b, g, time.Time{}, 0), "stars", int64(10*(i+1)))
	}

	kinds := []func(i int) Requirement{
		func(i int) Requirement {
			return Requirement{Type: ReqEvents, Event: "message_create", Min: int64(100 * (i + 1))}
		},
		func(i int) Requirement {
			return Requirement{Type: ReqEvents, Event: "message_create", Zone: "help", WindowDays: 30, Min: int64(50 * (i + 1))}
		},
		func(i int) Requirement {
			return Requirement{Type: ReqEvents, Event: "reaction_add", ChannelID: 1, Min: int64(20 * (i + 1))}
		},
		func(i int) Requirement {
			return Requirement{Type: ReqCurrency, Currency: "xp", Field: "lifetime", Min: int64(1000 * (i + 1))}
		},
		func(i int) Requirement {
			return Requirement{Type: ReqCurrency, Currency: "gold", Min: int64(100 * (i + 1))}
		},
		func(i int) Requirement { return Requirement{Type: ReqStreak, Days: 5 * (i%20 + 1)} },
		func(i int) Requirement { return Requirement{Type: ReqVoiceMinutes, Min: int64(600 * (i + 1))} },
		func(i int) Requirement { return Requirement{Type: ReqMemberDays, Min: int64(30 * (i%12 + 1))} },
		func(i int) Requirement { return Requirement{Type: ReqRole, RoleID: int64(10 + i%5)} },
		func(i int) Requirement {
			return Requirement{Type: ReqCEL, Expr: fmt.Sprintf("wallet['gold'] + events['message_create'] >= %d.0", 500*(i+1))}
		},
		func(i int) Requirement {
			return Requirement{All: []Requirement{
				{Type: ReqEvents, Event: "thread_create", Min: int64(10 * (i + 1))},
				{Any: []Requirement{{Type: ReqStreak, Days: 30}, {Type: ReqCurrency, Currency: "stars", Min: 50}}},
			}}
		},
		func(i int) Requirement {
			return Requirement{Type: ReqMilestones, Keys: []string{fmt.Sprintf("t%d", i%10)}}
		},
	}
	for i := range 100 {
		req := kinds[i%len(kinds)](i / len(kinds))
		scope := ScopeLifetime
		if i == 99 {
			req, scope = Requirement{All: []Requirement{{Type: ReqRank, Currency: "stars", Top: 3}, {Type: ReqCurrency, Currency: "stars", Min: 1}}}, ScopeSeasonal
		}
		tb.template(b, g, Template{Key: fmt.Sprintf("t%d", i), Scope: scope, Requirement: req, Repeatable: i%7 == 0,
			Rewards: []Reward{{Type: RewardCurrency, Currency: "stars", Amount: 1}, {Type: RewardAnnounce}}})
	}
	_, err = tb.led.StartSeason(tb.ctx, tb.actor, g, "S1")
	require.NoError(b, err)

	return tb, g, u
}
