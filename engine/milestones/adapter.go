package milestones

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/rules"
)

// Adapter is the rules engine's MilestoneChecker: milestone_check effects
// become CheckMany calls, with the effect's idempotency key as the source,
// so a retried batch awards nothing twice and reports the same awards.
type Adapter struct {
	Service *Service
	// CreditRewards credits currency rewards through the ledger's
	// ApplyBatch, keyed by award (Award.RewardKey), so each pays once
	// however often it is reported. Leave it off when the caller pays them
	// after the rules have seen the awards (OnAwarded).
	CreditRewards bool
	// OnAwards receives the awards of each call, new and replayed (plan
	// announcements, grant roles); it must be idempotent on the award id.
	OnAwards func(ctx context.Context, tenantID int64, awards []Award) error
	// OnAwarded, after OnAwards, receives the same awards with their
	// milestone.awarded events, chained after the rule whose check made
	// each (a rule that checks milestones on milestone.awarded does not
	// loop), for the caller to feed into the rules.
	OnAwarded func(ctx context.Context, tenantID int64, awarded []Awarded) error
}

var _ rules.MilestoneChecker = (*Adapter)(nil)

// Check implements rules.MilestoneChecker.
func (a *Adapter) Check(ctx context.Context, tenantID int64, checks []rules.MilestoneCheck) error {
	reqs := make([]CheckRequest, len(checks))
	for i, c := range checks {
		reqs[i] = CheckRequest{GuildID: c.GuildID, UserID: c.UserID, Key: c.Milestone, Source: c.IdempotencyKey()}
	}
	m := a.Service.ForTenant(tenantID)
	awards, err := m.CheckMany(ctx, reqs)
	if err != nil {
		return err
	}
	if len(awards) == 0 {
		return nil
	}
	if a.CreditRewards {
		if err := m.CreditRewards(ctx, awards); err != nil {
			return err
		}
	}
	if a.OnAwards != nil {
		if err := a.OnAwards(ctx, tenantID, awards); err != nil {
			return err
		}
	}
	if a.OnAwarded == nil {
		return nil
	}
	chains := make(map[string][]int64, len(checks))
	for _, c := range checks {
		// An award remembers the source of the first check that asked.
		if k := c.IdempotencyKey(); chains[k] == nil {
			chains[k] = append(append([]int64(nil), c.Chain...), c.RuleID)
		}
	}
	awarded, err := m.AwardedEvents(ctx, awards, chains)
	if err != nil {
		return err
	}
	return a.OnAwarded(ctx, tenantID, awarded)
}

// Awarded is an award with the milestone.awarded event the rules receive
// for it.
type Awarded struct {
	Award Award
	Event rules.Event
}

// AwardedEvents builds each award's milestone.awarded event (reading the
// awards' templates for their rarity, one query per guild); chains maps an
// award's Source to the rule chain its event carries (none: a root event,
// as for the sweep's awards).
func (m *Milestones) AwardedEvents(ctx context.Context, awards []Award, chains map[string][]int64) ([]Awarded, error) {
	ids := map[int64][]int64{}
	for _, aw := range awards {
		ids[aw.GuildID] = append(ids[aw.GuildID], aw.TemplateID)
	}
	rarity := map[int64]string{}
	for guildID, tids := range ids {
		ts, err := m.GetMany(ctx, guildID, tids)
		if err != nil {
			return nil, err
		}
		for id, t := range ts {
			rarity[id] = t.Rarity
		}
	}
	out := make([]Awarded, len(awards))
	for i, aw := range awards {
		ev := AwardedEvent(m.tenantID, aw, rarity[aw.TemplateID])
		ev.Chain = chains[aw.Source]
		out[i] = Awarded{Award: aw, Event: ev}
	}
	return out, nil
}

// CreditRewards applies the awards' currency rewards in one ledger batch,
// each op keyed by its award and reward index (idempotent).
func (m *Milestones) CreditRewards(ctx context.Context, awards []Award) error {
	return m.CreditRewardsExcept(ctx, awards, nil)
}

// CreditRewardsExcept is CreditRewards leaving out the currency rewards
// paidElsewhere reports (a rule on milestone.awarded paid that currency
// for the award); nil leaves none out.
func (m *Milestones) CreditRewardsExcept(ctx context.Context, awards []Award, paidElsewhere func(aw Award, currency string) bool) error {
	var ops []ledger.Op
	for _, aw := range awards {
		for i, r := range aw.Rewards {
			if r.Type != RewardCurrency || (paidElsewhere != nil && paidElsewhere(aw, r.Currency)) {
				continue
			}
			ops = append(ops, ledger.Op{Kind: ledger.KindCredit, Key: aw.RewardKey(i), GuildID: aw.GuildID,
				CurrencyCode: r.Currency, To: aw.UserID, Amount: r.Amount,
				Reason: "milestone " + aw.TemplateKey, Source: fmt.Sprintf("milestone:%d", aw.ID)})
		}
	}
	if len(ops) == 0 {
		return nil
	}
	res, err := m.led.ApplyBatch(ctx, ops)
	if err != nil {
		return fmt.Errorf("milestones: credit rewards: %w", err)
	}
	for i, r := range res {
		if r.Err != nil {
			// A reward that cannot be paid (currency deleted) is logged,
			// not retried forever.
			m.logger.WarnContext(ctx, "milestones: reward not credited", "key", ops[i].Key, "err", r.Err)
		}
	}
	return nil
}

// AwardedEvent is the internal event the rules engine's milestone.awarded
// trigger expects, for the award's member: data carries the milestone key,
// the award id and number, the rarity and the amount of each currency
// reward (Classic's "Stars for milestones" rule reads event.data.stars).
// Its source id derives from the award id, so a replayed award is the
// same event.
func AwardedEvent(tenantID int64, aw Award, rarity string) rules.Event {
	h := fnv.New64a()
	_, _ = fmt.Fprintf(h, "milestone.award.%d", aw.ID)
	data := map[string]any{"milestone": aw.TemplateKey, "award_id": aw.ID, "rarity": rarity, "award_no": int64(aw.AwardNo)}
	for _, r := range aw.Rewards {
		if r.Type == RewardCurrency {
			data[r.Currency] = r.Amount
		}
	}
	return rules.Event{Name: rules.EventMilestoneAwarded, TenantID: tenantID, GuildID: aw.GuildID,
		SourceID: int64(h.Sum64() >> 1), OccurredAt: aw.AwardedAt, UserID: aw.UserID, Data: data}
}

// Sweep is the periodic job for time-based requirements (member days,
// streaks, windows, ranks): it checks one page of the guild's members
// after afterUserID and returns the last user id checked (0 when done).
func (m *Milestones) Sweep(ctx context.Context, guildID, afterUserID int64, limit int) (int64, []Award, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rs, err := m.db.Pool.Query(ctx, `SELECT user_id FROM members WHERE tenant_id = $1 AND guild_id = $2 AND user_id > $3
		AND left_at IS NULL ORDER BY user_id LIMIT $4`, m.tenantID, guildID, afterUserID, limit)
	if err != nil {
		return 0, nil, fmt.Errorf("milestones: sweep: %w", err)
	}
	var users []int64
	for rs.Next() {
		var u int64
		if err := rs.Scan(&u); err != nil {
			rs.Close()
			return 0, nil, fmt.Errorf("milestones: sweep: %w", err)
		}
		users = append(users, u)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return 0, nil, fmt.Errorf("milestones: sweep: %w", err)
	}
	reqs := make([]CheckRequest, len(users))
	for i, u := range users {
		reqs[i] = CheckRequest{GuildID: guildID, UserID: u, Source: "sweep"}
	}
	out, _, err := m.checkGuild(ctx, guildID, reqs, time.Now())
	if err != nil {
		return 0, out, err
	}
	if len(users) < limit {
		return 0, out, nil
	}
	return users[len(users)-1], out, nil
}

// RoleRewards are the Discord role grants the awards' role rewards ask
// for, keyed by award and reward index like currency rewards, so a
// replayed award grants nothing twice through the action queue.
func RoleRewards(awards []Award) []rules.DiscordAction {
	var out []rules.DiscordAction
	for _, aw := range awards {
		if aw.RevokedAt != nil {
			continue
		}
		for i, r := range aw.Rewards {
			if r.Type == RewardRole {
				out = append(out, rules.GrantRole{Origin: rules.Origin{GuildID: aw.GuildID, FixedKey: aw.RewardKey(i)},
					UserID: aw.UserID, RoleID: r.RoleID})
			}
		}
	}
	return out
}
