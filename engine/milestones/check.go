package milestones

import (
	"context"
	"fmt"
	"slices"
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

func (m *Milestones) check(ctx context.Context, r CheckRequest, now time.Time) ([]Award, error) {
	awards, unknown, err := m.checkGuild(ctx, r.GuildID, []CheckRequest{r}, now)
	if err == nil && len(unknown) > 0 {
		err = apperr.NotFound("milestone " + r.Key)
	}
	return awards, err
}

// CheckMany runs several checks; with a Source set, awards an earlier run
// of the same source already made are returned too, marked Replayed, so a
// retried caller can still apply their rewards (idempotently).
func (m *Milestones) CheckMany(ctx context.Context, reqs []CheckRequest) ([]Award, error) {
	return m.checkMany(ctx, reqs, time.Now())
}

func (m *Milestones) checkMany(ctx context.Context, reqs []CheckRequest, now time.Time) ([]Award, error) {
	byGuild := map[int64][]CheckRequest{}
	var guilds []int64
	var sources []string
	for _, r := range reqs {
		if _, ok := byGuild[r.GuildID]; !ok {
			guilds = append(guilds, r.GuildID)
		}
		byGuild[r.GuildID] = append(byGuild[r.GuildID], r)
		if r.Source != "" {
			sources = append(sources, r.Source)
		}
	}
	var out []Award
	made := map[int64]bool{}
	for _, g := range guilds {
		as, unknown, err := m.checkGuild(ctx, g, byGuild[g], now)
		if err != nil {
			return out, err
		}
		for _, key := range unknown {
			// A rule naming a milestone that was deleted: nothing to award.
			m.logger.WarnContext(ctx, "milestones: check of an unknown milestone", "guild_id", g, "key", key)
		}
		for _, a := range as {
			made[a.ID] = true
		}
		out = append(out, as...)
	}
	if len(sources) == 0 {
		return out, nil
	}
	slices.Sort(sources)
	prior, err := m.awardsBySource(ctx, slices.Compact(sources))
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

// memberCheck is what a batch asks of one member: every template (all) or
// some keys, each with the source of the first request that asked for it
// (the source its awards remember).
type memberCheck struct {
	st        *memberState
	all       bool
	allSource string
	keys      map[string]string
	done      bool
}

func (c *memberCheck) wants(key string) (string, bool) {
	if c.all {
		return c.allSource, true
	}
	src, ok := c.keys[key]
	return src, ok
}

// checkGuild checks a batch of requests of one guild together: the
// members' state is read in one round trip and each pass's awards, for all
// members, in one statement. It returns the awards made and the requested
// keys that name no enabled template.
func (m *Milestones) checkGuild(ctx context.Context, guildID int64, reqs []CheckRequest, now time.Time) ([]Award, []string, error) {
	checks := map[int64]*memberCheck{}
	var users []int64
	for _, r := range reqs {
		c := checks[r.UserID]
		if c == nil {
			c = &memberCheck{keys: map[string]string{}}
			checks[r.UserID] = c
			users = append(users, r.UserID)
		}
		switch {
		case c.all:
		case r.Key == "":
			c.all, c.allSource = true, r.Source
		default:
			if _, ok := c.keys[r.Key]; !ok {
				c.keys[r.Key] = r.Source
			}
		}
	}
	sts, set, err := m.loadMembers(ctx, guildID, users, now)
	if err != nil {
		return nil, nil, err
	}
	var unknown []string
	for _, u := range users {
		c := checks[u]
		c.st = sts[u]
		for key := range c.keys {
			if set.byKey[key] == nil {
				unknown = append(unknown, key)
			}
		}
	}
	var awards []Award
	for pass := 0; pass <= len(set.templates); pass++ {
		var due []slot
		for _, u := range users {
			c := checks[u]
			if c.done {
				continue
			}
			for _, t := range set.templates {
				src, ok := c.wants(t.t.Key)
				if !ok || (pass > 0 && !t.dependsOnAwards) {
					continue
				}
				d, err := c.st.due(t, u, src)
				if err != nil {
					return awards, unknown, err
				}
				due = append(due, d...)
			}
		}
		if len(due) == 0 {
			break
		}
		made, err := m.insertAwards(ctx, guildID, due, now)
		if err != nil {
			return awards, unknown, err
		}
		got := map[int64]bool{}
		for i := range made {
			t := set.byID(made[i].TemplateID)
			made[i].TemplateKey, made[i].Rewards = t.t.Key, t.t.Rewards
			checks[made[i].UserID].st.earned[t.t.Key] = true
			got[made[i].UserID] = true
		}
		// Slots taken by a concurrent check count as taken too.
		for _, d := range due {
			st := checks[d.userID].st
			s := st.slots[d.template.t.ID]
			s.taken = max(s.taken, d.awardNo)
			st.slots[d.template.t.ID] = s
			st.celVars = nil
		}
		for _, u := range users {
			checks[u].done = checks[u].done || !got[u] // nothing new: nothing more depends on it
		}
		awards = append(awards, made...)
	}
	return awards, unknown, nil
}

// slot is one award a member is due.
type slot struct {
	template *compiled
	userID   int64
	awardNo  int
	seasonID *int64
	source   string
}

// due lists the award slots a member has reached but not taken.
func (s *memberState) due(c *compiled, userID int64, source string) ([]slot, error) {
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
		out = append(out, slot{template: c, userID: userID, awardNo: n, seasonID: season, source: source})
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

// insertAwardsSQL takes slots of many members in the unique index's order,
// the lock order every check follows.
const insertAwardsSQL = `INSERT INTO milestone_awards (tenant_id, guild_id, template_id, user_id, award_no, season_id, source, awarded_at)
	SELECT $1, $2, x.t, x.u, x.n, x.s, x.src, $3
	FROM unnest($4::bigint[], $5::bigint[], $6::int[], $7::bigint[], $8::text[]) AS x(t, u, n, s, src)
	ORDER BY x.t, x.u, x.n, x.s
	ON CONFLICT DO NOTHING
	RETURNING id, template_id, user_id, award_no, season_id, source, awarded_at`

// insertAwards takes the slots; a slot a concurrent check took first is
// silently not returned.
func (m *Milestones) insertAwards(ctx context.Context, guildID int64, due []slot, now time.Time) ([]Award, error) {
	ts, us, ns, ss, srcs := make([]int64, len(due)), make([]int64, len(due)), make([]int32, len(due)), make([]*int64, len(due)), make([]string, len(due))
	for i, d := range due {
		ts[i], us[i], ns[i], ss[i], srcs[i] = d.template.t.ID, d.userID, int32(d.awardNo), d.seasonID, d.source
	}
	rs, err := m.db.Pool.Query(ctx, insertAwardsSQL, m.tenantID, guildID, now, ts, us, ns, ss, srcs)
	if err != nil {
		return nil, fmt.Errorf("milestones: insert awards: %w", err)
	}
	defer rs.Close()
	var out []Award
	for rs.Next() {
		a := Award{GuildID: guildID}
		if err := rs.Scan(&a.ID, &a.TemplateID, &a.UserID, &a.AwardNo, &a.SeasonID, &a.Source, &a.AwardedAt); err != nil {
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
	// One lookup of the source index per source (OFFSET 0: not a join the
	// planner could turn into a walk over every template's awards).
	return m.queryAwards(ctx, `SELECT `+awardColumns+` FROM unnest($2::text[]) AS s(source)
		CROSS JOIN LATERAL (SELECT * FROM milestone_awards a
			WHERE a.tenant_id = $1 AND a.source = s.source AND a.source <> '' OFFSET 0) a
		JOIN milestone_templates t ON t.tenant_id = $1 AND t.id = a.template_id
		ORDER BY a.id`, m.tenantID, sources)
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
