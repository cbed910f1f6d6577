package lake_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/testenv"
)

// synthetic makes n events of a 500-member guild with 20 channels, a mix
// of messages, reactions and voice like a real community's day.
func synthetic(n int, start time.Time, seed uint64) []lake.Event {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]lake.Event, n)
	at := start
	for i := range out {
		at = at.Add(time.Duration(r.IntN(4000)) * time.Microsecond)
		e := lake.Event{TenantID: 1, GuildID: 42, OccurredAt: at, SourceID: lake.MintSnowflake(at, uint64(i)),
			UserID: 1e17 + int64(r.IntN(500)), ChannelID: 2e17 + int64(r.IntN(20))}
		switch p := r.IntN(100); {
		case p < 60:
			e.Type, e.Magnitude, e.Counts = lake.MessageCreate, int32(r.IntN(400)), lake.PackCounts(r.IntN(2), r.IntN(2), r.IntN(4), 0, r.IntN(2))
		case p < 90:
			e.Type, e.TargetID = lake.ReactionAdd, 1e17+int64(r.IntN(500))
		default:
			e.Type, e.Magnitude = lake.VoiceLeave, int32(r.IntN(7200))
		}
		out[i] = e
	}
	return out
}

// BenchmarkLakeWriteBatched and BenchmarkLakeWriteNaive write the same
// traffic; run them together to compare (make bench, or
// go test -run '^$' -bench LakeWrite ./engine/lake).
func BenchmarkLakeWriteBatched(b *testing.B) {
	ctx := context.Background()
	db := testenv.DB(b)
	w := lake.NewWriter(db.Pool)
	const batch = 1000
	events := synthetic(b.N*batch, time.Now().UTC(), 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := w.Write(ctx, lake.Batch{Events: events[i*batch : (i+1)*batch]}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportLake(b, db.Pool, len(events))
}

func BenchmarkLakeWriteNaive(b *testing.B) {
	ctx := context.Background()
	db := testenv.DB(b)
	events := synthetic(b.N*100, time.Now().UTC(), 1) // a tenth: it is that slow
	if _, err := lake.EnsurePartitions(ctx, db.Pool, events[0].OccurredAt, events[len(events)-1].OccurredAt); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range events {
		if err := lake.WriteOneNaive(ctx, db.Pool, events[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportLake(b, db.Pool, len(events))
}

func reportLake(b *testing.B, pool *pgxpool.Pool, n int) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(0, "ns/op")
	if _, err := pool.Exec(context.Background(), "VACUUM ANALYZE event_lake"); err != nil {
		b.Fatal(err)
	}
	parts, err := lake.Partitions(context.Background(), pool)
	if err != nil {
		b.Fatal(err)
	}
	var bytes int64
	for _, p := range parts {
		bytes += p.Bytes
	}
	b.ReportMetric(float64(bytes)/float64(n), "bytes/event")
}
