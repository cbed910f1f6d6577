package milestones

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

var idSeq atomic.Int64

// nextID is unique across the tests of this process (guild ids are
// globally unique in the schema's index, and schemas are per test anyway).
func nextID() int64 { return 1<<41 + idSeq.Add(1)*1000 }

// testBundle is one tenant on a fresh schema with the services built.
type testBundle struct {
	ctx    context.Context
	db     *postgres.DB
	svc    *Service
	ledSvc *ledger.Service
	tenant int64
	ms     *Milestones
	led    *ledger.Ledger
	actor  tenants.Actor
}

func setup(t testing.TB) *testBundle {
	t.Helper()
	return setupOn(t, testenv.DB(t))
}

func setupOn(t testing.TB, db *postgres.DB) *testBundle {
	t.Helper()
	ctx := context.Background()
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	ledSvc := ledger.New(db, testenv.Logger(t))
	svc := New(db, ledSvc, testenv.Logger(t))
	return &testBundle{ctx: ctx, db: db, svc: svc, ledSvc: ledSvc, tenant: tn.ID, ms: svc.ForTenant(tn.ID),
		led: ledSvc.ForTenant(tn.ID), actor: tenants.Actor{ID: "42", RequestID: "req-test"}}
}

// guild inserts a guild with the Classic currencies (xp, gold, stars).
// Only the columns milestones rely on are set: tenanttest.Guild scans
// every guild column back, which breaks while another package's
// migration adds columns the model does not know yet.
func (b *testBundle) guild(t testing.TB, settings string) int64 {
	t.Helper()
	if settings == "" {
		settings = "{}"
	}
	id := nextID()
	_, err := b.db.Pool.Exec(b.ctx, `INSERT INTO guilds (tenant_id, id, name, settings) VALUES ($1, $2, 'guild', $3)`, b.tenant, id, settings)
	require.NoError(t, err)
	_, err = b.led.InstallPreset(b.ctx, b.actor, id, ledger.PresetClassic)
	require.NoError(t, err)
	return id
}

func (b *testBundle) member(t testing.TB, guildID int64, joined time.Time, flags int32) int64 {
	t.Helper()
	u := nextID()
	var j *time.Time
	if !joined.IsZero() {
		j = &joined
	}
	_, err := b.db.Pool.Exec(b.ctx, `INSERT INTO members (tenant_id, guild_id, user_id, joined_at, flags) VALUES ($1, $2, $3, $4, $5)`,
		b.tenant, guildID, u, j, flags)
	require.NoError(t, err)
	return u
}

// count adds to a member's counters for one UTC day (and to its active
// days, as the writer would in a guild on UTC; voice_active is not
// derived: add it explicitly).
func (b *testBundle) count(t testing.TB, guildID, userID int64, day time.Time, typ lake.Type, channel, events, magnitude int64) {
	t.Helper()
	_, err := b.db.Pool.Exec(b.ctx, `INSERT INTO event_counters (tenant_id, guild_id, day, event_type, user_id, channel_id, events, magnitude)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (tenant_id, guild_id, day, event_type, user_id, channel_id)
		DO UPDATE SET events = event_counters.events + EXCLUDED.events, magnitude = event_counters.magnitude + EXCLUDED.magnitude`,
		b.tenant, guildID, day.UTC().Truncate(24*time.Hour), int16(typ), userID, channel, events, magnitude)
	require.NoError(t, err)
	if lake.IsActivityType(typ) { // as the lake writer does for a guild on UTC
		b.activeDay(t, guildID, userID, day, typ, events)
	}
}

// activeDay adds to a member's events of one type on one guild-local date.
func (b *testBundle) activeDay(t testing.TB, guildID, userID int64, day time.Time, typ lake.Type, events int64) {
	t.Helper()
	_, err := b.db.Pool.Exec(b.ctx, `INSERT INTO member_active_days (tenant_id, guild_id, user_id, day, events, event_type)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id, guild_id, user_id, day, event_type) DO UPDATE SET events = member_active_days.events + EXCLUDED.events`,
		b.tenant, guildID, userID, day.Format(time.DateOnly), events, int16(typ))
	require.NoError(t, err)
}

func (b *testBundle) credit(t testing.TB, guildID, userID int64, currency string, amount int64) {
	t.Helper()
	res, err := b.led.ApplyBatch(b.ctx, []ledger.Op{{Kind: ledger.KindCredit, Key: fmt.Sprintf("test-%d", nextID()),
		GuildID: guildID, CurrencyCode: currency, To: userID, Amount: amount}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
}

func (b *testBundle) template(t testing.TB, guildID int64, tpl Template) Template {
	t.Helper()
	tpl.GuildID = guildID
	if tpl.Name == "" {
		tpl.Name = tpl.Key
	}
	out, err := b.ms.Create(b.ctx, b.actor, tpl)
	require.NoError(t, err)
	return out
}

func keys(as []Award) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.TemplateKey)
	}
	return out
}

// staticRoles serves fixed roles per user.
type staticRoles map[int64][]int64

func (s staticRoles) Roles(_ context.Context, _, _, userID int64) ([]int64, error) {
	return s[userID], nil
}

func ledgerDebit(guildID, userID int64, currency string, amount int64) ledger.Op {
	return ledger.Op{Kind: ledger.KindDebit, Key: fmt.Sprintf("test-%d", nextID()), GuildID: guildID, CurrencyCode: currency, From: userID, Amount: amount}
}
