package milestones

import (
	"context"
	"fmt"
)

// compiled is one enabled template, ready to evaluate.
type compiled struct {
	t    Template
	root *node
	// dependsOnAwards: the tree reads other milestones, so it is
	// re-evaluated after awards made earlier in the same check.
	dependsOnAwards bool
}

// guildSet is a guild's enabled templates, compiled, with what the checker
// must load for them.
type guildSet struct {
	stamp         string
	templates     []*compiled
	byKey         map[string]*compiled
	keyOf         map[int64]string // every template's key, disabled ones included
	currencies    map[string]int64
	currencyCodes map[int64]string
	// oldestDay: counters older than today-oldestDay are summed together
	// (no window or streak reads them one by one).
	oldestDay  int
	rankOf     []int64 // currencies whose live rank some template reads
	maxTop     int     // the most places any rank requirement counts
	hasRewards bool
	seasonal   bool // some template is seasonal: counters since the season's start are kept by day
}

// stampExpr changes whenever a template (through its guild's revision), a
// zone or a currency of the guild does.
const stampExpr = `concat_ws(':',
	(SELECT revision FROM milestone_guild_revisions WHERE tenant_id = $1 AND guild_id = $2),
	(SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') FROM rule_zones WHERE tenant_id = $1 AND guild_id = $2),
	(SELECT count(*) || '/' || coalesce(max(updated_at)::text, '') FROM ledger_currencies WHERE tenant_id = $1 AND guild_id = $2))`

func (s *Service) cached(tenantID, guildID int64) *guildSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sets[[2]int64{tenantID, guildID}]
}

func (s *Service) forget(tenantID, guildID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sets, [2]int64{tenantID, guildID})
}

func (s *Service) keep(tenantID, guildID int64, set *guildSet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sets[[2]int64{tenantID, guildID}] = set
}

// compileEnv reads the guild's currencies and zones.
func (m *Milestones) compileEnv(ctx context.Context, guildID int64) (*compileEnv, error) {
	cs, err := m.led.Currencies(ctx, guildID)
	if err != nil {
		return nil, fmt.Errorf("milestones: currencies: %w", err)
	}
	env := &compileEnv{currencies: make(map[string]int64, len(cs)), zones: map[string][]int64{}, cel: m.svc.env}
	for _, c := range cs {
		env.currencies[c.Code] = c.ID
	}
	// Zones belong to the rules engine; a milestone only needs their channels.
	rs, err := m.db.Pool.Query(ctx, `SELECT name, channels FROM rule_zones WHERE tenant_id = $1 AND guild_id = $2`, m.tenantID, guildID)
	if err != nil {
		return nil, fmt.Errorf("milestones: zones: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var name string
		var chans []int64
		if err := rs.Scan(&name, &chans); err != nil {
			return nil, fmt.Errorf("milestones: zones: %w", err)
		}
		env.zones[name] = chans
	}
	return env, rs.Err()
}

// loadSet compiles the guild's enabled templates. A template that no
// longer compiles (its currency was deleted) is skipped and logged.
func (m *Milestones) loadSet(ctx context.Context, guildID int64, stamp string) (*guildSet, error) {
	env, err := m.compileEnv(ctx, guildID)
	if err != nil {
		return nil, err
	}
	var rows []templateRow
	if err := m.db.Bun.NewSelect().Model(&rows).Where("tenant_id = ? AND guild_id = ?", m.tenantID, guildID).
		Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("milestones: load templates: %w", err)
	}
	set := &guildSet{stamp: stamp, byKey: map[string]*compiled{}, keyOf: map[int64]string{}, currencies: env.currencies, currencyCodes: map[int64]string{}}
	for code, id := range env.currencies {
		set.currencyCodes[id] = code
	}
	ranks := map[int64]bool{}
	for i := range rows {
		set.keyOf[rows[i].ID] = rows[i].Key
		if !rows[i].Enabled {
			continue
		}
		t, err := rows[i].template()
		if err != nil {
			return nil, err
		}
		env.nodes = 0
		root, err := env.compile(t.Requirement, "requirement", 0)
		if err != nil {
			m.logger.WarnContext(ctx, "milestones: template skipped", "guild_id", guildID, "key", t.Key, "err", err)
			continue
		}
		c := &compiled{t: t, root: root}
		root.walk(func(n *node) {
			switch n.kind {
			case ReqEvents:
				if n.zone != "" {
					n.channels = map[int64]bool{}
					for _, ch := range env.zones[n.zone] {
						n.channels[ch] = true
					}
				}
				set.oldestDay = max(set.oldestDay, n.windowDays)
			case ReqStreak: // +2: the guild's today may be UTC's tomorrow or yesterday
				set.oldestDay = max(set.oldestDay, n.days+2)
			case ReqCEL:
				c.dependsOnAwards = true
				set.oldestDay = max(set.oldestDay, celStreakDays+2) // the CEL "streak" variable
			case ReqMilestones:
				c.dependsOnAwards = true
			case ReqRank:
				ranks[n.currencyID] = true
				set.maxTop = max(set.maxTop, n.top)
			}
		})
		set.hasRewards = set.hasRewards || len(t.Rewards) > 0
		set.seasonal = set.seasonal || t.Scope == ScopeSeasonal
		set.templates = append(set.templates, c)
		set.byKey[t.Key] = c
	}
	for id := range ranks {
		set.rankOf = append(set.rankOf, id)
	}
	return set, nil
}
