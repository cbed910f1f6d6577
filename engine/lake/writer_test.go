package lake_test

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/testenv"
)

var day0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func msg(tenant, guild, user, channel int64, at time.Time, low uint64, length int32) lake.Event {
	return lake.Event{TenantID: tenant, GuildID: guild, OccurredAt: at, SourceID: lake.MintSnowflake(at, low),
		Type: lake.MessageCreate, UserID: user, ChannelID: channel, Magnitude: length, Counts: lake.PackCounts(1, 0, 2, 0, 0)}
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func TestWriteIsIdempotentAndKeepsCountersInStep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	w := lake.NewWriter(db.Pool)
	batch := lake.Batch{Events: []lake.Event{
		msg(1, 10, 100, 7, day0, 1, 40),
		msg(1, 10, 100, 7, day0.Add(time.Minute), 2, 60),
		msg(1, 10, 101, 8, day0.Add(2*time.Minute), 3, 5),
		msg(2, 20, 200, 9, day0.Add(25*time.Hour), 4, 11), // another tenant, the next day
	}}

	res, err := w.Write(ctx, batch)
	require.NoError(t, err)
	require.Equal(t, lake.Result{Inserted: 4}, res)

	// The same batch again (a retry after an unknown commit outcome).
	res, err = w.Write(ctx, batch)
	require.NoError(t, err)
	require.Equal(t, lake.Result{Inserted: 0, Duplicates: 4}, res)

	// A batch overlapping the first in part.
	res, err = w.Write(ctx, lake.Batch{Events: []lake.Event{batch.Events[0], msg(1, 10, 100, 7, day0.Add(3*time.Minute), 5, 1)}})
	require.NoError(t, err)
	require.Equal(t, lake.Result{Inserted: 1, Duplicates: 1}, res)

	require.EqualValues(t, 5, count(t, db.Pool, "SELECT count(*) FROM event_lake"))
	require.EqualValues(t, 3, count(t, db.Pool, "SELECT events FROM event_counters WHERE guild_id = 10 AND user_id = 100 AND channel_id = 7"))
	require.EqualValues(t, 101, count(t, db.Pool, "SELECT magnitude FROM event_counters WHERE guild_id = 10 AND user_id = 100"))
	require.EqualValues(t, 5, count(t, db.Pool, "SELECT sum(events) FROM event_counters"))
	require.EqualValues(t, 3, count(t, db.Pool, "SELECT count(*) FROM event_lake WHERE tenant_id = 2 OR occurred_at >= $1", day0.Add(2*time.Minute)))

	parts, err := lake.Partitions(ctx, db.Pool)
	require.NoError(t, err)
	require.Len(t, parts, 2, "the writer creates the partitions it needs")

	// The outbox holds every inserted event exactly once, per guild.
	rows, err := db.Pool.Query(ctx, "SELECT events FROM lake_outbox ORDER BY id")
	require.NoError(t, err)
	var outboxed []lake.Event
	for rows.Next() {
		var b []byte
		require.NoError(t, rows.Scan(&b))
		evs, err := lake.DecodeEvents(b)
		require.NoError(t, err)
		outboxed = append(outboxed, evs...)
	}
	require.NoError(t, rows.Err())
	require.Len(t, outboxed, 5)
	require.Equal(t, batch.Events[0].SourceID, outboxed[0].SourceID)
	require.True(t, batch.Events[0].OccurredAt.Equal(outboxed[0].OccurredAt))
}

func TestWriteRefusesAStaleFenceAndCommitsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	_, err := db.Pool.Exec(ctx, "INSERT INTO shard_sessions (shard_id, shard_count, fence) VALUES (0, 2, 7)")
	require.NoError(t, err)
	w := lake.NewWriter(db.Pool)

	stale := lake.Checkpoint{ShardID: 0, ShardCount: 2, SessionID: "old", Seq: 99, Fence: 6}
	_, err = w.Write(ctx, lake.Batch{Events: []lake.Event{msg(1, 10, 1, 1, day0, 1, 1)}, Checkpoints: []lake.Checkpoint{stale}})
	require.ErrorIs(t, err, lake.ErrFenced)
	require.Zero(t, count(t, db.Pool, "SELECT count(*) FROM event_lake"))
	require.Zero(t, count(t, db.Pool, "SELECT count(*) FROM event_counters"))

	current := lake.Checkpoint{ShardID: 0, ShardCount: 2, SessionID: "s1", ResumeURL: "ws://x", Seq: 42, Fence: 7, LastEventAt: day0}
	_, err = w.Write(ctx, lake.Batch{Events: []lake.Event{msg(1, 10, 1, 1, day0, 1, 1)}, Checkpoints: []lake.Checkpoint{current}})
	require.NoError(t, err)
	require.EqualValues(t, 42, count(t, db.Pool, "SELECT seq FROM shard_sessions WHERE shard_id = 0 AND shard_count = 2"))
}

func TestEventCodecRoundTrip(t *testing.T) {
	t.Parallel()
	in := []lake.Event{msg(1, 2, 3, 4, day0, 5, 6), {TenantID: 9, GuildID: 8, OccurredAt: day0, SourceID: -1, Type: lake.VoiceLeave, Magnitude: 3600, Flags: lake.FlagAFK | lake.FlagSynthetic},
		{TenantID: 9, GuildID: 8, OccurredAt: day0, SourceID: 77, Type: lake.ReactionAdd, UserID: 1, ChannelID: 2, TargetID: 3, MessageID: 1 << 60, ParentID: 4}}
	out, err := lake.DecodeEvents(lake.EncodeEvents(in))
	require.NoError(t, err)
	require.Equal(t, in, out)
	_, err = lake.DecodeEvents(lake.EncodeEvents(in)[:10])
	require.Error(t, err)
	empty, err := lake.DecodeEvents(lake.EncodeEvents(nil))
	require.NoError(t, err)
	require.Empty(t, empty)
}

// Payloads written by the version-1 encoder (no MessageID), as an outbox
// may hold across an upgrade, still decode.
func TestEventCodecReadsVersion1(t *testing.T) {
	t.Parallel()
	v1 := []byte{1} // one event
	for _, v := range []int64{9, 8, day0.UnixMicro(), 77, int64(lake.ReactionAdd), 1, 2, 3} {
		v1 = binary.AppendVarint(v1, v)
	}
	v1 = binary.AppendUvarint(v1, 0) // counts
	v1 = binary.AppendVarint(v1, 0)  // magnitude
	v1 = binary.AppendVarint(v1, 0)  // flags
	out, err := lake.DecodeEvents(v1)
	require.NoError(t, err)
	require.Equal(t, []lake.Event{{TenantID: 9, GuildID: 8, OccurredAt: day0, SourceID: 77, Type: lake.ReactionAdd, UserID: 1, ChannelID: 2, TargetID: 3}}, out)
	empty, err := lake.DecodeEvents([]byte{0})
	require.NoError(t, err)
	require.Empty(t, empty)
}

func TestRetentionDropsWholeDays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	_, err := lake.EnsurePartitions(ctx, db.Pool, day0.Add(-3*24*time.Hour), day0)
	require.NoError(t, err)
	dropped, err := lake.DropPartitionsBefore(ctx, db.Pool, day0.Add(-24*time.Hour).Truncate(24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{lake.PartitionName(day0.Add(-3 * 24 * time.Hour)), lake.PartitionName(day0.Add(-2 * 24 * time.Hour))}, dropped)
	parts, err := lake.Partitions(ctx, db.Pool)
	require.NoError(t, err)
	require.Len(t, parts, 2)
}

// A synthetic leave from a stopping shard keeps the member's voice
// session open (they are still in voice); one from reconciling
// GUILD_CREATE (they left while nobody watched) ends it, or the next
// owner of the shard restores a ghost session.
func TestSyntheticVoiceLeavesAndOpenSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	w := lake.NewWriter(db.Pool)
	voice := func(typ lake.Type, user int64, at time.Time, low uint64, flags lake.Flags, stays bool) lake.Event {
		return lake.Event{TenantID: 1, GuildID: 10, OccurredAt: at, SourceID: lake.MintSnowflake(at, low), Type: typ,
			UserID: user, ChannelID: 5, Flags: flags, StaysInVoice: stays}
	}
	_, err := w.Write(ctx, lake.Batch{Events: []lake.Event{
		voice(lake.VoiceJoin, 100, day0, 1, 0, false),
		voice(lake.VoiceJoin, 101, day0, 2, 0, false),
	}})
	require.NoError(t, err)
	_, err = w.Write(ctx, lake.Batch{Events: []lake.Event{
		voice(lake.VoiceLeave, 100, day0.Add(time.Minute), 3, lake.FlagSynthetic, true),  // shard stopping
		voice(lake.VoiceLeave, 101, day0.Add(time.Minute), 4, lake.FlagSynthetic, false), // gone per GUILD_CREATE
	}})
	require.NoError(t, err)
	open, err := lake.OpenVoiceSessions(ctx, db.Pool, []int64{10})
	require.NoError(t, err)
	require.Len(t, open, 1)
	require.Equal(t, int64(100), open[0].UserID)
	require.True(t, open[0].StartedAt.Equal(day0.Add(time.Minute)), "the next stretch starts at the handover")
}

// Voice sessions follow the batch in the order the gateway delivered it,
// not in id order: minted ids of one millisecond sort at random, and a
// leave sorted before its join left the member in voice for good (the
// shard's next owner restored the ghost and made their next join a move).
func TestVoiceSessionsFollowDeliveryOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	w := lake.NewWriter(db.Pool)
	at := day0
	joinLeave := func(guild int64) []lake.Event {
		join := lake.Event{TenantID: 1, GuildID: guild, OccurredAt: at, SourceID: lake.MintSnowflake(at, 900), Type: lake.VoiceJoin, UserID: 100, ChannelID: 5}
		leave := lake.Event{TenantID: 1, GuildID: guild, OccurredAt: at, SourceID: lake.MintSnowflake(at, 100), Type: lake.VoiceLeave, UserID: 100, ChannelID: 5}
		require.Less(t, leave.SourceID, join.SourceID, "the leave's id sorts first")
		return []lake.Event{join, leave}
	}
	cases := []struct {
		name   string
		guild  int64
		stored []lake.Event // already in the lake: the batch takes the INSERT ... ON CONFLICT path
	}{
		{name: "copy", guild: 10},
		{name: "insert skipping duplicates", guild: 11, stored: []lake.Event{msg(1, 11, 100, 7, at, 7, 1)}},
	}
	for _, tc := range cases {
		if tc.stored != nil {
			_, err := w.Write(ctx, lake.Batch{Events: tc.stored})
			require.NoError(t, err)
		}
		_, err := w.Write(ctx, lake.Batch{Events: append(tc.stored, joinLeave(tc.guild)...)})
		require.NoError(t, err, tc.name)
		open, err := lake.OpenVoiceSessions(ctx, db.Pool, []int64{tc.guild})
		require.NoError(t, err)
		require.Empty(t, open, "%s: the member left", tc.name)
		require.Equal(t, int64(2), count(t, db.Pool, `SELECT count(*) FROM event_lake WHERE guild_id = $1 AND event_type IN (5, 6)`, tc.guild), tc.name)
	}
}

// A counter row's day is the UTC date of its events, up to the last
// instant before midnight.
func TestCountersFallOnTheEventsUTCDay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	w := lake.NewWriter(db.Pool)
	midnight := day0.Truncate(24 * time.Hour)
	cases := []struct {
		name string
		at   time.Time
		want string
	}{
		{name: "last instant of the day before", at: midnight.Add(-time.Nanosecond), want: "2026-11-19"},
		{name: "midnight", at: midnight, want: "2026-11-20"},
		{name: "late in the day", at: midnight.Add(24*time.Hour - time.Millisecond), want: "2026-11-20"},
	}
	for i, c := range cases {
		user := int64(100 + i)
		_, err := w.Write(ctx, lake.Batch{Events: []lake.Event{msg(1, 10, user, 7, c.at, uint64(i), 1)}})
		require.NoError(t, err, c.name)
		var day time.Time
		require.NoError(t, db.Pool.QueryRow(ctx, "SELECT day FROM event_counters WHERE user_id = $1", user).Scan(&day), c.name)
		require.Equal(t, c.want, day.Format(time.DateOnly), c.name)
	}
}
