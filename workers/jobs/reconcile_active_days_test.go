package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// The weekly reconciliation keeps the counters added for milestones
// (non-AFK voice) and members' guild-local active days in step with the
// lake, and restates active days after a time zone change.
func TestReconcileActiveDaysAndVoiceActive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tn.ID, nil)
	actor := tenants.Actor{ID: "1"}
	_, err := tenants.NewStore(db.Bun).ForTenant(tn.ID).Guilds().UpdateSettings(ctx, actor, g.ID, []byte(`{"timezone": "America/Los_Angeles"}`))
	require.NoError(t, err)

	const user = int64(100)
	evening := now.Add(-13 * time.Hour) // 19 Nov 23:00 UTC: 15:00 on the 19th in Los Angeles, 08:00 on the 20th in Tokyo
	voice := func(at time.Time, low uint64, typ lake.Type, ch, target int64, secs int32, flags lake.Flags) lake.Event {
		return lake.Event{TenantID: tn.ID, GuildID: g.ID, OccurredAt: at, SourceID: lake.MintSnowflake(at, low), Type: typ,
			UserID: user, ChannelID: ch, TargetID: target, Magnitude: secs, Flags: flags}
	}
	_, err = lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: []lake.Event{
		ev(tn.ID, g.ID, user, now.Add(-time.Hour), 1), // 20 Nov 03:00 in Los Angeles
		ev(tn.ID, g.ID, user, evening, 2),
		voice(now.Add(-3*time.Hour), 3, lake.VoiceMove, 8, 7, 300, 0),
		voice(now.Add(-2*time.Hour), 4, lake.VoiceLeave, 8, 0, 900, lake.FlagAFK),
	}})
	require.NoError(t, err)
	m := maintenance(t, db)
	activeDays := func() map[string]int {
		rows, err := db.Pool.Query(ctx, `SELECT day, event_type, events FROM member_active_days WHERE guild_id = $1`, g.ID)
		require.NoError(t, err)
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var day time.Time
			var typ int16
			var n int
			require.NoError(t, rows.Scan(&day, &typ, &n))
			out[day.Format(time.DateOnly)+" "+lake.Type(typ).String()] = n
		}
		require.NoError(t, rows.Err())
		return out
	}
	written := map[string]int{"2026-11-19 message_create": 1, "2026-11-20 message_create": 1,
		"2026-11-20 voice_move": 1, "2026-11-20 voice_active": 1, "2026-11-20 voice_leave": 1}
	require.Equal(t, written, activeDays(), "the AFK leave is activity of its own type, not voice_active")

	rep, err := m.Reconcile(ctx, 3)
	require.NoError(t, err)
	require.Zero(t, rep.Drifted+rep.Orphaned+rep.ActiveDays, "what the writer wrote agrees with the lake")

	// Break them: a voice_active counter lost, an active day lost, one miscounted, one invented.
	_, err = db.Pool.Exec(ctx, `DELETE FROM event_counters WHERE event_type = $1`, int16(lake.VoiceActive))
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `DELETE FROM member_active_days WHERE day = '2026-11-19'`)
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `UPDATE member_active_days SET events = 9 WHERE event_type = $1`, int16(lake.VoiceMove))
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `INSERT INTO member_active_days VALUES ($1, $2, 555, '2026-11-18', 4, 1)`, tn.ID, g.ID)
	require.NoError(t, err)
	rep, err = m.Reconcile(ctx, 3)
	require.NoError(t, err)
	require.EqualValues(t, 1, rep.Drifted, "voice_active restored")
	require.EqualValues(t, 3, rep.ActiveDays)
	require.Equal(t, written, activeDays())
	var secs int64
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT magnitude FROM event_counters WHERE event_type = $1 AND channel_id = 7`, int16(lake.VoiceActive)).Scan(&secs))
	require.EqualValues(t, 300, secs, "the move's seconds, on the channel it left; the AFK leave adds none")

	// The guild moves to Tokyo: the reconciliation restates its days there.
	_, err = tenants.NewStore(db.Bun).ForTenant(tn.ID).Guilds().UpdateSettings(ctx, actor, g.ID, []byte(`{"timezone": "Asia/Tokyo"}`))
	require.NoError(t, err)
	_, err = m.Reconcile(ctx, 3)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"2026-11-20 message_create": 2,
		"2026-11-20 voice_move": 1, "2026-11-20 voice_active": 1, "2026-11-20 voice_leave": 1}, activeDays())
}
