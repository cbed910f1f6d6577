package ledger_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/ledger/levels"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// testBundle is one tenant with one guild and three currencies on a fresh
// schema.
type testBundle struct {
	ctx   context.Context
	db    *postgres.DB
	svc   *ledger.Service
	led   *ledger.Ledger
	guild tenants.Guild
	xp    ledger.Currency // not transferable, not spendable, MEE6 levels
	gold  ledger.Currency // transferable, spendable
	debt  ledger.Currency // transferable, negative balances allowed
	actor tenants.Actor
}

func setup(t testing.TB) *testBundle {
	t.Helper()
	return setupOn(t, testenv.DB(t))
}

// setupOn adds another tenant, guild and currencies to an existing schema:
// two bundles on one db are two tenants side by side.
func setupOn(t testing.TB, db *postgres.DB) *testBundle {
	t.Helper()
	ctx := context.Background()
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := newGuild(t, db, tn.ID)
	svc := ledger.New(db, testenv.Logger(t))
	b := &testBundle{ctx: ctx, db: db, svc: svc, led: svc.ForTenant(tn.ID), guild: g, actor: tenants.Actor{ID: "42", RequestID: "req-test"}}
	curve := levels.MEE6()
	b.xp = b.currency(t, ledger.Currency{Code: "xp", Name: "XP", LevelCurve: &curve, Primary: true})
	b.gold = b.currency(t, ledger.Currency{Code: "gold", Name: "Gold", Symbol: "🪙", Transferable: true, Spendable: true})
	b.debt = b.currency(t, ledger.Currency{Code: "credit", Name: "Credit", Decimals: 2, Transferable: true, AllowNegative: true})
	return b
}

func (b *testBundle) currency(t testing.TB, c ledger.Currency) ledger.Currency {
	t.Helper()
	c.GuildID = b.guild.ID
	out, err := b.led.CreateCurrency(b.ctx, b.actor, c)
	require.NoError(t, err)
	return out
}

// newGuild inserts a guild with only the columns the ledger relies on.
// tenanttest.Guild scans every guild column back into tenants.Guild, so
// it breaks while another package's migration adds guild columns the
// model does not know yet; the ledger needs none of them.
func newGuild(t testing.TB, db *postgres.DB, tenantID int64) tenants.Guild {
	t.Helper()
	g := tenants.Guild{TenantID: tenantID, ID: 1<<40 + keySeq.Add(1), Name: "guild"}
	_, err := db.Pool.Exec(context.Background(), `INSERT INTO guilds (tenant_id, id, name) VALUES ($1, $2, $3)`, g.TenantID, g.ID, g.Name)
	require.NoError(t, err)
	return g
}

var keySeq atomic.Int64

// key is a unique idempotency key.
func key(prefix string) string { return fmt.Sprintf("%s-%d", prefix, keySeq.Add(1)) }

// credit mints amount to a member and fails the test on error.
func (b *testBundle) credit(t testing.TB, c ledger.Currency, user, amount int64) ledger.Result {
	t.Helper()
	r, err := b.led.Credit(b.ctx, ledger.Op{Key: key("credit"), GuildID: b.guild.ID, CurrencyID: c.ID, To: user, Amount: amount})
	require.NoError(t, err)
	return r
}

func (b *testBundle) balance(t testing.TB, c ledger.Currency, user int64) int64 {
	t.Helper()
	w, err := b.led.Balance(b.ctx, b.guild.ID, c.ID, user)
	require.NoError(t, err)
	return w.Balance
}

// requireInvariants checks the ledger's books straight from the tables:
// postings sum to zero per transaction and currency and per currency
// overall; every wallet equals the sum of its postings; lifetime earnings
// equal the mints net of reversed mints; no wallet is below zero in a
// currency that forbids it; no key has two transactions.
func requireInvariants(t testing.TB, db *postgres.DB) {
	t.Helper()
	ctx := context.Background()
	count := func(what, q string) {
		t.Helper()
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx, q).Scan(&n))
		require.Zero(t, n, what)
	}
	count("unbalanced transactions", `SELECT count(*) FROM (SELECT 1 FROM ledger_postings
		GROUP BY tenant_id, transaction_id, currency_id HAVING sum(amount) <> 0) x`)
	count("unbalanced currencies", `SELECT count(*) FROM (SELECT 1 FROM ledger_postings
		GROUP BY tenant_id, currency_id HAVING sum(amount) <> 0) x`)
	count("wallets that differ from their postings", `SELECT count(*) FROM ledger_wallets w
		LEFT JOIN (SELECT tenant_id, guild_id, currency_id, account, sum(amount) AS s FROM ledger_postings WHERE account > 0
		           GROUP BY 1, 2, 3, 4) p
		  ON (p.tenant_id, p.guild_id, p.currency_id, p.account) = (w.tenant_id, w.guild_id, w.currency_id, w.user_id)
		WHERE w.balance <> COALESCE(p.s, 0)`)
	count("postings without a transaction", `SELECT count(*) FROM ledger_postings p WHERE NOT EXISTS (
		SELECT 1 FROM ledger_transactions t WHERE t.tenant_id = p.tenant_id AND t.id = p.transaction_id)`)
	count("transactions without postings", `SELECT count(*) FROM ledger_transactions t WHERE NOT EXISTS (
		SELECT 1 FROM ledger_postings p WHERE p.tenant_id = t.tenant_id AND p.transaction_id = t.id)`)
	count("postings without a wallet", `SELECT count(*) FROM ledger_postings p WHERE account > 0 AND NOT EXISTS (
		SELECT 1 FROM ledger_wallets w WHERE (w.tenant_id, w.guild_id, w.currency_id, w.user_id) = (p.tenant_id, p.guild_id, p.currency_id, p.account))`)
	count("wrong lifetime earnings", `SELECT count(*) FROM ledger_wallets w
		LEFT JOIN (SELECT p.tenant_id, p.guild_id, p.currency_id, p.account, sum(p.amount) AS s FROM ledger_postings p
		           JOIN ledger_transactions t ON t.tenant_id = p.tenant_id AND t.id = p.transaction_id
		           LEFT JOIN ledger_transactions o ON o.tenant_id = t.tenant_id AND o.id = t.reverses_id
		           WHERE p.account > 0 AND (t.kind = 'credit' OR o.kind = 'credit')
		           GROUP BY 1, 2, 3, 4) e
		  ON (e.tenant_id, e.guild_id, e.currency_id, e.account) = (w.tenant_id, w.guild_id, w.currency_id, w.user_id)
		WHERE w.lifetime_earned <> COALESCE(e.s, 0)`)
	count("forbidden negative balances", `SELECT count(*) FROM ledger_wallets w JOIN ledger_currencies c
		ON (c.tenant_id, c.guild_id, c.id) = (w.tenant_id, w.guild_id, w.currency_id)
		WHERE w.balance < 0 AND NOT c.allow_negative`)
	requireBucketsMatch(t, db)
	count("duplicate keys", `SELECT count(*) FROM (SELECT 1 FROM ledger_transactions
		GROUP BY tenant_id, idempotency_key HAVING count(*) > 1) x`)
}
