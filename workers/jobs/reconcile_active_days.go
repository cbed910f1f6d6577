package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/synapsehq/synapse/engine/lake"
)

// reconcileActiveDays restates members' active days for the guild-local
// dates in [from, to) from the lake, in each guild's current time zone,
// and returns how many rows it repaired or removed. A local date spans up
// to 14 hours either side of its UTC date, so the lake is read a day
// wider on each side. After a guild changes its zone, the days written in
// the old zone show up here as drift and are restated in the new one.
//
// Active days outlive the lake (streaks keep activeDaysKept days): a guild
// whose retention keeps fewer days than [from, to) spans is reconciled only
// from the first local date whose events the lake still holds whole (a
// day after its retention cutoff, as a local date may begin up to 14
// hours before its UTC date).
func (m *Maintenance) reconcileActiveDays(ctx context.Context, from, to time.Time, retention []guildRetention) (int64, error) {
	tenants, guilds, zones, err := m.guildZones(ctx)
	if err != nil {
		return 0, err
	}
	var short guildSet
	var firstDays []string
	today := to.AddDate(0, 0, -1)
	for _, g := range retention {
		if first := today.AddDate(0, 0, -g.days+1); first.After(from) {
			short.add(g.tenant, g.guild)
			firstDays = append(firstDays, first.Format(time.DateOnly))
		}
	}
	var fixed, removed int64
	// The types restate lake.eachActivity: each row's own, and voice_active
	// for voice stretches without the AFK flag.
	err = m.pool.QueryRow(ctx, `
		WITH z AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS z(tenant_id, guild_id, tz)),
		l AS (
			SELECT l.tenant_id, l.guild_id, l.user_id, l.target_id, l.event_type, l.flags,
			       (l.occurred_at AT TIME ZONE coalesce(z.tz, 'UTC'))::date AS day
			FROM event_lake l LEFT JOIN z ON z.tenant_id = l.tenant_id AND z.guild_id = l.guild_id
			WHERE l.occurred_at >= $4 AND l.occurred_at < $5
		),
		truth AS (
			SELECT tenant_id, guild_id, user_id, day, event_type, count(*)::int AS events FROM l GROUP BY 1, 2, 3, 4, 5
			UNION ALL
			SELECT tenant_id, guild_id, user_id, day, $8::smallint, count(*)::int FROM l
			WHERE event_type IN ($9, $10) AND flags & $11 = 0 GROUP BY 1, 2, 3, 4
		),
		r AS (SELECT * FROM unnest($12::bigint[], $13::bigint[], $14::date[]) AS r(tenant_id, guild_id, first_day)),
		kept AS (
			SELECT t.* FROM truth t LEFT JOIN r ON r.tenant_id = t.tenant_id AND r.guild_id = t.guild_id
			WHERE t.day >= $6::date AND t.day < $7::date AND (r.first_day IS NULL OR t.day >= r.first_day)
		),
		fix AS (
			INSERT INTO member_active_days AS a (tenant_id, guild_id, user_id, day, event_type, events)
			SELECT k.tenant_id, k.guild_id, k.user_id, k.day, k.event_type, k.events FROM kept k
			LEFT JOIN member_active_days x USING (tenant_id, guild_id, user_id, day, event_type)
			WHERE x.events IS DISTINCT FROM k.events
			ON CONFLICT (tenant_id, guild_id, user_id, day, event_type) DO UPDATE SET events = EXCLUDED.events
			RETURNING 1
		),
		gone AS (
			DELETE FROM member_active_days a WHERE a.day >= $6::date AND a.day < $7::date AND NOT EXISTS (
				SELECT 1 FROM kept k WHERE k.tenant_id = a.tenant_id AND k.guild_id = a.guild_id AND k.user_id = a.user_id
				  AND k.day = a.day AND k.event_type = a.event_type)
			  AND NOT EXISTS (SELECT 1 FROM r WHERE r.tenant_id = a.tenant_id AND r.guild_id = a.guild_id AND a.day < r.first_day)
			RETURNING 1
		)
		SELECT (SELECT count(*) FROM fix), (SELECT count(*) FROM gone)`,
		tenants, guilds, zones, from.AddDate(0, 0, -1), to.AddDate(0, 0, 1), from.Format(time.DateOnly), to.Format(time.DateOnly),
		int16(lake.VoiceActive), int16(lake.VoiceLeave), int16(lake.VoiceMove), int16(lake.FlagAFK),
		short.tenants, short.guilds, firstDays).Scan(&fixed, &removed)
	if err != nil {
		return 0, fmt.Errorf("reconcile active days: %w", err)
	}
	return fixed + removed, nil
}

// guildZones lists every guild's time zone as the lake writer resolves it
// (lake.LoadZone), keeping only names Postgres also knows: a name only Go
// knows is reconciled in UTC, and logged, since the two would disagree.
func (m *Maintenance) guildZones(ctx context.Context) (tenants, guilds []int64, zones []string, err error) {
	rows, err := m.pool.Query(ctx, `SELECT z.tenant_id, z.id, z.name, p.name IS NOT NULL
		FROM (SELECT tenant_id, id, coalesce(settings->'milestones'->>'timezone', settings->>'timezone', '') AS name FROM guilds) z
		LEFT JOIN (SELECT DISTINCT name FROM pg_timezone_names) p ON p.name = z.name
		WHERE z.name <> ''`)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("guild time zones: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tenant, guild int64
		var name string
		var pgKnows bool
		if err := rows.Scan(&tenant, &guild, &name, &pgKnows); err != nil {
			return nil, nil, nil, fmt.Errorf("guild time zones: %w", err)
		}
		if lake.LoadZone(name) == time.UTC {
			continue // the writer counts this guild in UTC too
		}
		if !pgKnows {
			m.log.Warn("guild time zone unknown to Postgres; its active days are reconciled in UTC", slog.Int64("guild_id", guild), slog.String("zone", name))
			continue
		}
		tenants, guilds, zones = append(tenants, tenant), append(guilds, guild), append(zones, name)
	}
	return tenants, guilds, zones, rows.Err()
}
