package tenants_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// Two tenants, each with a guild and a member; every store bound to A must
// neither see nor change B's rows.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t).Bun
	a := tenanttest.Tenant(ctx, t, db, nil)
	b := tenanttest.Tenant(ctx, t, db, nil)
	gb := tenanttest.Guild(ctx, t, db, b.ID, &tenanttest.GuildOpts{Name: "B's guild"})
	mb := tenanttest.Member(ctx, t, db, gb, &tenanttest.MemberOpts{DisplayName: "bob"})
	scopeA := tenants.NewStore(db).ForTenant(a.ID)
	actor := tenants.Actor{ID: "1", RequestID: "req-1"}

	t.Run("guild get", func(t *testing.T) {
		_, err := scopeA.Guilds().Get(ctx, gb.ID)
		require.ErrorIs(t, err, apperr.ErrNotFound)
	})
	t.Run("guild list", func(t *testing.T) {
		gs, err := scopeA.Guilds().List(ctx)
		require.NoError(t, err)
		require.Empty(t, gs)
	})
	t.Run("guild settings update", func(t *testing.T) {
		_, err := scopeA.Guilds().UpdateSettings(ctx, actor, gb.ID, json.RawMessage(`{"hijacked":true}`))
		require.ErrorIs(t, err, apperr.ErrNotFound)
		got, err := tenants.NewStore(db).ForTenant(b.ID).Guilds().Get(ctx, gb.ID)
		require.NoError(t, err)
		require.JSONEq(t, `{}`, string(got.Settings))
	})
	t.Run("guild upsert steals nothing", func(t *testing.T) {
		_, err := scopeA.Guilds().Upsert(ctx, gb.ID, "stolen", time.Now(), time.Now())
		require.ErrorIs(t, err, apperr.ErrConflict)
		got, err := tenants.NewStore(db).ForTenant(b.ID).Guilds().Get(ctx, gb.ID)
		require.NoError(t, err)
		require.Equal(t, "B's guild", got.Name)
	})
	t.Run("guild mark left", func(t *testing.T) {
		require.ErrorIs(t, scopeA.Guilds().MarkLeft(ctx, gb.ID, time.Now()), apperr.ErrNotFound)
	})
	t.Run("member get", func(t *testing.T) {
		_, err := scopeA.Members().Get(ctx, gb.ID, mb.UserID)
		require.ErrorIs(t, err, apperr.ErrNotFound)
	})
	t.Run("member list", func(t *testing.T) {
		ms, err := scopeA.Members().List(ctx, gb.ID, 0, 100)
		require.NoError(t, err)
		require.Empty(t, ms)
	})
	t.Run("member upsert into foreign guild", func(t *testing.T) {
		_, err := scopeA.Members().Upsert(ctx, tenants.Member{GuildID: gb.ID, UserID: mb.UserID, DisplayName: "mallory"})
		require.Error(t, err)
		got, err := tenants.NewStore(db).ForTenant(b.ID).Members().Get(ctx, gb.ID, mb.UserID)
		require.NoError(t, err)
		require.Equal(t, "bob", got.DisplayName)
	})
	t.Run("audit", func(t *testing.T) {
		require.NoError(t, tenants.NewStore(db).ForTenant(b.ID).Audit().Record(ctx, tenants.AuditEntry{Action: "x"}))
		es, err := scopeA.Audit().List(ctx, tenants.AuditFilter{})
		require.NoError(t, err)
		require.Empty(t, es)
		// An entry recorded through A's store lands in A, whatever it claims.
		require.NoError(t, scopeA.Audit().Record(ctx, tenants.AuditEntry{TenantID: b.ID, Action: "forged"}))
		es, err = tenants.NewStore(db).ForTenant(b.ID).Audit().List(ctx, tenants.AuditFilter{})
		require.NoError(t, err)
		require.Len(t, es, 1)
		require.Equal(t, "x", es[0].Action)
	})
	t.Run("operator role", func(t *testing.T) {
		require.NoError(t, tenants.NewStore(db).ForTenant(b.ID).Operators().Set(ctx, actor, 42, "owner"))
		_, err := scopeA.Operators().Role(ctx, 42)
		require.ErrorIs(t, err, apperr.ErrNotFound)
	})
}

func TestUpdateSettingsAuditsBeforeAndAfter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t).Bun
	tn := tenanttest.Tenant(ctx, t, db, nil)
	g := tenanttest.Guild(ctx, t, db, tn.ID, nil)
	scope := tenants.NewStore(db).ForTenant(tn.ID)
	actor := tenants.Actor{ID: "123", RequestID: "req-9"}

	_, err := scope.Guilds().UpdateSettings(ctx, actor, g.ID, json.RawMessage(`{"timezone":"UTC"}`))
	require.NoError(t, err)
	_, err = scope.Guilds().UpdateSettings(ctx, actor, g.ID, json.RawMessage(`{"timezone":"Europe/Paris"}`))
	require.NoError(t, err)

	es, err := scope.Audit().List(ctx, tenants.AuditFilter{GuildID: &g.ID})
	require.NoError(t, err)
	require.Len(t, es, 2)
	require.Equal(t, "guild.settings.update", es[0].Action)
	require.Equal(t, "123", es[0].Actor)
	require.Equal(t, "req-9", es[0].RequestID)
	require.JSONEq(t, `{"timezone":"UTC"}`, string(es[0].Before))
	require.JSONEq(t, `{"timezone":"Europe/Paris"}`, string(es[0].After))

	_, err = scope.Guilds().UpdateSettings(ctx, actor, g.ID, json.RawMessage(`[1,2]`))
	var ve *apperr.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "settings", ve.Field)
}

func TestMemberListPagesByUserID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t).Bun
	tn := tenanttest.Tenant(ctx, t, db, nil)
	g := tenanttest.Guild(ctx, t, db, tn.ID, nil)
	for i := int64(1); i <= 5; i++ {
		tenanttest.Member(ctx, t, db, g, &tenanttest.MemberOpts{UserID: i * 10})
	}
	ms := tenants.NewStore(db).ForTenant(tn.ID).Members()
	page1, err := ms.List(ctx, g.ID, 0, 2)
	require.NoError(t, err)
	require.Equal(t, []int64{10, 20}, userIDs(page1))
	page2, err := ms.List(ctx, g.ID, page1[1].UserID, 10)
	require.NoError(t, err)
	require.Equal(t, []int64{30, 40, 50}, userIDs(page2))
}

func userIDs(ms []tenants.Member) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.UserID
	}
	return out
}

func TestUpsertManyKeepsJoinTimesAndOptOuts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t).Bun
	tn := tenanttest.Tenant(ctx, t, db, nil)
	g := tenanttest.Guild(ctx, t, db, tn.ID, nil)
	early := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tenanttest.Member(ctx, t, db, g, &tenanttest.MemberOpts{UserID: 1, JoinedAt: early, Flags: tenants.MemberDMOptOut})
	ms := tenants.NewStore(db).ForTenant(tn.ID).Members()
	require.NoError(t, ms.MarkLeft(ctx, g.ID, 1, time.Now()))
	later := time.Now().UTC()
	require.NoError(t, ms.UpsertMany(ctx, g.ID, []tenants.Member{
		{UserID: 1, DisplayName: "renamed", JoinedAt: &later},
		{UserID: 2, DisplayName: "bot", JoinedAt: &later, Flags: tenants.MemberBot},
	}))
	m1, err := ms.Get(ctx, g.ID, 1)
	require.NoError(t, err)
	require.Equal(t, "renamed", m1.DisplayName)
	require.True(t, m1.JoinedAt.Equal(early), "a known join time is kept")
	require.Nil(t, m1.LeftAt, "listed again: present")
	require.Equal(t, int32(tenants.MemberDMOptOut), m1.Flags, "the member's own opt-outs survive")
	m2, err := ms.Get(ctx, g.ID, 2)
	require.NoError(t, err)
	require.Equal(t, int32(tenants.MemberBot), m2.Flags)
	// Another tenant's store cannot write into this guild.
	other := tenanttest.Tenant(ctx, t, db, nil)
	require.Error(t, tenants.NewStore(db).ForTenant(other.ID).Members().UpsertMany(ctx, g.ID, []tenants.Member{{UserID: 3}}))
}
