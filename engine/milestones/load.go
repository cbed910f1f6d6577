package milestones

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/synapsehq/synapse/engine/lake"
)

const (
	// counterSQL sums a member's closed days (before $5): by day from the
	// cutoff $4 on, and all earlier days together; then the member's
	// guild-local active days from the cutoff to the day before $5 (one
	// more day is live: a local date can run a day behind UTC's), their
	// type shifted by activeTypeBase ($6).
	counterSQL = `SELECT event_type, channel_id, CASE WHEN day >= $4::date THEN day - DATE '1970-01-01' END,
		sum(events)::bigint, sum(magnitude)::bigint
		FROM event_counters WHERE tenant_id = $1 AND guild_id = $2 AND user_id = $3 AND day < $5::date
		GROUP BY 1, 2, 3
	UNION ALL
	SELECT (event_type + $6::int)::smallint, 0, day - DATE '1970-01-01', events::bigint, 0
		FROM member_active_days WHERE tenant_id = $1 AND guild_id = $2 AND user_id = $3 AND day >= $4::date AND day < $5::date - 1`
	// headSQL is everything single-row: the templates' stamp, the member
	// (with the roles the gateway keeps current),
	// the running season, the guild's settings and the counter cache.
	headSQL = `SELECT ` + stampExpr + `,
		m.joined_at, m.flags, m.user_id IS NOT NULL, coalesce(m.roles, '{}'),
		s.id, (s.started_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01',
		coalesce(g.afk_channel_id, 0), coalesce(g.settings->'capture'->'afk_channels', '[]'::jsonb),
		coalesce(g.settings->'milestones'->>'timezone', g.settings->>'timezone', ''),
		c.through_day - DATE '1970-01-01', c.cutoff_day - DATE '1970-01-01', c.updated_at,
		CASE WHEN c.updated_at = $4 THEN NULL ELSE c.rows END
		FROM (SELECT 1) one
		LEFT JOIN guilds g ON g.tenant_id = $1 AND g.id = $2
		LEFT JOIN members m ON m.tenant_id = $1 AND m.guild_id = $2 AND m.user_id = $3
		LEFT JOIN ledger_seasons s ON s.tenant_id = $1 AND s.guild_id = $2 AND s.ended_at IS NULL
		LEFT JOIN milestone_counter_cache c ON c.tenant_id = $1 AND c.guild_id = $2 AND c.user_id = $3`
	saveCacheSQL = `INSERT INTO milestone_counter_cache (tenant_id, guild_id, user_id, through_day, cutoff_day, rows)
		VALUES ($1, $2, $3, $4::date, $5::date, $6)
		ON CONFLICT (tenant_id, guild_id, user_id) DO UPDATE
		SET through_day = EXCLUDED.through_day, cutoff_day = EXCLUDED.cutoff_day, rows = EXCLUDED.rows, updated_at = clock_timestamp()
		RETURNING updated_at`
	// rowsSQL is everything multi-row in one statement, tagged by kind:
	// 1 the live days' counters (type, channel, day, events, magnitude), 5
	// the live active days (type, 0, local day, events), 2 award
	// slots (template, season or 0, taken, active), 3 wallets (currency,
	// balance, lifetime earned), 4 live ranks (currency, members above,
	// counted no further than $6 places; ties broken by user id). Wallets
	// are read here rather than through the ledger's API so that a check
	// costs one round trip (the hot path of every XP credit).
	rowsSQL = `SELECT 1::smallint, event_type::bigint, channel_id, (day - DATE '1970-01-01')::bigint, events, magnitude
		FROM event_counters WHERE tenant_id = $1 AND guild_id = $2 AND user_id = $3 AND day >= $4::date
	UNION ALL
	SELECT 2, template_id, coalesce(season_id, 0), count(*), count(*) FILTER (WHERE revoked_at IS NULL), 0
		FROM milestone_awards WHERE tenant_id = $1 AND guild_id = $2 AND user_id = $3 GROUP BY template_id, season_id
	UNION ALL
	SELECT 3, currency_id, balance, lifetime_earned, 0, 0
		FROM ledger_wallets WHERE tenant_id = $1 AND guild_id = $2 AND user_id = $3
	UNION ALL
	SELECT 4, c.id, (SELECT count(*) FROM (SELECT 1 FROM ledger_wallets o
			WHERE o.tenant_id = $1 AND o.guild_id = $2 AND o.currency_id = c.id
			AND (o.balance > w.balance OR (o.balance = w.balance AND o.user_id < w.user_id)) LIMIT $6) s), 0, 0, 0
		FROM unnest($5::bigint[]) AS c(id)
		JOIN ledger_wallets w ON w.tenant_id = $1 AND w.guild_id = $2 AND w.currency_id = c.id AND w.user_id = $3
		WHERE w.balance > 0
	UNION ALL
	SELECT 5, event_type::bigint, 0, (day - DATE '1970-01-01')::bigint, events::bigint, 0
		FROM member_active_days WHERE tenant_id = $1 AND guild_id = $2 AND user_id = $3 AND day >= $7::date`
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
			for _, id := range st.earnedIDs {
				st.earned[set.keyOf[id]] = true
			}
			if err := m.loadCounters(ctx, guildID, userID, st); err != nil {
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
	utcToday := DayOf(now, time.UTC)
	st := &memberState{now: now, utcToday: utcToday, live: map[lake.Type][]counterRow{}, wallets: map[int64]walletVals{},
		slots: map[int64]awardSlots{}, earned: map[string]bool{}, afk: map[int64]bool{}, roles: []int64{}}
	var stamp string
	b := &pgx.Batch{}
	t, g, u := m.tenantID, guildID, userID
	var tz string
	known := m.svc.decodedCache(t, g, u)
	var knownAt *time.Time
	if known != nil {
		knownAt = &known.updatedAt
	}
	b.Queue(headSQL, t, g, u, knownAt).QueryRow(func(r pgx.Row) error {
		var (
			joined              *time.Time
			flags               *int32
			season              *int64
			start, through, cut *int32
			afk                 int64
			afkList, cache      []byte
			cachedAt            *time.Time
		)
		if err := r.Scan(&stamp, &joined, &flags, &st.member, &st.roles, &season, &start, &afk, &afkList, &tz, &through, &cut, &cachedAt, &cache); err != nil {
			return err
		}
		if joined != nil {
			st.joinedAt = *joined
		}
		if flags != nil {
			st.flags = *flags
		}
		if season != nil && start != nil {
			st.seasonID, st.seasonStart = *season, Day(*start)
		}
		if through != nil && cut != nil {
			st.cache = &counterCache{through: Day(*through), cutoff: Day(*cut), data: cache, updatedAt: *cachedAt}
			if cache == nil && known != nil && known.updatedAt.Equal(*cachedAt) {
				st.cache.byType = known.byType // unchanged since this process decoded it
			}
		}
		st.addAFK(afk, afkList)
		return nil
	})
	type awardRow struct {
		template, season, taken, active int64
	}
	var awards []awardRow
	var rankOf []int64
	maxTop := 0
	if set != nil {
		rankOf, maxTop = set.rankOf, set.maxTop
		if len(rankOf) > 0 {
			st.ranks = map[int64]int64{}
		}
	}
	b.Queue(rowsSQL, t, g, u, (utcToday - liveDays + 1).Time(), rankOf, maxTop, (utcToday - liveDays).Time()).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			var kind int16
			var a, b, c, d, e int64
			if err := rs.Scan(&kind, &a, &b, &c, &d, &e); err != nil {
				return err
			}
			switch kind {
			case 1:
				st.live[lake.Type(a)] = append(st.live[lake.Type(a)], counterRow{typ: lake.Type(a), channel: b, day: Day(c), events: d, mag: e})
			case 2:
				awards = append(awards, awardRow{template: a, season: b, taken: c, active: d})
			case 3:
				st.wallets[a] = walletVals{balance: b, lifetime: c}
			case 5:
				at := activeType(lake.Type(a))
				st.live[at] = append(st.live[at], counterRow{typ: at, day: Day(c), events: d})
			case 4:
				st.ranks[a] = -1 // outside the counted places
				if b < int64(maxTop) {
					st.ranks[a] = b + 1
				}
			}
		}
		return rs.Err()
	})
	if err := m.db.Pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, "", fmt.Errorf("milestones: load member %d: %w", userID, err)
	}
	st.loc = m.svc.location(tz)
	st.localToday = DayOf(now, st.loc)
	st.awardRows = len(awards)
	for _, a := range awards {
		if a.active > 0 {
			st.earnedIDs = append(st.earnedIDs, a.template)
		}
		// A slot belongs to the scope it was earned in: lifetime awards
		// carry no season, seasonal ones the season's id.
		if a.season == 0 || (st.seasonID != 0 && a.season == st.seasonID) {
			s := st.slots[a.template]
			s.taken += int(a.taken)
			s.active += int(a.active)
			st.slots[a.template] = s
		}
	}
	if m.svc.Roles != nil { // a caller that knows better than the stored roles
		roles, err := m.svc.Roles.Roles(ctx, m.tenantID, guildID, userID)
		if err != nil {
			return nil, "", fmt.Errorf("milestones: roles of %d: %w", userID, err)
		}
		st.roles = append([]int64{}, roles...)
	}
	return st, stamp, nil
}

// liveDays are read from event_counters on every check (today and
// yesterday): counters of yesterday still grow after midnight (commit lag,
// a voice session closed past midnight), so only older days are cached.
const liveDays = 2

// counterCache is a member's cached closed-day counters.
type counterCache struct {
	through, cutoff Day
	updatedAt       time.Time
	data            []byte                     // encoded rows, when the process did not have them
	byType          map[lake.Type][]counterRow // decoded rows by type; read only once built
}

// loadCounters fills st.rows from the cache and the live days' counters,
// rebuilding the cache from event_counters when it is from another day or
// was built for another cutoff (the templates or the season changed).
func (m *Milestones) loadCounters(ctx context.Context, guildID, userID int64, st *memberState) error {
	cutoff := st.utcToday - Day(st.set.oldestDay)
	through := st.utcToday - liveDays + 1 // the cache holds the days before the live ones
	if st.set.seasonal && st.seasonID != 0 && st.seasonStart < cutoff {
		cutoff = st.seasonStart
	}
	if c := st.cache; c != nil && c.through == through && c.cutoff == cutoff {
		switch {
		case c.byType != nil:
			st.closed = c.byType
			return nil
		case c.data != nil:
			rows, err := decodeRows(c.data)
			if err == nil {
				c.byType = groupRows(rows)
				m.svc.keepDecoded(m.tenantID, guildID, userID, c)
				st.closed = c.byType
				return nil
			}
			m.logger.WarnContext(ctx, "milestones: counter cache unreadable, rebuilding", "user_id", userID, "err", err)
		}
		// else this process forgot it meanwhile: rebuild
	}
	rs, err := m.db.Pool.Query(ctx, counterSQL, m.tenantID, guildID, userID, cutoff.Time(), through.Time(), int(activeTypeBase))
	if err != nil {
		return fmt.Errorf("milestones: counters of %d: %w", userID, err)
	}
	var rows []counterRow
	for rs.Next() {
		var typ int16
		var day *int32
		r := counterRow{day: oldDay}
		if err := rs.Scan(&typ, &r.channel, &day, &r.events, &r.mag); err != nil {
			rs.Close()
			return fmt.Errorf("milestones: counters of %d: %w", userID, err)
		}
		r.typ = lake.Type(typ)
		if day != nil {
			r.day = Day(*day)
		}
		rows = append(rows, r)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("milestones: counters of %d: %w", userID, err)
	}
	c := &counterCache{through: through, cutoff: cutoff, byType: groupRows(rows)}
	if err := m.db.Pool.QueryRow(ctx, saveCacheSQL, m.tenantID, guildID, userID, through.Time(), cutoff.Time(),
		encodeRows(rows)).Scan(&c.updatedAt); err != nil {
		return fmt.Errorf("milestones: save counter cache of %d: %w", userID, err)
	}
	m.svc.keepDecoded(m.tenantID, guildID, userID, c)
	st.closed = c.byType
	return nil
}

// groupRows indexes rows by event type (never nil: nil means "not decoded").
func groupRows(rows []counterRow) map[lake.Type][]counterRow {
	out := make(map[lake.Type][]counterRow, len(lake.Types))
	for _, r := range rows {
		out[r.typ] = append(out[r.typ], r)
	}
	return out
}

func encodeRows(rows []counterRow) []byte {
	b := make([]byte, 0, len(rows)*12)
	b = binary.AppendUvarint(b, uint64(len(rows)))
	for _, r := range rows {
		b = binary.AppendVarint(b, int64(r.typ))
		b = binary.AppendVarint(b, r.channel)
		b = binary.AppendVarint(b, int64(r.day))
		b = binary.AppendVarint(b, r.events)
		b = binary.AppendVarint(b, r.mag)
	}
	return b
}

func decodeRows(b []byte) ([]counterRow, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, fmt.Errorf("bad row count")
	}
	b = b[k:]
	out := make([]counterRow, 0, n)
	var vals [5]int64
	for range n {
		for i := range vals {
			v, k := binary.Varint(b)
			if k <= 0 {
				return nil, fmt.Errorf("truncated rows")
			}
			vals[i], b = v, b[k:]
		}
		out = append(out, counterRow{typ: lake.Type(vals[0]), channel: vals[1], day: Day(vals[2]), events: vals[3], mag: vals[4]})
	}
	return out, nil
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

// addAFK records the guild's AFK channel and the operator's AFK channels
// (settings.capture.afk_channels, ids as strings or numbers).
func (s *memberState) addAFK(afk int64, list []byte) {
	if afk != 0 {
		s.afk[afk] = true
	}
	var ids []json.Number
	if json.Unmarshal(list, &ids) == nil {
		for _, id := range ids {
			if n, err := strconv.ParseInt(id.String(), 10, 64); err == nil {
				s.afk[n] = true
			}
		}
		return
	}
	var strs []string
	if json.Unmarshal(list, &strs) == nil {
		for _, id := range strs {
			if n, err := strconv.ParseInt(id, 10, 64); err == nil {
				s.afk[n] = true
			}
		}
	}
}

// decodedCacheSize bounds the members whose decoded counter cache a
// process keeps (a few tens of KB each for a very active member).
const decodedCacheSize = 1024

func (s *Service) decodedCache(tenantID, guildID, userID int64) *counterCache {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.decoded[[3]int64{tenantID, guildID, userID}]
}

func (s *Service) keepDecoded(tenantID, guildID, userID int64, c *counterCache) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.decoded) >= decodedCacheSize {
		for k := range s.decoded { // evict an arbitrary member
			delete(s.decoded, k)
			break
		}
	}
	s.decoded[[3]int64{tenantID, guildID, userID}] = &counterCache{through: c.through, cutoff: c.cutoff, updatedAt: c.updatedAt, byType: c.byType}
}
