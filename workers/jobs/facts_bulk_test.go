package jobs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// Members (the rules engine's bulk path) gives each user exactly what
// Member gives them, and nothing of another tenant's member of the same
// user id.
func TestMembersMatchesMember(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	svc := ledger.New(db, testenv.Logger(t))
	actor := tenants.Actor{ID: "1", RequestID: "req-1"}
	a := tenanttest.Tenant(ctx, t, db.Bun, nil)
	b := tenanttest.Tenant(ctx, t, db.Bun, nil)
	ga := tenanttest.Guild(ctx, t, db.Bun, a.ID, nil)
	gb := tenanttest.Guild(ctx, t, db.Bun, b.ID, nil)
	currency := func(tenantID, guildID int64, code string) ledger.Currency {
		c, err := svc.ForTenant(tenantID).CreateCurrency(ctx, actor, ledger.Currency{GuildID: guildID, Code: code, Name: code})
		require.NoError(t, err)
		return c
	}
	n := 0
	credit := func(tenantID, guildID int64, c ledger.Currency, user, amount int64) {
		n++
		_, err := svc.ForTenant(tenantID).Credit(ctx, ledger.Op{Key: fmt.Sprintf("facts-%d", n), GuildID: guildID, CurrencyID: c.ID, To: user, Amount: amount})
		require.NoError(t, err)
	}
	xp, gold := currency(a.ID, ga.ID, "xp"), currency(a.ID, ga.ID, "gold")
	bGold := currency(b.ID, gb.ID, "gold")

	joined := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	alice := tenanttest.Member(ctx, t, db.Bun, ga, &tenanttest.MemberOpts{JoinedAt: joined, Roles: []int64{7, 8}, Flags: tenants.MemberDMOptOut}).UserID
	bot := tenanttest.Member(ctx, t, db.Bun, ga, &tenanttest.MemberOpts{Flags: tenants.MemberBot}).UserID
	bob := tenanttest.Member(ctx, t, db.Bun, gb, &tenanttest.MemberOpts{JoinedAt: joined, Roles: []int64{9}, Flags: tenants.MemberBot}).UserID
	const noRow, stranger = 5550001, 5550002 // paid before Synapse saw them; never seen
	credit(a.ID, ga.ID, xp, alice, 40)
	credit(a.ID, ga.ID, gold, alice, 3)
	credit(a.ID, ga.ID, xp, noRow, 12)
	credit(b.ID, gb.ID, bGold, bob, 999)
	credit(b.ID, gb.ID, bGold, alice, 500) // alice's namesake wallet in B's guild

	facts := NewMemberFacts(tenants.NewStore(db.Bun), svc)
	users := []int64{alice, bot, bob, noRow, stranger}
	bulk, err := facts.Members(ctx, ga.ID, users, rules.FactNeeds{Counters: true})
	require.NoError(t, err)
	require.Len(t, bulk, len(users))
	for _, u := range users {
		one, err := facts.Member(ctx, ga.ID, u)
		require.NoError(t, err)
		require.Equal(t, one, bulk[u], "user %d", u)
	}
	require.Equal(t, []int64{7, 8}, bulk[alice].Roles)
	require.Equal(t, map[string]float64{"xp": 40, "gold": 3}, bulk[alice].Wallet, "A's balances only")
	require.Equal(t, map[string]float64{"xp": 0, "gold": 0}, bulk[bob].Wallet, "B's member is a stranger in A's guild")
	require.False(t, bulk[bob].Bot)
	require.Empty(t, bulk[bob].Roles)

	t.Run("B's guild", func(t *testing.T) {
		got, err := facts.Members(ctx, gb.ID, []int64{alice, bob}, rules.FactNeeds{Counters: true})
		require.NoError(t, err)
		require.Equal(t, map[string]float64{"gold": 500}, got[alice].Wallet)
		require.Empty(t, got[alice].Roles, "alice is no member of B's guild")
		require.Equal(t, []int64{9}, got[bob].Roles)
	})
}
