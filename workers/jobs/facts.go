package jobs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// MemberFacts serves what rule conditions know about a member: the
// member's row (bot, DM opt-out, join time, the roles the gateway keeps
// current from GUILD_CREATE and GUILD_MEMBER_UPDATE) and wallet balances
// by currency code, read through the tenant-bound stores.
type MemberFacts struct {
	tenants *tenants.Store
	ledger  *ledger.Service

	mu     sync.Mutex
	guilds map[int64]guildCache // guild -> tenant and currency codes, briefly cached
}

type guildCache struct {
	tenantID int64
	codes    map[int64]string
	until    time.Time
}

// guildCacheTTL bounds how long a new currency stays invisible to conditions.
const guildCacheTTL = 10 * time.Second

// NewMemberFacts reads through the given stores.
func NewMemberFacts(t *tenants.Store, l *ledger.Service) *MemberFacts {
	return &MemberFacts{tenants: t, ledger: l, guilds: map[int64]guildCache{}}
}

var _ rules.BatchFacts = (*MemberFacts)(nil)

// Member implements rules.Facts. A member Synapse has no row for yet gets
// empty facts (no roles, unknown join time), which is not an error.
func (f *MemberFacts) Member(ctx context.Context, guildID, userID int64) (rules.MemberFacts, error) {
	g, err := f.guild(ctx, guildID)
	if err != nil {
		return rules.MemberFacts{UserID: userID, Wallet: map[string]float64{}}, err
	}
	var m *tenants.Member
	got, err := f.tenants.ForTenant(g.tenantID).Members().Get(ctx, guildID, userID)
	switch {
	case errors.Is(err, apperr.ErrNotFound):
	case err != nil:
		return rules.MemberFacts{UserID: userID, Wallet: map[string]float64{}}, err
	default:
		m = &got
	}
	wallets, err := f.ledger.ForTenant(g.tenantID).Wallets(ctx, guildID, userID)
	if err != nil {
		return rules.MemberFacts{UserID: userID, Wallet: map[string]float64{}}, err
	}
	return g.facts(userID, m, wallets), nil
}

// Members implements rules.BatchFacts: the same facts as Member for each
// user, with one query for the members and one for their wallets.
func (f *MemberFacts) Members(ctx context.Context, guildID int64, userIDs []int64) (map[int64]rules.MemberFacts, error) {
	g, err := f.guild(ctx, guildID)
	if err != nil {
		return nil, err
	}
	ms, err := f.tenants.ForTenant(g.tenantID).Members().GetMany(ctx, guildID, userIDs)
	if err != nil {
		return nil, err
	}
	wallets, err := f.ledger.ForTenant(g.tenantID).WalletsOf(ctx, guildID, userIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]rules.MemberFacts, len(userIDs))
	for _, u := range userIDs {
		var m *tenants.Member
		if got, ok := ms[u]; ok {
			m = &got
		}
		out[u] = g.facts(u, m, wallets[u])
	}
	return out, nil
}

// facts assembles a member's facts from their row (nil when Synapse has
// none) and wallets, keeping balances of the currencies the guild knows.
func (g guildCache) facts(userID int64, m *tenants.Member, wallets []ledger.Wallet) rules.MemberFacts {
	out := rules.MemberFacts{UserID: userID, Wallet: map[string]float64{}}
	if m != nil {
		out.Bot = m.Flags&tenants.MemberBot != 0
		out.DMOptOut = m.Flags&tenants.MemberDMOptOut != 0
		if m.JoinedAt != nil {
			out.JoinedAt = *m.JoinedAt
		}
		out.Roles = []int64(m.Roles)
	}
	for _, w := range wallets {
		if code, ok := g.codes[w.CurrencyID]; ok {
			out.Wallet[code] = float64(w.Balance)
		}
	}
	return out
}

func (f *MemberFacts) guild(ctx context.Context, guildID int64) (guildCache, error) {
	f.mu.Lock()
	g, ok := f.guilds[guildID]
	f.mu.Unlock()
	if ok && time.Now().Before(g.until) {
		return g, nil
	}
	tenantID, err := f.tenants.TenantOfGuild(ctx, guildID)
	if err != nil {
		return g, err
	}
	cs, err := f.ledger.ForTenant(tenantID).Currencies(ctx, guildID)
	if err != nil {
		return g, err
	}
	g = guildCache{tenantID: tenantID, codes: make(map[int64]string, len(cs)), until: time.Now().Add(guildCacheTTL)}
	for _, c := range cs {
		g.codes[c.ID] = c.Code
	}
	f.mu.Lock()
	f.guilds[guildID] = g
	f.mu.Unlock()
	return g, nil
}
