package milestones

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

func TestTemplateValidationNamesTheField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild(t, "")
	ok := Requirement{Type: ReqEvents, Event: "message_create", Min: 1}
	cases := []struct {
		name  string
		tpl   Template
		field string
	}{
		{name: "bad key", tpl: Template{Key: "Bad Key", Requirement: ok}, field: "key"},
		{name: "no name", tpl: Template{Key: "k", Requirement: ok}, field: "name"},
		{name: "unknown rarity", tpl: Template{Key: "k", Name: "n", Rarity: "mythic", Requirement: ok}, field: "rarity"},
		{name: "unknown scope", tpl: Template{Key: "k", Name: "n", Scope: "weekly", Requirement: ok}, field: "scope"},
		{name: "empty tree", tpl: Template{Key: "k", Name: "n"}, field: "requirement"},
		{name: "leaf and combinator", tpl: Template{Key: "k", Name: "n", Requirement: Requirement{Type: ReqRole, RoleID: 1, All: []Requirement{ok}}}, field: "requirement"},
		{name: "empty all", tpl: Template{Key: "k", Name: "n", Requirement: Requirement{All: []Requirement{}}}, field: "requirement.all"},
		{name: "unknown type deep in the tree", tpl: Template{Key: "k", Name: "n", Requirement: Requirement{All: []Requirement{ok, {Any: []Requirement{ok, {Type: "karma"}}}}}},
			field: "requirement.all[1].any[1].type"},
		{name: "unknown currency", tpl: Template{Key: "k", Name: "n", Requirement: Requirement{Any: []Requirement{{Type: ReqCurrency, Currency: "doubloons", Min: 1}}}},
			field: "requirement.any[0].currency"},
		{name: "unknown event type", tpl: Template{Key: "k", Name: "n", Requirement: Requirement{Type: ReqEvents, Event: "typing", Min: 1}}, field: "requirement.event"},
		{name: "zero threshold", tpl: Template{Key: "k", Name: "n", Requirement: Requirement{Type: ReqEvents, Event: "message_create"}}, field: "requirement.min"},
		{name: "window too long", tpl: Template{Key: "k", Name: "n", Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 1, WindowDays: 9999}}, field: "requirement.window_days"},
		{name: "zone and channel", tpl: Template{Key: "k", Name: "n", Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 1, Zone: "help", ChannelID: 5}}, field: "requirement.zone"},
		{name: "streak without days", tpl: Template{Key: "k", Name: "n", Requirement: Requirement{Type: ReqStreak}}, field: "requirement.days"},
		{name: "streak activity type", tpl: Template{Key: "k", Name: "n", Requirement: Requirement{Type: ReqStreak, Days: 3, Active: &ActiveDay{Events: []string{"message_create", "nope"}}}}, field: "requirement.active.events[1]"},
		{name: "cel syntax", tpl: Template{Key: "k", Name: "n", Requirement: Requirement{Type: ReqCEL, Expr: "wallet['xp'] >="}}, field: "requirement.expr"},
		{name: "cel not boolean", tpl: Template{Key: "k", Name: "n", Requirement: Requirement{Type: ReqCEL, Expr: "wallet['xp'] + 1.0"}}, field: "requirement.expr"},
		{name: "cel unknown variable", tpl: Template{Key: "k", Name: "n", Requirement: Requirement{Type: ReqCEL, Expr: "karma > 1.0"}}, field: "requirement.expr"},
		{name: "rank top", tpl: Template{Key: "k", Name: "n", Requirement: Requirement{Type: ReqRank, Currency: "xp"}}, field: "requirement.top"},
		{name: "milestone key", tpl: Template{Key: "k", Name: "n", Requirement: Requirement{Type: ReqMilestones, Keys: []string{"ok", "NOT OK"}}}, field: "requirement.keys[1]"},
		{name: "reward currency", tpl: Template{Key: "k", Name: "n", Requirement: ok, Rewards: []Reward{{Type: RewardAnnounce}, {Type: RewardCurrency, Currency: "doubloons", Amount: 1}}}, field: "rewards[1].currency"},
		{name: "reward amount", tpl: Template{Key: "k", Name: "n", Requirement: ok, Rewards: []Reward{{Type: RewardCurrency, Currency: "stars"}}}, field: "rewards[0].amount"},
		{name: "reward type", tpl: Template{Key: "k", Name: "n", Requirement: ok, Rewards: []Reward{{Type: "hug"}}}, field: "rewards[0].type"},
		{name: "max awards on a once-only milestone", tpl: Template{Key: "k", Name: "n", MaxAwards: 3, Requirement: ok}, field: "max_awards"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.tpl.GuildID = g
			_, err := b.ms.Create(b.ctx, b.actor, tc.tpl)
			var ve *apperr.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.field, ve.Field, ve.Message)
		})
	}
	list, err := b.ms.List(b.ctx, g)
	require.NoError(t, err)
	require.Empty(t, list, "nothing invalid was stored")
}

func TestTemplateCRUDIsAudited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild(t, "")
	u := b.member(t, g, time.Time{}, 0)
	b.count(t, g, u, time.Now(), lake.MessageCreate, 1, 5, 0)

	tpl := b.template(t, g, Template{Key: "ten", Name: "Ten", Rarity: Rare, Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 10}})
	require.Equal(t, 1, tpl.Version)
	as, err := b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err)
	require.Empty(t, as)

	_, err = b.ms.Create(b.ctx, b.actor, Template{GuildID: g, Key: "ten", Name: "Dup", Requirement: tpl.Requirement})
	require.ErrorIs(t, err, apperr.ErrConflict)

	tpl.Requirement.Min = 5
	tpl.Name = "Five"
	updated, err := b.ms.Update(b.ctx, b.actor, tpl, 1)
	require.NoError(t, err)
	require.Equal(t, 2, updated.Version)
	_, err = b.ms.Update(b.ctx, b.actor, tpl, 1)
	require.ErrorIs(t, err, apperr.ErrConflict, "stale version")

	as, err = b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err, "the cached set was refreshed by the update")
	require.Equal(t, []string{"ten"}, keys(as))

	require.NoError(t, b.ms.Delete(b.ctx, b.actor, g, tpl.ID))
	_, err = b.ms.Get(b.ctx, g, tpl.ID)
	require.ErrorIs(t, err, apperr.ErrNotFound)

	entries, err := tenants.NewStore(b.db.Bun).ForTenant(b.tenant).Audit().List(b.ctx, tenants.AuditFilter{GuildID: &g})
	require.NoError(t, err)
	var actions []string
	byAction := map[string]tenants.AuditEntry{}
	for _, e := range entries {
		if len(e.Action) > 11 && e.Action[:11] == "milestones." {
			actions = append(actions, e.Action)
			byAction[e.Action] = e
			require.Equal(t, "42", e.Actor)
			require.Equal(t, "req-test", e.RequestID)
		}
	}
	require.Equal(t, []string{"milestones.template.delete", "milestones.template.update", "milestones.template.create"}, actions)
	var before, after Template
	require.NoError(t, json.Unmarshal(byAction["milestones.template.update"].Before, &before))
	require.NoError(t, json.Unmarshal(byAction["milestones.template.update"].After, &after))
	require.Equal(t, "Ten", before.Name)
	require.Equal(t, int64(10), before.Requirement.Min)
	require.Equal(t, "Five", after.Name)
	require.Equal(t, int64(5), after.Requirement.Min)
	del := byAction["milestones.template.delete"]
	require.Contains(t, []string{"", "null"}, string(del.After), "a deletion has no after")
	require.Contains(t, string(del.Before), `"Five"`)
}

// TestTemplatesChangedElsewhereAreSeen: another process (another Service)
// edits a template; this one's cache notices through the stamp.
func TestTemplatesChangedElsewhereAreSeen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild(t, "")
	u := b.member(t, g, time.Time{}, 0)
	b.count(t, g, u, time.Now(), lake.MessageCreate, 1, 5, 0)
	tpl := b.template(t, g, Template{Key: "ten", Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 10}})
	as, err := b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err)
	require.Empty(t, as)

	other := New(b.db, b.ledSvc, nil).ForTenant(b.tenant)
	tpl.Requirement.Min = 5
	_, err = other.Update(b.ctx, b.actor, tpl, 0)
	require.NoError(t, err)
	as, err = b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err)
	require.Equal(t, []string{"ten"}, keys(as))
}

func TestGrantAndRevokeAreAudited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild(t, "")
	u := b.member(t, g, time.Time{}, 0)
	b.template(t, g, Template{Key: "first", Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 1}})

	_, err := b.ms.Revoke(b.ctx, b.actor, g, u, "first")
	require.ErrorIs(t, err, apperr.ErrNotFound, "nothing to revoke")
	_, err = b.ms.Grant(b.ctx, b.actor, g, u, "nope")
	require.ErrorIs(t, err, apperr.ErrNotFound)

	a, err := b.ms.Grant(b.ctx, b.actor, g, u, "first")
	require.NoError(t, err)
	require.Equal(t, "admin:42", a.Source)
	_, err = b.ms.Grant(b.ctx, b.actor, g, u, "first")
	require.ErrorIs(t, err, apperr.ErrConflict, "already held")

	r, err := b.ms.Revoke(b.ctx, b.actor, g, u, "first")
	require.NoError(t, err)
	require.Equal(t, a.ID, r.ID)
	require.NotNil(t, r.RevokedAt)
	ps, err := b.ms.Progress(b.ctx, g, u)
	require.NoError(t, err)
	require.False(t, progressOf(t, ps, "first").Earned)

	b.count(t, g, u, time.Now(), lake.MessageCreate, 1, 3, 0)
	as, err := b.ms.Check(b.ctx, g, u, "")
	require.NoError(t, err)
	require.Empty(t, as, "a revoked milestone is not handed straight back")

	again, err := b.ms.Grant(b.ctx, b.actor, g, u, "first")
	require.NoError(t, err)
	require.Equal(t, a.ID, again.ID, "reinstated")
	ps, err = b.ms.Progress(b.ctx, g, u)
	require.NoError(t, err)
	require.True(t, progressOf(t, ps, "first").Earned)

	entries, err := tenants.NewStore(b.db.Bun).ForTenant(b.tenant).Audit().List(b.ctx, tenants.AuditFilter{GuildID: &g})
	require.NoError(t, err)
	var actions []string
	for _, e := range entries {
		if e.Action == "milestones.award.grant" || e.Action == "milestones.award.revoke" {
			actions = append(actions, e.Action)
		}
	}
	require.Equal(t, []string{"milestones.award.grant", "milestones.award.revoke", "milestones.award.grant"}, actions)
}

func TestInstallClassicIsIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := nextID()
	_, err := b.db.Pool.Exec(b.ctx, `INSERT INTO guilds (tenant_id, id, name) VALUES ($1, $2, 'g')`, b.tenant, id)
	require.NoError(t, err)

	made, err := b.ms.InstallClassic(b.ctx, b.actor, id)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(made), 11)
	again, err := b.ms.InstallClassic(b.ctx, b.actor, id)
	require.NoError(t, err)
	require.Empty(t, again)
	list, err := b.ms.List(b.ctx, id)
	require.NoError(t, err)
	require.Len(t, list, len(Classic()))

	// A newcomer's first message earns First Words, paying a Star when
	// the rewards are credited.
	u := b.member(t, id, time.Time{}, 0)
	b.count(t, id, u, time.Now(), lake.MessageCreate, 1, 1, 0)
	as, err := b.ms.Check(b.ctx, id, u, "")
	require.NoError(t, err)
	require.Equal(t, []string{"first_message"}, keys(as))
	require.NoError(t, b.ms.CreditRewards(b.ctx, as))
	require.NoError(t, b.ms.CreditRewards(b.ctx, as), "paying again is a no-op")
	stars, err := b.led.CurrencyByCode(b.ctx, id, "stars")
	require.NoError(t, err)
	w, err := b.led.Balance(b.ctx, id, stars.ID, u)
	require.NoError(t, err)
	require.Equal(t, int64(1), w.Balance)
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	a := setup(t)
	bb := setupOn(t, a.db)
	ga, gb := a.guild(t, ""), bb.guild(t, "")
	ta := a.template(t, ga, Template{Key: "x", Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 1}})
	ua := a.member(t, ga, time.Time{}, 0)
	_, err := a.ms.Grant(a.ctx, a.actor, ga, ua, "x")
	require.NoError(t, err)

	notFound := func(err error) { require.True(t, errors.Is(err, apperr.ErrNotFound), "got %v", err) }
	_, err = bb.ms.Get(bb.ctx, ga, ta.ID)
	notFound(err)
	list, err := bb.ms.List(bb.ctx, ga)
	require.NoError(t, err)
	require.Empty(t, list)
	many, err := bb.ms.GetMany(bb.ctx, ga, []int64{ta.ID})
	require.NoError(t, err)
	require.Empty(t, many)
	ta.Name = "hijacked"
	_, err = bb.ms.Update(bb.ctx, bb.actor, ta, 0)
	require.Error(t, err)
	notFound(bb.ms.Delete(bb.ctx, bb.actor, ga, ta.ID))
	_, err = bb.ms.Grant(bb.ctx, bb.actor, ga, ua, "x")
	notFound(err)
	_, err = bb.ms.Revoke(bb.ctx, bb.actor, ga, ua, "x")
	notFound(err)
	_, err = bb.ms.Create(bb.ctx, bb.actor, Template{GuildID: ga, Key: "y", Name: "y", Requirement: Requirement{Type: ReqMemberDays, Min: 1}})
	require.Error(t, err, "cannot create in another tenant's guild")
	awards, err := bb.ms.Awards(bb.ctx, ga, ua)
	require.NoError(t, err)
	require.Empty(t, awards)
	ps, err := bb.ms.Progress(bb.ctx, ga, ua)
	require.NoError(t, err)
	require.Empty(t, ps)

	got, err := a.ms.Get(a.ctx, ga, ta.ID)
	require.NoError(t, err)
	require.Equal(t, "x", got.Name)
	many, err = a.ms.GetMany(a.ctx, ga, []int64{ta.ID, ta.ID + 1000})
	require.NoError(t, err)
	require.Equal(t, []string{"x"}, []string{many[ta.ID].Name})
	require.Len(t, many, 1, "an id naming no template is absent")
	awards, err = a.ms.Awards(a.ctx, ga, ua)
	require.NoError(t, err)
	require.Len(t, awards, 1)
	_ = gb
}
