package milestones

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/synapsehq/synapse/engine/lake"
)

const (
	counterSQL = `SELECT event_type, channel_id,
		CASE WHEN day >= $4::date OR ($5 AND day >= (SELECT (started_at AT TIME ZONE 'UTC')::date FROM ledger_seasons
			WHERE tenant_id = $1 AND guild_id = $2 AND ended_at IS NULL)) THEN day - DATE '1970-01-01' END,
		sum(events), sum(magnitude)
		FROM event_counters WHERE tenant_id = $1 AND guild_id = $2 AND user_id = $3
		GROUP BY 1, 2, 3`
	memberSQL = `SELECT joined_at, flags FROM members WHERE tenant_id = $1 AND guild_id = $2 AND user_id = $3`
	awardsSQL = `SELECT a.template_id, a.season_id, a.revoked_at IS NULL, t.key FROM milestone_awards a
		JOIN milestone_templates t ON t.tenant_id = a.tenant_id AND t.id = a.template_id
		WHERE a.tenant_id = $1 AND a.guild_id = $2 AND a.user_id = $3`
	seasonSQL = `SELECT id, (started_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01' FROM ledger_seasons
		WHERE tenant_id = $1 AND guild_id = $2 AND ended_at IS NULL`
	guildSQL = `SELECT afk_channel_id, coalesce(settings->'capture'->'afk_channels', '[]'::jsonb),
		coalesce(settings->'milestones'->>'timezone', settings->>'timezone', '')
		FROM guilds WHERE tenant_id = $1 AND id = $2`
	// Wallets are read here rather than through the ledger's API so that a
	// check costs one round trip (the hot path of every XP credit).
	walletSQL = `SELECT currency_id, balance, lifetime_earned FROM ledger_wallets
		WHERE tenant_id = $1 AND guild_id = $2 AND user_id = $3`
)

// load reads one member's state for the guild's templates: one pgx batch
// (one round trip), plus the live ranks when a template reads one.
func (m *Milestones) load(ctx context.Context, guildID, userID int64, now time.Time) (*memberState, *guildSet, error) {
	set := m.svc.cached(m.tenantID, guildID)
	for attempt := 0; ; attempt++ {
		st, stamp, err := m.loadState(ctx, guildID, userID, now, set)
		if err != nil {
			return nil, nil, err
		}
		if set != nil && set.stamp == stamp {
			st.set = set
			if err := m.loadRanks(ctx, guildID, userID, st); err != nil {
				return nil, nil, err
			}
			return st, set, nil
		}
		if attempt > 2 {
			return nil, nil, fmt.Errorf("milestones: templates of guild %d keep changing", guildID)
		}
		if set, err = m.loadSet(ctx, guildID, stamp); err != nil {
			return nil, nil, err
		}
		m.svc.keep(m.tenantID, guildID, set)
	}
}

func (m *Milestones) loadState(ctx context.Context, guildID, userID int64, now time.Time, set *guildSet) (*memberState, string, error) {
	oldest, seasonal := 0, false
	if set != nil {
		oldest, seasonal = set.oldestDay, set.seasonal
	}
	utcToday := DayOf(now, time.UTC)
	cutoff := (utcToday - Day(oldest)).Time()
	st := &memberState{now: now, utcToday: utcToday, rows: map[lake.Type][]counterRow{}, wallets: map[int64]walletVals{},
		slots: map[int64]awardSlots{}, earned: map[string]bool{}, afk: map[int64]bool{}, roles: []int64{}}
	var stamp string
	b := &pgx.Batch{}
	t, g, u := m.tenantID, guildID, userID
	b.Queue(stampSQL, t, g).QueryRow(func(r pgx.Row) error { return r.Scan(&stamp) })
	b.Queue(counterSQL, t, g, u, cutoff, seasonal).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			var typ int16
			var ch, ev, mag int64
			var day *int32
			if err := rs.Scan(&typ, &ch, &day, &ev, &mag); err != nil {
				return err
			}
			r := counterRow{typ: lake.Type(typ), channel: ch, day: oldDay, events: ev, mag: mag}
			if day != nil {
				r.day = Day(*day)
			}
			st.rows[r.typ] = append(st.rows[r.typ], r)
		}
		return rs.Err()
	})
	b.Queue(memberSQL, t, g, u).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			var joined *time.Time
			if err := rs.Scan(&joined, &st.flags); err != nil {
				return err
			}
			st.member = true
			if joined != nil {
				st.joinedAt = *joined
			}
		}
		return rs.Err()
	})
	type awardRow struct {
		template int64
		season   *int64
		active   bool
		key      string
	}
	var awards []awardRow
	b.Queue(awardsSQL, t, g, u).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			var a awardRow
			if err := rs.Scan(&a.template, &a.season, &a.active, &a.key); err != nil {
				return err
			}
			awards = append(awards, a)
		}
		return rs.Err()
	})
	b.Queue(seasonSQL, t, g).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			var start int32
			if err := rs.Scan(&st.seasonID, &start); err != nil {
				return err
			}
			st.seasonStart = Day(start)
		}
		return rs.Err()
	})
	var tz string
	b.Queue(guildSQL, t, g).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			var afk int64
			var afkList []byte
			if err := rs.Scan(&afk, &afkList, &tz); err != nil {
				return err
			}
			if afk != 0 {
				st.afk[afk] = true
			}
			var ids []json.Number
			if json.Unmarshal(afkList, &ids) == nil {
				for _, id := range ids {
					if n, err := strconv.ParseInt(id.String(), 10, 64); err == nil {
						st.afk[n] = true
					}
				}
			}
			var strs []string
			if json.Unmarshal(afkList, &strs) == nil {
				for _, id := range strs {
					if n, err := strconv.ParseInt(id, 10, 64); err == nil {
						st.afk[n] = true
					}
				}
			}
		}
		return rs.Err()
	})
	b.Queue(walletSQL, t, g, u).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			var id int64
			var w walletVals
			if err := rs.Scan(&id, &w.balance, &w.lifetime); err != nil {
				return err
			}
			st.wallets[id] = w
		}
		return rs.Err()
	})
	if err := m.db.Pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, "", fmt.Errorf("milestones: load member %d: %w", userID, err)
	}
	st.loc = m.svc.location(tz)
	st.today = DayOf(now, st.loc)
	for _, a := range awards {
		if a.active {
			st.earned[a.key] = true
		}
		// A slot belongs to the scope it was earned in: lifetime awards
		// carry no season, seasonal ones the season's id.
		if a.season == nil || (st.seasonID != 0 && *a.season == st.seasonID) {
			s := st.slots[a.template]
			s.taken++
			if a.active {
				s.active++
			}
			st.slots[a.template] = s
		}
	}
	if m.svc.Roles != nil {
		roles, err := m.svc.Roles.Roles(ctx, m.tenantID, guildID, userID)
		if err != nil {
			return nil, "", fmt.Errorf("milestones: roles of %d: %w", userID, err)
		}
		st.roles = append(st.roles, roles...)
	}
	return st, stamp, nil
}

func (m *Milestones) loadRanks(ctx context.Context, guildID, userID int64, st *memberState) error {
	if len(st.set.rankOf) == 0 {
		return nil
	}
	st.ranks = map[int64]int64{}
	for _, cid := range st.set.rankOf {
		if st.wallets[cid].balance <= 0 {
			continue // nothing held: not ranked
		}
		r, err := m.led.Rank(ctx, guildID, cid, userID, 0)
		if err != nil {
			return fmt.Errorf("milestones: rank of %d: %w", userID, err)
		}
		st.ranks[cid] = r.Rank
	}
	return nil
}

// location resolves a guild's time zone (UTC when unset or unknown).
func (s *Service) location(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if v, ok := s.zones.Load(name); ok {
		return v.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	s.zones.Store(name, loc)
	return loc
}
