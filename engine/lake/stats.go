package lake

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/synapsehq/synapse/infra/apperr"
)

// Stats answers the dashboard's questions about one tenant's captured
// events, from the counters (never a lake scan).
type Stats struct {
	pool     *pgxpool.Pool
	tenantID int64
}

// NewStats binds the queries to one tenant.
func NewStats(pool *pgxpool.Pool, tenantID int64) *Stats {
	return &Stats{pool: pool, tenantID: tenantID}
}

// VolumePoint is the number of events of one type on one day.
type VolumePoint struct {
	Day    string `json:"day"`
	Type   string `json:"type"`
	Events int64  `json:"events"`
}

// maxRange keeps one request's work bounded.
const maxRange = 400 * 24 * time.Hour

func checkRange(from, to time.Time) error {
	if !to.After(from) {
		return apperr.Invalid("to", "must be after from")
	}
	if to.Sub(from) > maxRange {
		return apperr.Invalid("from", "range is limited to 400 days")
	}
	return nil
}

// retainedSQL is the first UTC day the lake still holds of the guild $2
// of tenant $1 (the retention job deletes its rows before today minus its
// retention_days). Counters outlive that day, since milestones count from
// them, but the lake's statistics report only what the lake holds.
func retainedSQL() string {
	return `((now() AT TIME ZONE 'UTC')::date - coalesce((SELECT ` + RetentionDaysSQL("g.settings") +
		` FROM guilds g WHERE g.tenant_id = $1 AND g.id = $2), ` + fmt.Sprint(DefaultRetentionDays) + `))`
}

// Volume is events per day and type in [from, to), from the first day the
// guild's retention still keeps.
func (s *Stats) Volume(ctx context.Context, guildID int64, from, to time.Time) ([]VolumePoint, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	// Derived counters (reactions received, non-AFK voice) are not events.
	rows, err := s.pool.Query(ctx, `SELECT day, event_type, sum(events) FROM event_counters
		WHERE tenant_id = $1 AND guild_id = $2 AND day >= $3::date AND day < $4::date AND event_type <> ALL($5)
		  AND day >= `+retainedSQL()+`
		GROUP BY 1, 2 ORDER BY 1, 2`, s.tenantID, guildID, from.UTC(), to.UTC(), derivedTypeIDs())
	if err != nil {
		return nil, fmt.Errorf("event volume: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (VolumePoint, error) {
		var p VolumePoint
		var day time.Time
		var typ int16
		err := r.Scan(&day, &typ, &p.Events)
		p.Day, p.Type = day.Format(time.DateOnly), Type(typ).String()
		return p, err
	})
}

// BreakdownRow is one slice of a breakdown.
type BreakdownRow struct {
	Key       string `json:"key"` // event type name, channel id, or zone name
	Events    int64  `json:"events"`
	Magnitude int64  `json:"magnitude"` // characters for messages, seconds for voice
}

// Breakdown groups events in [from, to) by "type", "channel" or "zone"
// (channels in no zone are reported as "(no zone)"), from the first day the
// guild's retention still keeps; derived counters are not events and are
// left out.
func (s *Stats) Breakdown(ctx context.Context, guildID int64, by string, from, to time.Time) ([]BreakdownRow, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	var sql string
	switch by {
	case "type":
		sql = `SELECT event_type::text, sum(events), sum(magnitude) FROM event_counters c
			WHERE tenant_id = $1 AND guild_id = $2 AND day >= $3::date AND day < $4::date AND event_type <> ALL($5)
			  AND day >= ` + retainedSQL() + ` GROUP BY 1 ORDER BY 2 DESC`
	case "channel":
		sql = `SELECT channel_id::text, sum(events), sum(magnitude) FROM event_counters c
			WHERE tenant_id = $1 AND guild_id = $2 AND day >= $3::date AND day < $4::date AND event_type <> ALL($5)
			  AND day >= ` + retainedSQL() + ` GROUP BY 1 ORDER BY 2 DESC LIMIT 200`
	case "zone":
		sql = `SELECT COALESCE(z.name, '(no zone)'), sum(c.events), sum(c.magnitude) FROM event_counters c
			LEFT JOIN rule_zones z ON z.tenant_id = c.tenant_id AND z.guild_id = c.guild_id AND c.channel_id = ANY (z.channels)
			WHERE c.tenant_id = $1 AND c.guild_id = $2 AND c.day >= $3::date AND c.day < $4::date AND c.event_type <> ALL($5)
			  AND c.day >= ` + retainedSQL() + ` GROUP BY 1 ORDER BY 2 DESC`
	default:
		return nil, apperr.Invalid("by", "must be type, channel or zone")
	}
	rows, err := s.pool.Query(ctx, sql, s.tenantID, guildID, from.UTC(), to.UTC(), derivedTypeIDs())
	if err != nil {
		return nil, fmt.Errorf("event breakdown: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BreakdownRow, error) {
		var b BreakdownRow
		err := r.Scan(&b.Key, &b.Events, &b.Magnitude)
		return b, err
	})
	if by == "type" {
		for i := range out {
			var t int16
			if _, err := fmt.Sscan(out[i].Key, &t); err == nil {
				out[i].Key = Type(t).String()
			}
		}
	}
	return out, err
}

// Storage estimates what a guild's events occupy.
type Storage struct {
	Events         int64   `json:"events"`          // rows kept for the guild (from counters, within its retention)
	BytesPerEvent  float64 `json:"bytes_per_event"` // measured across the whole lake: heap, indexes, TOAST, over the rows it holds
	EstimatedBytes int64   `json:"estimated_bytes"`
	LakeBytes      int64   `json:"-"` // every tenant's partitions: platform-wide, not shown to a tenant
	LakeEvents     int64   `json:"-"` // the rows LakeBytes holds (from counters)
	Partitions     int     `json:"partitions"`
	RetentionDays  int     `json:"retention_days"`
	OldestDay      string  `json:"oldest_day,omitempty"`
}

// Storage measures the lake's real size and apportions it to the guild by
// its share of the rows. Both counts cover what the partitions hold: each
// guild's counters from the oldest partition's day, or from its own
// retention's first day if later (a guild keeping less than the longest
// retention has its older rows deleted inside the partitions, and its
// counters outlive them).
func (s *Stats) Storage(ctx context.Context, guildID int64) (Storage, error) {
	var st Storage
	var settings []byte
	err := s.pool.QueryRow(ctx, `SELECT settings FROM guilds WHERE tenant_id = $1 AND id = $2`, s.tenantID, guildID).Scan(&settings)
	if err != nil {
		if err == pgx.ErrNoRows {
			return st, apperr.NotFound("guild")
		}
		return st, err
	}
	st.RetentionDays = ParseCaptureSettings(settings).RetentionDays
	parts, err := Partitions(ctx, s.pool)
	if err != nil {
		return st, err
	}
	st.Partitions = len(parts)
	if len(parts) == 0 {
		return st, nil
	}
	for _, p := range parts {
		st.LakeBytes += p.Bytes
	}
	var oldest *time.Time
	// Derived counters (reactions received, non-AFK voice) are not rows: leave them out.
	err = s.pool.QueryRow(ctx, `
		WITH kept AS (
			SELECT tenant_id, id AS guild_id, (now() AT TIME ZONE 'UTC')::date - `+RetentionDaysSQL("settings")+` AS first_day FROM guilds
		)
		SELECT COALESCE(sum(c.events) FILTER (WHERE c.tenant_id = $1 AND c.guild_id = $2), 0),
			COALESCE(sum(c.events), 0), min(c.day) FILTER (WHERE c.tenant_id = $1 AND c.guild_id = $2)
		FROM event_counters c LEFT JOIN kept k ON k.tenant_id = c.tenant_id AND k.guild_id = c.guild_id
		WHERE c.day >= $3::date AND c.event_type <> ALL($4)
		  AND c.day >= coalesce(k.first_day, (now() AT TIME ZONE 'UTC')::date - $5::int)`,
		s.tenantID, guildID, parts[0].Day.Format(time.DateOnly), derivedTypeIDs(), DefaultRetentionDays).Scan(&st.Events, &st.LakeEvents, &oldest)
	if err != nil {
		return st, fmt.Errorf("storage: %w", err)
	}
	if oldest != nil {
		st.OldestDay = oldest.Format(time.DateOnly)
	}
	if st.LakeEvents > 0 {
		st.BytesPerEvent = float64(st.LakeBytes) / float64(st.LakeEvents)
		st.EstimatedBytes = int64(st.BytesPerEvent * float64(st.Events))
	}
	return st, nil
}

func derivedTypeIDs() []int16 {
	out := make([]int16, len(DerivedTypes))
	for i, t := range DerivedTypes {
		out[i] = int16(t)
	}
	return out
}
