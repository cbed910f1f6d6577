package milestones

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/synapsehq/synapse/engine/lake"
)

// Every per-member read below runs for a whole batch of members at once,
// one lookup per member: each member's rows are read in a LATERAL subquery
// whose OFFSET 0 keeps the planner from flattening it into a join over the
// guild's rows (which it picks when a table has no statistics yet, and which
// then reads every member of the guild for each check).
const (
	// guildSQL is the guild's single-row state: the templates' stamp, the
	// running season, the AFK channels and the time zone.
	guildSQL = `SELECT ` + stampExpr + `,
		s.id, (s.started_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01',
		coalesce(g.afk_channel_id, 0), coalesce(g.settings->'capture'->'afk_channels', '[]'::jsonb),
		coalesce(g.settings->'milestones'->>'timezone', g.settings->>'timezone', '')
		FROM (SELECT 1) one
		LEFT JOIN guilds g ON g.tenant_id = $1 AND g.id = $2
		LEFT JOIN ledger_seasons s ON s.tenant_id = $1 AND s.guild_id = $2 AND s.ended_at IS NULL`
	// membersSQL is each member's single-row state: the member (with the
	// roles the gateway keeps current) and the counter cache, whose rows
	// are not sent when this process already holds that version ($4).
	membersSQL = `SELECT u.id, m.joined_at, m.flags, m.user_id IS NOT NULL, coalesce(m.roles, '{}'),
		c.through_day - DATE '1970-01-01', c.cutoff_day - DATE '1970-01-01', c.updated_at,
		CASE WHEN c.updated_at = u.known THEN NULL ELSE c.rows END
		FROM unnest($3::bigint[], $4::timestamptz[]) AS u(id, known)
		LEFT JOIN LATERAL (SELECT * FROM members m WHERE m.tenant_id = $1 AND m.guild_id = $2 AND m.user_id = u.id OFFSET 0) m ON true
		LEFT JOIN LATERAL (SELECT * FROM milestone_counter_cache c WHERE c.tenant_id = $1 AND c.guild_id = $2 AND c.user_id = u.id OFFSET 0) c ON true`
	// rowsSQL is everything multi-row, by member, tagged by kind: 1 the
	// live days' counters (type, channel, day, events, magnitude), 5 the
	// live active days (type, 0, local day, events), 2 award slots
	// (template, season or 0, taken, active), 3 wallets (currency,
	// balance, lifetime earned), 4 live ranks (currency, members above,
	// counted no further than $6 places; ties broken by user id: two
	// counts, each a bounded range of the rank index, where one OR would
	// read every wallet below the member's). Wallets
	// are read here rather than through the ledger's API so that a check
	// costs no extra round trip (the hot path of every XP credit).
	rowsSQL = `SELECT u.id, x.* FROM unnest($3::bigint[]) AS u(id) CROSS JOIN LATERAL (
		SELECT 1::smallint, event_type::bigint, channel_id, (day - DATE '1970-01-01')::bigint, events, magnitude
			FROM event_counters WHERE tenant_id = $1 AND guild_id = $2 AND user_id = u.id AND day >= $4::date
		UNION ALL
		SELECT 2, template_id, coalesce(season_id, 0), count(*), count(*) FILTER (WHERE revoked_at IS NULL), 0
			FROM milestone_awards WHERE tenant_id = $1 AND guild_id = $2 AND user_id = u.id GROUP BY template_id, season_id
		UNION ALL
		SELECT 3, w.currency_id, w.balance, w.lifetime_earned, 0, 0
			FROM ledger_currencies c
			CROSS JOIN LATERAL (SELECT * FROM ledger_wallets w
				WHERE w.tenant_id = $1 AND w.guild_id = $2 AND w.currency_id = c.id AND w.user_id = u.id OFFSET 0) w
			WHERE c.tenant_id = $1 AND c.guild_id = $2
		UNION ALL
		SELECT 4, c.id, (SELECT count(*) FROM (SELECT 1 FROM ledger_wallets o
				WHERE o.tenant_id = $1 AND o.guild_id = $2 AND o.currency_id = c.id AND o.balance > w.balance LIMIT $6) s)
			+ (SELECT count(*) FROM (SELECT 1 FROM ledger_wallets o
				WHERE o.tenant_id = $1 AND o.guild_id = $2 AND o.currency_id = c.id AND o.balance = w.balance AND o.user_id < w.user_id LIMIT $6) s), 0, 0, 0
			FROM unnest($5::bigint[]) AS c(id)
			CROSS JOIN LATERAL (SELECT * FROM ledger_wallets w
				WHERE w.tenant_id = $1 AND w.guild_id = $2 AND w.currency_id = c.id AND w.user_id = u.id OFFSET 0) w
			WHERE w.balance > 0
		UNION ALL
		SELECT 5, event_type::bigint, 0, (day - DATE '1970-01-01')::bigint, events::bigint, 0
			FROM member_active_days WHERE tenant_id = $1 AND guild_id = $2 AND user_id = u.id AND day >= $7::date
	) x`
	// counterSQL sums each member's closed days (before $5): by day from
	// the cutoff $4 on, and all earlier days together; then the member's
	// guild-local active days from the cutoff to the day before $5 (one
	// more day is live: a local date can run a day behind UTC's), their
	// type shifted by activeTypeBase ($6).
	counterSQL = `SELECT u.id, x.* FROM unnest($3::bigint[]) AS u(id) CROSS JOIN LATERAL (
		SELECT event_type, channel_id, CASE WHEN day >= $4::date THEN day - DATE '1970-01-01' END,
			sum(events)::bigint, sum(magnitude)::bigint
			FROM event_counters WHERE tenant_id = $1 AND guild_id = $2 AND user_id = u.id AND day < $5::date
			GROUP BY 1, 2, 3
		UNION ALL
		SELECT (event_type + $6::int)::smallint, 0, day - DATE '1970-01-01', events::bigint, 0
			FROM member_active_days WHERE tenant_id = $1 AND guild_id = $2 AND user_id = u.id AND day >= $4::date AND day < $5::date - 1
	) x`
	// saveCacheSQL writes the members' rebuilt caches in user order (the
	// lock order every writer follows). The cache can always be rebuilt
	// from the counters, so its commit does not wait for the WAL flush.
	saveCacheSQL = `INSERT INTO milestone_counter_cache (tenant_id, guild_id, user_id, through_day, cutoff_day, rows)
		SELECT $1, $2, u.id, $4::date, $5::date, u.rows FROM unnest($3::bigint[], $6::bytea[]) AS u(id, rows) ORDER BY u.id
		ON CONFLICT (tenant_id, guild_id, user_id) DO UPDATE
		SET through_day = EXCLUDED.through_day, cutoff_day = EXCLUDED.cutoff_day, rows = EXCLUDED.rows, updated_at = clock_timestamp()
		RETURNING user_id, updated_at`
)

// load reads one member's state for the guild's templates.
func (m *Milestones) load(ctx context.Context, guildID, userID int64, now time.Time) (*memberState, *guildSet, error) {
	sts, set, err := m.loadMembers(ctx, guildID, []int64{userID}, now)
	if err != nil {
		return nil, nil, err
	}
	return sts[userID], set, nil
}

// loadMembers reads members' state for the guild's templates: one pgx batch
// (one round trip) for all of them, plus one for the members whose closed
// days must be summed again (their first check of the day).
func (m *Milestones) loadMembers(ctx context.Context, guildID int64, users []int64, now time.Time) (map[int64]*memberState, *guildSet, error) {
	set := m.svc.cached(m.tenantID, guildID)
	for attempt := 0; ; attempt++ {
		sts, stamp, err := m.loadStates(ctx, guildID, users, now, set)
		if err != nil {
			return nil, nil, err
		}
		if set != nil && set.stamp == stamp {
			for _, st := range sts {
				st.set = set
				for _, id := range st.earnedIDs {
					st.earned[set.keyOf[id]] = true
				}
			}
			if err := m.loadCounters(ctx, guildID, sts); err != nil {
				return nil, nil, err
			}
			return sts, set, nil
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

func (m *Milestones) loadStates(ctx context.Context, guildID int64, users []int64, now time.Time, set *guildSet) (map[int64]*memberState, string, error) {
	utcToday := DayOf(now, time.UTC)
	t, g := m.tenantID, guildID
	sts := make(map[int64]*memberState, len(users))
	known := make(map[int64]*counterCache, len(users))
	knownAt := make([]pgtype.Timestamptz, len(users))
	for i, u := range users {
		sts[u] = &memberState{now: now, utcToday: utcToday, live: map[lake.Type][]counterRow{}, wallets: map[int64]walletVals{},
			slots: map[int64]awardSlots{}, earned: map[string]bool{}, roles: []int64{}}
		if c := m.svc.decodedCache(t, g, u); c != nil {
			known[u], knownAt[i] = c, pgtype.Timestamptz{Time: c.updatedAt, Valid: true}
		}
	}
	var (
		stamp       string
		season      *int64
		seasonStart *int32
		afk         int64
		afkList     []byte
		tz          string
	)
	b := &pgx.Batch{}
	b.Queue(guildSQL, t, g).QueryRow(func(r pgx.Row) error {
		return r.Scan(&stamp, &season, &seasonStart, &afk, &afkList, &tz)
	})
	b.Queue(membersSQL, t, g, users, knownAt).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			var (
				u            int64
				joined       *time.Time
				flags        *int32
				through, cut *int32
				cache        []byte
				cachedAt     *time.Time
				member       bool
				roles        []int64
			)
			if err := rs.Scan(&u, &joined, &flags, &member, &roles, &through, &cut, &cachedAt, &cache); err != nil {
				return err
			}
			st := sts[u]
			st.member, st.roles = member, roles
			if joined != nil {
				st.joinedAt = *joined
			}
			if flags != nil {
				st.flags = *flags
			}
			if through != nil && cut != nil {
				st.cache = &counterCache{through: Day(*through), cutoff: Day(*cut), data: cache, updatedAt: *cachedAt}
				if k := known[u]; cache == nil && k != nil && k.updatedAt.Equal(*cachedAt) {
					st.cache.byType = k.byType // unchanged since this process decoded it
				}
			}
		}
		return rs.Err()
	})
	type awardRow struct {
		template, season, taken, active int64
	}
	awards := map[int64][]awardRow{}
	var rankOf []int64
	maxTop := 0
	if set != nil {
		rankOf, maxTop = set.rankOf, set.maxTop
	}
	b.Queue(rowsSQL, t, g, users, (utcToday - liveDays + 1).Time(), rankOf, maxTop, (utcToday - liveDays).Time()).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			var kind int16
			var u, a, b, c, d, e int64
			if err := rs.Scan(&u, &kind, &a, &b, &c, &d, &e); err != nil {
				return err
			}
			st := sts[u]
			switch kind {
			case 1:
				st.live[lake.Type(a)] = append(st.live[lake.Type(a)], counterRow{typ: lake.Type(a), channel: b, day: Day(c), events: d, mag: e})
			case 2:
				awards[u] = append(awards[u], awardRow{template: a, season: b, taken: c, active: d})
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
	if len(rankOf) > 0 {
		for _, st := range sts {
			st.ranks = map[int64]int64{}
		}
	}
	if err := m.db.Pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, "", fmt.Errorf("milestones: load %d members of guild %d: %w", len(users), guildID, err)
	}
	loc := m.svc.location(tz)
	for _, u := range users {
		st := sts[u]
		if season != nil && seasonStart != nil {
			st.seasonID, st.seasonStart = *season, Day(*seasonStart)
		}
		st.afk = map[int64]bool{}
		st.addAFK(afk, afkList)
		st.loc, st.localToday = loc, DayOf(now, loc)
		st.awardRows = len(awards[u])
		for _, a := range awards[u] {
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
			roles, err := m.svc.Roles.Roles(ctx, m.tenantID, guildID, u)
			if err != nil {
				return nil, "", fmt.Errorf("milestones: roles of %d: %w", u, err)
			}
			st.roles = append([]int64{}, roles...)
		}
	}
	return sts, stamp, nil
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

// loadCounters fills each member's closed rows from the cache, rebuilding
// the caches that are from another day or were built for another cutoff
// (the templates or the season changed) from event_counters, all members
// in one query.
func (m *Milestones) loadCounters(ctx context.Context, guildID int64, sts map[int64]*memberState) error {
	var cutoff, through Day
	for _, st := range sts { // the same for every member: one guild, one now
		through, cutoff = st.cacheSpan()
		break
	}
	var stale []int64
	for u, st := range sts {
		if c := st.cache; c != nil && c.through == through && c.cutoff == cutoff {
			switch {
			case c.byType != nil:
				st.closed = c.byType
				continue
			case c.data != nil:
				rows, err := decodeRows(c.data)
				if err == nil {
					c.byType = groupRows(rows)
					m.svc.keepDecoded(m.tenantID, guildID, u, c)
					st.closed = c.byType
					continue
				}
				m.logger.WarnContext(ctx, "milestones: counter cache unreadable, rebuilding", "user_id", u, "err", err)
			}
			// else this process forgot it meanwhile: rebuild
		}
		stale = append(stale, u)
	}
	if len(stale) == 0 {
		return nil
	}
	slices.Sort(stale)
	rs, err := m.db.Pool.Query(ctx, counterSQL, m.tenantID, guildID, stale, cutoff.Time(), through.Time(), int(activeTypeBase))
	if err != nil {
		return fmt.Errorf("milestones: counters of %d members: %w", len(stale), err)
	}
	rows := make(map[int64][]counterRow, len(stale))
	for rs.Next() {
		var u int64
		var typ int16
		var day *int32
		r := counterRow{day: oldDay}
		if err := rs.Scan(&u, &typ, &r.channel, &day, &r.events, &r.mag); err != nil {
			rs.Close()
			return fmt.Errorf("milestones: counters of %d members: %w", len(stale), err)
		}
		r.typ = lake.Type(typ)
		if day != nil {
			r.day = Day(*day)
		}
		rows[u] = append(rows[u], r)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("milestones: counters of %d members: %w", len(stale), err)
	}
	encoded := make([][]byte, len(stale))
	for i, u := range stale {
		encoded[i] = encodeRows(rows[u])
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue("SET LOCAL synchronous_commit = off")
	b.Queue(saveCacheSQL, m.tenantID, guildID, stale, through.Time(), cutoff.Time(), encoded).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			var u int64
			var at time.Time
			if err := rs.Scan(&u, &at); err != nil {
				return err
			}
			c := &counterCache{through: through, cutoff: cutoff, updatedAt: at, byType: groupRows(rows[u])}
			m.svc.keepDecoded(m.tenantID, guildID, u, c)
			sts[u].closed = c.byType
		}
		return rs.Err()
	})
	b.Queue("COMMIT")
	if err := m.db.Pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("milestones: save counter caches of %d members: %w", len(stale), err)
	}
	return nil
}

// cacheSpan is the closed days the counter cache must hold: those before
// the live ones (through), by day from cutoff on (the oldest day a window
// or streak reads, or the running season's start when a template is
// seasonal).
func (st *memberState) cacheSpan() (through, cutoff Day) {
	through = st.utcToday - liveDays + 1
	cutoff = st.utcToday - Day(st.set.oldestDay)
	if st.set.seasonal && st.seasonID != 0 && st.seasonStart < cutoff {
		cutoff = st.seasonStart
	}
	return through, cutoff
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
