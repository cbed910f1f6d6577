package lake

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Active days: member_active_days counts each member's events per type on
// each date of the guild's own calendar, written with the lake rows.
//
// Why not derive streak days from the counters: those are per UTC day, and
// a local day straddles two of them, so no sum of day counters says
// whether a member was active on 3 May in Los Angeles. Hour-granular
// counters would, but not in the zones that are 30 or 45 minutes off
// (India, Nepal, parts of Australia), and they multiply counter rows by up
// to 24. Recording the local date when the event is written costs one
// extra upsert per batch on rows without a channel (fewer than the
// counters' rows) and keeps every streak check a short primary-key range
// read. The type stays in the key, so what counts as active (which types,
// how many events) remains a per-template choice.
//
// The date follows the zone the guild had when the event was written;
// after a zone change the weekly reconciliation restates the last days.

// zoneTTL bounds how long a changed guild time zone takes to apply.
const zoneTTL = 30 * time.Second

// zoneSQL is the one place the lake reads a guild's time zone setting;
// engine/milestones reads the same fields (milestones.timezone, else
// timezone).
const zoneSQL = `SELECT id, coalesce(settings->'milestones'->>'timezone', settings->>'timezone', '') FROM guilds WHERE id = ANY($1)`

// zoneCache remembers guilds' time zones for a while.
type zoneCache struct {
	mu     sync.Mutex
	guilds map[int64]zoneEntry
	byName map[string]*time.Location
	now    func() time.Time
}

type zoneEntry struct {
	loc     *time.Location
	expires time.Time
}

func newZoneCache() *zoneCache {
	return &zoneCache{guilds: map[int64]zoneEntry{}, byName: map[string]*time.Location{}, now: time.Now}
}

// resolve returns the zone of every guild of the events, reading the
// unknown or expired ones in one query.
func (z *zoneCache) resolve(ctx context.Context, tx pgx.Tx, events []Event) (map[int64]*time.Location, error) {
	now := z.now()
	out := map[int64]*time.Location{}
	var missing []int64
	z.mu.Lock()
	for _, e := range events {
		if _, ok := out[e.GuildID]; ok {
			continue
		}
		if ent, ok := z.guilds[e.GuildID]; ok && now.Before(ent.expires) {
			out[e.GuildID] = ent.loc
			continue
		}
		out[e.GuildID] = time.UTC
		if !slices.Contains(missing, e.GuildID) {
			missing = append(missing, e.GuildID)
		}
	}
	z.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, zoneSQL, missing)
	if err != nil {
		return nil, fmt.Errorf("lake: guild time zones: %w", err)
	}
	defer rows.Close()
	z.mu.Lock()
	defer z.mu.Unlock()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("lake: guild time zones: %w", err)
		}
		out[id] = z.location(name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lake: guild time zones: %w", err)
	}
	for _, id := range missing {
		z.guilds[id] = zoneEntry{loc: out[id], expires: now.Add(zoneTTL)}
	}
	return out, nil
}

// location loads a zone by name once; unknown or empty names are UTC.
func (z *zoneCache) location(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if loc, ok := z.byName[name]; ok {
		return loc
	}
	loc := LoadZone(name)
	z.byName[name] = loc
	return loc
}

// LoadZone is a guild time zone setting as a location: UTC when empty or
// not a zone Go knows.
func LoadZone(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// LocalDate is the guild-local calendar date of t, as a UTC midnight.
func LocalDate(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

type activeKey struct {
	tenant, guild, user int64
	day                 time.Time
	typ                 Type
}

// activeDaysSQL adds the batch's counts, read by subscript like counterSQL.
const activeDaysSQL = `
	INSERT INTO member_active_days AS a (tenant_id, guild_id, user_id, day, events, event_type)
	SELECT ($1::bigint[])[i], ($2::bigint[])[i], ($3::bigint[])[i], ($4::date[])[i], ($5::int[])[i], ($6::smallint[])[i]
	FROM generate_series(1, cardinality($1::bigint[])) AS i
	ON CONFLICT (tenant_id, guild_id, user_id, day, event_type) DO UPDATE SET events = a.events + EXCLUDED.events`

// queueActiveDays adds the batch's events to member_active_days, in key
// order so concurrent writers never deadlock. Guilds' zones not cached are
// read first, in the transaction.
func (w *Writer) queueActiveDays(ctx context.Context, tx pgx.Tx, p *pipeline, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	zones, err := w.zones.resolve(ctx, tx, events)
	if err != nil {
		return err
	}
	sums := make(map[activeKey]int32, len(events))
	for i := range events {
		e := &events[i]
		day := LocalDate(e.OccurredAt, zones[e.GuildID])
		eachActivity(*e, func(typ Type) { sums[activeKey{e.TenantID, e.GuildID, e.UserID, day, typ}]++ })
	}
	keys := make([]activeKey, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b activeKey) int {
		switch {
		case a.tenant != b.tenant:
			return cmpInt(a.tenant, b.tenant)
		case a.guild != b.guild:
			return cmpInt(a.guild, b.guild)
		case a.user != b.user:
			return cmpInt(a.user, b.user)
		case !a.day.Equal(b.day):
			return a.day.Compare(b.day)
		default:
			return cmpInt(int64(a.typ), int64(b.typ))
		}
	})
	n := len(keys)
	tenant, guild, user := make([]int64, n), make([]int64, n), make([]int64, n)
	day, cnt, typ := make([]time.Time, n), make([]int32, n), make([]int16, n)
	for i, k := range keys {
		tenant[i], guild[i], user[i], day[i], cnt[i], typ[i] = k.tenant, k.guild, k.user, k.day, sums[k], int16(k.typ)
	}
	p.queue("active days", nil, activeDaysSQL, tenant, guild, user, day, cnt, typ)
	return nil
}

// eachActivity calls fn for every type an event counts as for its acting
// member's active days: its own, and voice_active for a non-AFK stretch.
// Reactions received are left out: being reacted to is not something a
// member does, and they would add as many rows as the reactions given.
func eachActivity(e Event, fn func(Type)) {
	eachCount(e, func(typ Type, user, _ int64, _ int32) {
		if user == e.UserID && typ != ReactionReceived {
			fn(typ)
		}
	})
}

// IsActivityType reports whether member_active_days holds a type (what a
// streak's "active" definition may name).
func IsActivityType(t Type) bool { return t != ReactionReceived && typeNames[t] != "" }
