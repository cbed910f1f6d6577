package milestones

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
)

func TestNestedTrees(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	msgs := func(min int64) Requirement { return Requirement{Type: ReqEvents, Event: "message_create", Min: min} }
	gold := func(min int64) Requirement { return Requirement{Type: ReqCurrency, Currency: "gold", Min: min} }
	cases := []struct {
		name     string
		req      Requirement
		messages int64
		gold     int64
		met      bool
		label    string
	}{
		{name: "all met", req: Requirement{All: []Requirement{msgs(5), gold(10)}}, messages: 5, gold: 10, met: true, label: "2/2 requirements"},
		{name: "all half met", req: Requirement{All: []Requirement{msgs(5), gold(10)}}, messages: 5, gold: 9, label: "1/2 requirements"},
		{name: "any one met", req: Requirement{Any: []Requirement{msgs(5), gold(10)}}, messages: 0, gold: 10, met: true, label: "2/2 requirements"},
		{name: "any none met", req: Requirement{Any: []Requirement{msgs(5), gold(10)}}, messages: 4, gold: 9, label: "0/2 requirements"},
		{name: "single child reads as the leaf", req: Requirement{All: []Requirement{msgs(5)}}, messages: 3, label: "3/5 messages"},
		{name: "all of (any, leaf) met", req: Requirement{All: []Requirement{
			{Any: []Requirement{msgs(100), gold(10)}},
			{Type: ReqCEL, Expr: "lifetime['gold'] >= 10.0"},
		}}, messages: 1, gold: 10, met: true, label: "2/2 requirements"},
		{name: "any of (all unmet, all met)", req: Requirement{Any: []Requirement{
			{All: []Requirement{msgs(100), gold(1)}},
			{All: []Requirement{msgs(1), {Any: []Requirement{gold(1000), msgs(2)}}}},
		}}, messages: 2, met: true, label: "2/2 requirements"},
		{name: "deep nesting unmet at the leaf", req: Requirement{All: []Requirement{
			{Any: []Requirement{{All: []Requirement{msgs(3), gold(5)}}}},
			msgs(1),
		}}, messages: 3, gold: 4, label: "1/2 requirements"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := b.guild(t, "")
			b.template(t, g, Template{Key: "tree", Requirement: tc.req})
			u := b.member(t, g, time.Time{}, 0)
			if tc.messages > 0 {
				b.count(t, g, u, now, lake.MessageCreate, 1, tc.messages, 0)
			}
			if tc.gold > 0 {
				b.credit(t, g, u, "gold", tc.gold)
			}
			ps, err := b.ms.progress(b.ctx, g, u, now)
			require.NoError(t, err)
			require.Equal(t, tc.label, progressOf(t, ps, "tree").Label)
			as, err := b.ms.check(b.ctx, CheckRequest{GuildID: g, UserID: u}, now)
			require.NoError(t, err)
			require.Equal(t, tc.met, len(as) == 1, "awards: %v", keys(as))
		})
	}
}

func TestAwardsChainWithinOneCheck(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild(t, "")
	b.template(t, g, Template{Key: "base", Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 1}})
	b.template(t, g, Template{Key: "meta", Requirement: Requirement{Type: ReqMilestones, Keys: []string{"base"}}})
	b.template(t, g, Template{Key: "meta2", Requirement: Requirement{Type: ReqCEL, Expr: "'meta' in milestones"}})
	u := b.member(t, g, time.Time{}, 0)
	b.count(t, g, u, time.Now(), lake.MessageCreate, 1, 1, 0)
	as, err := b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"base", "meta", "meta2"}, keys(as))
	again, err := b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err)
	require.Empty(t, again)
}

func TestRepeatableAwardsOncePerMultiple(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild(t, "")
	b.template(t, g, Template{Key: "every_500", Repeatable: true, MaxAwards: 3,
		Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 500}})
	u := b.member(t, g, time.Time{}, 0)
	b.count(t, g, u, time.Now(), lake.MessageCreate, 1, 1100, 0)

	as, err := b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err)
	require.Len(t, as, 2)
	require.Equal(t, []int{1, 2}, []int{as[0].AwardNo, as[1].AwardNo})
	ps, err := b.ms.Progress(b.ctx, g, u)
	require.NoError(t, err)
	p := progressOf(t, ps, "every_500")
	require.Equal(t, "1100/1500 messages", p.Label)
	require.Equal(t, 2, p.Times)

	b.count(t, g, u, time.Now(), lake.MessageCreate, 1, 5000, 0) // far past the cap of 3
	as, err = b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err)
	require.Len(t, as, 1)
	require.Equal(t, 3, as[0].AwardNo)
}

// TestAwardExactlyOnceUnderConcurrentChecks races many checks of the same
// member (separate services, so no in-process cache is shared).
func TestAwardExactlyOnceUnderConcurrentChecks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild(t, "")
	b.template(t, g, Template{Key: "once", Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 1}})
	b.template(t, g, Template{Key: "thrice", Repeatable: true, Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 10}})
	u := b.member(t, g, time.Time{}, 0)
	b.count(t, g, u, time.Now(), lake.MessageCreate, 1, 30, 0)

	const workers = 12
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		got   []Award
		start = make(chan struct{})
	)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ms := New(b.db, b.ledSvc, nil).ForTenant(b.tenant)
			<-start
			as, err := ms.CheckMany(b.ctx, []CheckRequest{{GuildID: g, UserID: u, Source: "race-" + string(rune('a'+i))}})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, a := range as {
				if !a.Replayed {
					got = append(got, a)
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	require.ElementsMatch(t, []string{"once", "thrice", "thrice", "thrice"}, keys(got))
	var rows int
	require.NoError(t, b.db.Pool.QueryRow(b.ctx, `SELECT count(*) FROM milestone_awards WHERE tenant_id = $1 AND user_id = $2`, b.tenant, u).Scan(&rows))
	require.Equal(t, 4, rows)
}

func TestSeasonalMilestonesResetWithTheSeason(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild(t, "")
	b.template(t, g, Template{Key: "season_chatter", Scope: ScopeSeasonal,
		Requirement: Requirement{All: []Requirement{
			{Type: ReqEvents, Event: "message_create", Min: 3},
			{Type: ReqCurrency, Currency: "stars", Min: 1},
		}}})
	u := b.member(t, g, time.Time{}, 0)
	b.count(t, g, u, time.Now().AddDate(0, 0, -3), lake.MessageCreate, 1, 10, 0) // before any season
	b.credit(t, g, u, "stars", 5)

	as, err := b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err)
	require.Empty(t, as, "no season running")

	s1, err := b.led.StartSeason(b.ctx, b.actor, g, "S1")
	require.NoError(t, err)
	as, err = b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err)
	require.Empty(t, as, "messages from before the season do not count")

	b.count(t, g, u, time.Now(), lake.MessageCreate, 1, 3, 0)
	as, err = b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err)
	require.Len(t, as, 1)
	require.Equal(t, s1.ID, *as[0].SeasonID)
	as, err = b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err)
	require.Empty(t, as, "once per season")

	_, _, err = b.led.EndSeason(b.ctx, b.actor, g)
	require.NoError(t, err)
	s2, err := b.led.StartSeason(b.ctx, b.actor, g, "S2")
	require.NoError(t, err)
	ps, err := b.ms.Progress(b.ctx, g, u)
	require.NoError(t, err)
	require.False(t, progressOf(t, ps, "season_chatter").Earned, "a new season starts unearned")
	as, err = b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err)
	require.Empty(t, as, "stars were reset with the season")

	b.credit(t, g, u, "stars", 1)
	as, err = b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err)
	require.Len(t, as, 1)
	require.Equal(t, s2.ID, *as[0].SeasonID)
	require.Equal(t, 1, as[0].AwardNo)
}

func TestDisabledTemplatesAreNotChecked(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild(t, "")
	tpl := b.template(t, g, Template{Key: "draft", Disabled: true, Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 1}})
	u := b.member(t, g, time.Time{}, 0)
	b.count(t, g, u, time.Now(), lake.MessageCreate, 1, 1, 0)
	as, err := b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err)
	require.Empty(t, as)
	ps, err := b.ms.Progress(b.ctx, g, u)
	require.NoError(t, err)
	require.Empty(t, ps)

	tpl.Disabled = false
	_, err = b.ms.Update(b.ctx, b.actor, tpl, tpl.Version)
	require.NoError(t, err)
	as, err = b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err)
	require.Equal(t, []string{"draft"}, keys(as))
}

// TestCheckManyChecksMembersTogether: one batch, several members of two
// guilds, checked together: each member gets what it asked for (every
// milestone, or only a key), awards remember the source that asked, a
// milestone earned by others' awards follows in the same batch, and an
// unknown key is skipped without failing the rest.
func TestCheckManyChecksMembersTogether(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now()
	g1, g2 := b.guild(t, ""), b.guild(t, "")
	for _, g := range []int64{g1, g2} {
		b.template(t, g, Template{Key: "first", Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 1}})
		b.template(t, g, Template{Key: "gold", Requirement: Requirement{Type: ReqCurrency, Currency: "gold", Min: 10}})
		b.template(t, g, Template{Key: "both", Requirement: Requirement{Type: ReqMilestones, Keys: []string{"first", "gold"}}})
	}
	all, keyed, idle := b.member(t, g1, time.Time{}, 0), b.member(t, g1, time.Time{}, 0), b.member(t, g1, time.Time{}, 0)
	other := b.member(t, g2, time.Time{}, 0)
	for _, m := range []struct{ g, u int64 }{{g1, all}, {g1, keyed}, {g2, other}} {
		b.count(t, m.g, m.u, now, lake.MessageCreate, 1, 1, 0)
		b.credit(t, m.g, m.u, "gold", 10)
	}

	as, err := b.ms.checkMany(b.ctx, []CheckRequest{
		{GuildID: g1, UserID: all, Source: "s-all"},
		{GuildID: g1, UserID: keyed, Key: "gold", Source: "s-gold"},
		{GuildID: g1, UserID: keyed, Key: "first", Source: "s-first"},
		{GuildID: g1, UserID: keyed, Key: "deleted", Source: "s-deleted"},
		{GuildID: g1, UserID: idle, Source: "s-idle"},
		{GuildID: g2, UserID: other, Source: "s-other"},
		{GuildID: g1, UserID: all, Key: "first", Source: "s-again"},
	}, now)
	require.NoError(t, err)
	got := map[string]string{}
	for _, a := range as {
		require.False(t, a.Replayed)
		got[fmt.Sprintf("%d/%d/%s", a.GuildID, a.UserID, a.TemplateKey)] = a.Source
	}
	key := func(g, u int64, k string) string { return fmt.Sprintf("%d/%d/%s", g, u, k) }
	require.Equal(t, map[string]string{
		key(g1, all, "first"): "s-all", key(g1, all, "gold"): "s-all", key(g1, all, "both"): "s-all",
		key(g1, keyed, "first"): "s-first", key(g1, keyed, "gold"): "s-gold",
		key(g2, other, "first"): "s-other", key(g2, other, "gold"): "s-other", key(g2, other, "both"): "s-other",
	}, got, "the keyed member earns only what it asked for; 'both' waits for a check that asks for it")

	again, err := b.ms.checkMany(b.ctx, []CheckRequest{{GuildID: g1, UserID: keyed, Source: "s-later"}}, now)
	require.NoError(t, err)
	require.Equal(t, []string{"both"}, keys(again))
	require.Equal(t, "s-later", again[0].Source)
}
