package milestones

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/synapsehq/synapse/infra/apperr"
)

// maxAwardsPerCheck bounds how many awards of one repeatable template a
// single check makes (a new template over a long history).
const maxAwardsPerCheck = 100

// CheckRequest asks to check one member: every milestone of the guild, or
// only Key. Source is the idempotency key of what asked (the rules
// engine's effect key); awards remember it.
type CheckRequest struct {
	GuildID int64
	UserID  int64
	Key     string
	Source  string
}

// Check evaluates a member against the guild's templates (or only key) and
// awards what is due; it returns the awards this call made. Concurrent
// checks of the same member never award the same slot twice.
func (m *Milestones) Check(ctx context.Context, guildID, userID int64, key string) ([]Award, error) {
	return m.check(ctx, CheckRequest{GuildID: guildID, UserID: userID, Key: key}, time.Now())
}

// CheckMany runs several checks; with a Source set, awards an earlier run
// of the same source already made are returned too, marked Replayed, so a
// retried caller can still apply their rewards (idempotently).
func (m *Milestones) CheckMany(ctx context.Context, reqs []CheckRequest) ([]Award, error) {
	return m.checkMany(ctx, reqs, time.Now())
}

func (m *Milestones) checkMany(ctx context.Context, reqs []CheckRequest, now time.Time) ([]Award, error) {
	type member struct {
		guild, user int64
		key         string
	}
	seen := map[member]bool{}
	var out []Award
	made := map[int64]bool{}
	var sources []string
	for _, r := range reqs {
		k := member{r.GuildID, r.UserID, r.Key}
		if r.Source != "" {
			sources = append(sources, r.Source)
		}
		if seen[k] || seen[member{r.GuildID, r.UserID, ""}] {
			continue
		}
		seen[k] = true
		as, err := m.check(ctx, r, now)
		if errors.Is(err, apperr.ErrNotFound) && r.Key != "" {
			// A rule naming a milestone that was deleted: nothing to award.
			m.logger.WarnContext(ctx, "milestones: check of an unknown milestone", "guild_id", r.GuildID, "key", r.Key)
			continue
		}
		if err != nil {
			return out, err
		}
		for _, a := range as {
			made[a.ID] = true
		}
		out = append(out, as...)
	}
	if len(sources) == 0 {
		return out, nil
	}
	prior, err := m.awardsBySource(ctx, sources)
	if err != nil {
		return out, err
	}
	for _, a := range prior {
		if !made[a.ID] {
			a.Replayed = true
			out = append(out, a)
		}
	}
	return out, nil
}

func (m *Milestones) check(ctx context.Context, r CheckRequest, now time.Time) ([]Award, error) {
	st, set, err := m.load(ctx, r.GuildID, r.UserID, now)
	if err != nil {
		return nil, err
	}
	if r.Key != "" && set.byKey[r.Key] == nil {
		return nil, apperr.NotFound("milestone " + r.Key)
	}
	var awards []Award
	for pass := 0; pass <= len(set.templates); pass++ {
		var due []slot
		for _, c := range set.templates {
			if r.Key != "" && c.t.Key != r.Key {
				continue
			}
			if pass > 0 && !c.dependsOnAwards {
				continue
			}
			d, err := st.due(c)
			if err != nil {
				return awards, err
			}
			due = append(due, d...)
		}
		if len(due) == 0 {
			break
		}
		made, err := m.insertAwards(ctx, r, due, now)
		if err != nil {
			return awards, err
		}
		for i := range made {
			c := set.byID(made[i].TemplateID)
			made[i].TemplateKey, made[i].Rewards = c.t.Key, c.t.Rewards
			st.earned[c.t.Key] = true
		}
		// Slots taken by a concurrent check count as taken too.
		for _, d := range due {
			s := st.slots[d.template.t.ID]
			s.taken = max(s.taken, d.awardNo)
			st.slots[d.template.t.ID] = s
		}
		st.celVars = nil
		awards = append(awards, made...)
		if len(made) == 0 {
			break
		}
	}
	return awards, nil
}

// slot is one award a member is due.
type slot struct {
	template *compiled
	awardNo  int
	seasonID *int64
}

// due lists the award slots a member has reached but not taken.
func (s *memberState) due(c *compiled) ([]slot, error) {
	var season *int64
	if c.t.Scope == ScopeSeasonal {
		if s.seasonID == 0 {
			return nil, nil // no season running: nothing seasonal to earn
		}
		id := s.seasonID
		season = &id
	}
	res, err := s.eval(c, c.root)
	if err != nil {
		return nil, fmt.Errorf("milestone %s: %w", c.t.Key, err)
	}
	want := res.times
	if !c.t.Repeatable {
		want = min(want, 1)
	} else if c.t.MaxAwards > 0 {
		want = min(want, c.t.MaxAwards)
	}
	taken := s.slots[c.t.ID].taken
	want = min(want, taken+maxAwardsPerCheck)
	var out []slot
	for n := taken + 1; n <= want; n++ {
		out = append(out, slot{template: c, awardNo: n, seasonID: season})
	}
	return out, nil
}

func (set *guildSet) byID(id int64) *compiled {
	for _, c := range set.templates {
		if c.t.ID == id {
			return c
		}
	}
	return nil
}

const insertAwardsSQL = `INSERT INTO milestone_awards (tenant_id, guild_id, template_id, user_id, award_no, season_id, source, awarded_at)
	SELECT $1, $2, x.t, $3, x.n, x.s, $4, $5 FROM unnest($6::bigint[], $7::int[], $8::bigint[]) AS x(t, n, s)
	ON CONFLICT DO NOTHING
	RETURNING id, template_id, award_no, season_id, awarded_at`

// insertAwards takes the slots; a slot a concurrent check took first is
// silently not returned.
func (m *Milestones) insertAwards(ctx context.Context, r CheckRequest, due []slot, now time.Time) ([]Award, error) {
	ts, ns, ss := make([]int64, len(due)), make([]int32, len(due)), make([]*int64, len(due))
	for i, d := range due {
		ts[i], ns[i], ss[i] = d.template.t.ID, int32(d.awardNo), d.seasonID
	}
	rs, err := m.db.Pool.Query(ctx, insertAwardsSQL, m.tenantID, r.GuildID, r.UserID, r.Source, now, ts, ns, ss)
	if err != nil {
		return nil, fmt.Errorf("milestones: insert awards: %w", err)
	}
	defer rs.Close()
	var out []Award
	for rs.Next() {
		a := Award{GuildID: r.GuildID, UserID: r.UserID, Source: r.Source}
		if err := rs.Scan(&a.ID, &a.TemplateID, &a.AwardNo, &a.SeasonID, &a.AwardedAt); err != nil {
			return nil, fmt.Errorf("milestones: insert awards: %w", err)
		}
		out = append(out, a)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("milestones: insert awards: %w", err)
	}
	return out, nil
}

const awardColumns = `a.id, a.guild_id, a.template_id, t.key, a.user_id, a.award_no, a.season_id, a.source, a.awarded_at, a.revoked_at, t.rewards`

func (m *Milestones) awardsBySource(ctx context.Context, sources []string) ([]Award, error) {
	return m.queryAwards(ctx, `SELECT `+awardColumns+` FROM milestone_awards a
		JOIN milestone_templates t ON t.tenant_id = a.tenant_id AND t.id = a.template_id
		WHERE a.tenant_id = $1 AND a.source = ANY($2) ORDER BY a.id`, m.tenantID, sources)
}

// Awards lists a member's awards (revoked ones included), oldest first.
func (m *Milestones) Awards(ctx context.Context, guildID, userID int64) ([]Award, error) {
	return m.queryAwards(ctx, `SELECT `+awardColumns+` FROM milestone_awards a
		JOIN milestone_templates t ON t.tenant_id = a.tenant_id AND t.id = a.template_id
		WHERE a.tenant_id = $1 AND a.guild_id = $2 AND a.user_id = $3 ORDER BY a.id`, m.tenantID, guildID, userID)
}

func (m *Milestones) queryAwards(ctx context.Context, q string, args ...any) ([]Award, error) {
	rs, err := m.db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("milestones: awards: %w", err)
	}
	defer rs.Close()
	var out []Award
	for rs.Next() {
		var a Award
		var rewards []Reward
		if err := rs.Scan(&a.ID, &a.GuildID, &a.TemplateID, &a.TemplateKey, &a.UserID, &a.AwardNo, &a.SeasonID,
			&a.Source, &a.AwardedAt, &a.RevokedAt, &rewards); err != nil {
			return nil, fmt.Errorf("milestones: awards: %w", err)
		}
		a.Rewards = rewards
		out = append(out, a)
	}
	return out, rs.Err()
}
