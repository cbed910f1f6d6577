package ledgerpost_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/engine/rules/ledgerpost"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// BenchmarkClassicIntoLedger: batches of 1000 message and reaction events
// from 2,000 members (a member speaks every 10 s: one message in six is
// past the 60 s cooldown; reactions pay their authors)
// through the Classic preset (cooldowns, caps, velocity in Redis) into the
// ledger, one Runner.Process per batch as one asynq task would. Reports
// events/s for one worker (Runner.Concurrency goroutines evaluating).
func BenchmarkClassicIntoLedger(b *testing.B) {
	for _, st := range []struct {
		name        string
		state       func(b *testing.B) rules.State
		concurrency int
	}{
		{"redis", func(b *testing.B) rules.State { return rules.NewRedisState(testenv.Redis(b), nil) }, 1},
		{"redis-concurrency-8", func(b *testing.B) rules.State { return rules.NewRedisState(testenv.Redis(b), nil) }, 8},
		{"memory", func(b *testing.B) rules.State { return rules.NewMemoryState() }, 1},
	} {
		b.Run(st.name, func(b *testing.B) {
			ctx := context.Background()
			db := testenv.DB(b)
			tn := tenanttest.Tenant(ctx, b, db.Bun, nil)
			guildID := (time.Now().UnixMilli()-1420070400000)<<22 | (seq.Add(1) & 0x3fffff)
			_, err := db.Bun.ExecContext(ctx, "INSERT INTO guilds (tenant_id, id, name) VALUES (?, ?, 'g')", tn.ID, guildID)
			require.NoError(b, err)
			svc := ledger.New(db, nil)
			_, err = svc.ForTenant(tn.ID).InstallPreset(ctx, tenants.Actor{}, guildID, ledger.PresetClassic)
			require.NoError(b, err)
			comp, err := rules.NewCompiler(rules.NewRegistry(), rules.CompilerOptions{})
			require.NoError(b, err)
			store := rules.NewStore(db.Bun, comp)
			_, err = store.ForTenant(tn.ID).InstallPreset(ctx, tenants.Actor{}, guildID, rules.Classic())
			require.NoError(b, err)
			eng, err := rules.NewEngine(rules.Options{State: st.state(b), Facts: rules.StaticFacts{}})
			require.NoError(b, err)
			runner := &rules.Runner{Sets: rules.NewCache(store, comp, nil), Engine: eng, Ledger: ledgerpost.New(svc, nil), Concurrency: st.concurrency}

			const batchSize = 1000
			at := time.Now().UTC()
			src := int64(0)
			credits := 0
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				batch := make([]rules.Event, batchSize)
				for j := range batch {
					src++
					at = at.Add(5 * time.Millisecond)
					ev := rules.Event{Name: "message_create", TenantID: tn.ID, GuildID: guildID, SourceID: src, OccurredAt: at,
						UserID: src%2000 + 1, ChannelID: 9, Magnitude: 40 + src%200}
					if j%4 == 3 {
						ev.Name, ev.TargetID, ev.Magnitude = "reaction_add", (src+7)%2000+1, 0
					}
					batch[j] = ev
				}
				rep, err := runner.Process(ctx, tn.ID, batch)
				if err != nil {
					b.Fatal(err)
				}
				credits += rep.Effects
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(b.N*batchSize)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(credits)/float64(b.N*batchSize), "effects/event")
		})
	}
}
