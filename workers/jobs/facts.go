package jobs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// MemberFacts serves what rule conditions know about a member: the
// member's row (bot, DM opt-out, join time, the roles the gateway keeps
// current from GUILD_CREATE and GUILD_MEMBER_UPDATE), wallet balances by
// currency code and activity counters (see memberCounters), read through
// the tenant-bound stores.
type MemberFacts struct {
	tenants *tenants.Store
	ledger  *ledger.Service
	now     func() time.Time

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

// memberCounters are the counters rules read (counters.messages_today,
// counters['voice_minutes_week']): for each, <name>_today over the
// current UTC day and <name>_week over the current ISO week (from Monday
// 00:00 UTC): the days and weeks of the engine's daily and weekly caps,
// and those the lake counts by (a guild-local day straddles two UTC days:
// no sum of the lake's counters gives it). Every name is
// present, 0 when the member did nothing. They are read when the batch is
// evaluated, after its events were committed to the lake: the event being
// evaluated, and the rest of its batch, are counted.
var memberCounters = []struct {
	name    string
	typ     lake.Type
	minutes bool // the magnitude (seconds) in minutes, not the events
}{
	{"messages", lake.MessageCreate, false},
	{"reactions", lake.ReactionAdd, false}, // given; removals are not subtracted
	{"reactions_received", lake.ReactionReceived, false},
	{"threads", lake.ThreadCreate, false},
	{"voice_minutes", lake.VoiceActive, true}, // not AFK
}

// counterTypes are the lake types memberCounters read.
var counterTypes = func() []int16 {
	out := make([]int16, len(memberCounters))
	for i, c := range memberCounters {
		out[i] = int16(c.typ)
	}
	return out
}()

// NewMemberFacts reads through the given stores.
func NewMemberFacts(t *tenants.Store, l *ledger.Service) *MemberFacts {
	return &MemberFacts{tenants: t, ledger: l, now: time.Now, guilds: map[int64]guildCache{}}
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
	members := f.tenants.ForTenant(g.tenantID).Members()
	got, err := members.Get(ctx, guildID, userID)
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
	activity, err := f.activity(ctx, members, guildID, []int64{userID})
	if err != nil {
		return rules.MemberFacts{UserID: userID, Wallet: map[string]float64{}}, err
	}
	return g.facts(userID, m, wallets, activity[userID]), nil
}

// Members implements rules.BatchFacts: the same facts as Member for each
// user, with one query for the members, one for their wallets and, when a
// rule reads them, one for their counters (without it, counters are
// absent).
func (f *MemberFacts) Members(ctx context.Context, guildID int64, userIDs []int64, need rules.FactNeeds) (map[int64]rules.MemberFacts, error) {
	g, err := f.guild(ctx, guildID)
	if err != nil {
		return nil, err
	}
	members := f.tenants.ForTenant(g.tenantID).Members()
	ms, err := members.GetMany(ctx, guildID, userIDs)
	if err != nil {
		return nil, err
	}
	wallets, err := f.ledger.ForTenant(g.tenantID).WalletsOf(ctx, guildID, userIDs)
	if err != nil {
		return nil, err
	}
	var activity map[int64][]tenants.ActivityTotals
	if need.Counters {
		if activity, err = f.activity(ctx, members, guildID, userIDs); err != nil {
			return nil, err
		}
	}
	out := make(map[int64]rules.MemberFacts, len(userIDs))
	for _, u := range userIDs {
		var m *tenants.Member
		if got, ok := ms[u]; ok {
			m = &got
		}
		mf := g.facts(u, m, wallets[u], activity[u])
		if !need.Counters {
			mf.Counters = nil // not read: not zeros either
		}
		out[u] = mf
	}
	return out, nil
}

// activity reads the members' counters of memberCounters for today and
// this week (UTC).
func (f *MemberFacts) activity(ctx context.Context, members *tenants.MemberStore, guildID int64, userIDs []int64) (map[int64][]tenants.ActivityTotals, error) {
	now := f.now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	return members.Activity(ctx, guildID, userIDs, counterTypes, monday, today)
}

// facts assembles a member's facts from their row (nil when Synapse has
// none), wallets, keeping balances of the currencies the guild knows, and
// counters.
func (g guildCache) facts(userID int64, m *tenants.Member, wallets []ledger.Wallet, activity []tenants.ActivityTotals) rules.MemberFacts {
	out := rules.MemberFacts{UserID: userID, Wallet: map[string]float64{}, Counters: make(map[string]float64, 2*len(memberCounters))}
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
	for _, c := range memberCounters {
		var today, week float64
		for _, a := range activity {
			switch {
			case a.Type != int16(c.typ):
			case c.minutes:
				today, week = float64(a.DayMagnitude)/60, float64(a.SpanMagnitude)/60
			default:
				today, week = float64(a.DayEvents), float64(a.SpanEvents)
			}
		}
		out.Counters[c.name+"_today"], out.Counters[c.name+"_week"] = today, week
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
