package jobs

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/disgoorg/disgo/rest"
	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// Committed lake events reach members' wallets through the outbox, the
// relay, an asynq worker and the Classic preset; a task delivered twice
// pays once.
func TestLakeEventsPayThroughRulesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	rdb := testenv.Redis(t)
	log := testenv.Logger(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tn.ID, nil)
	actor := tenants.Actor{ID: "1"}
	led := ledger.New(db, log).ForTenant(tn.ID)
	_, err := led.InstallPreset(ctx, actor, g.ID, "classic")
	require.NoError(t, err)
	comp, err := rules.NewCompiler(rules.NewRegistry(), rules.CompilerOptions{})
	require.NoError(t, err)
	_, err = rules.NewStore(db.Bun, comp).ForTenant(tn.ID).InstallPreset(ctx, actor, g.ID, rules.Classic())
	require.NoError(t, err)
	_, err = milestones.New(db, ledger.New(db, log), log).ForTenant(tn.ID).InstallClassic(ctx, actor, g.ID)
	require.NoError(t, err)

	const announceChannel = int64(800000000000000001)
	_, err = tenants.NewStore(db.Bun).ForTenant(tn.ID).Guilds().UpdateSettings(ctx, actor, g.ID,
		[]byte(`{"announcements": {"channel_id": "800000000000000001", "per_minute": 5}}`))
	require.NoError(t, err)

	const author = int64(900000000000000001)
	at := time.Now().UTC()
	var events []lake.Event
	for i := 0; i < 3; i++ {
		at = at.Add(2 * time.Minute) // past the preset's message cooldown
		events = append(events, lake.Event{TenantID: tn.ID, GuildID: g.ID, OccurredAt: at, SourceID: lake.MintSnowflake(at, uint64(i)),
			Type: lake.MessageCreate, UserID: author, ChannelID: 5, Magnitude: 150, Counts: lake.PackCounts(1, 0, 0, 0, 0)})
	}
	_, err = lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: events})
	require.NoError(t, err)

	reg := ops.NewRegistry()
	pipe, err := NewRulesPipeline(db, rdb, rest.New(rest.NewClient("unused")), log, reg)
	require.NoError(t, err)
	mux := asynq.NewServeMux()
	pipe.Register(mux)
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 2, Queues: map[string]int{QueueRules: 1}, Logger: AsynqLogger{L: log}})
	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)

	n, err := NewRelay(db.Pool, asynq.NewClientFromRedisClient(rdb), log, reg).DrainOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	xp, err := led.CurrencyByCode(ctx, g.ID, "xp")
	require.NoError(t, err)
	balance := func() int64 {
		w, err := led.Balance(ctx, g.ID, xp.ID, author)
		require.NoError(t, err)
		return w.Balance
	}
	require.Eventually(t, func() bool { return balance() > 0 }, 15*time.Second, 20*time.Millisecond)
	paid := balance()
	require.Eventually(t, func() bool {
		info, err := asynq.NewInspectorFromRedisClient(rdb).GetQueueInfo(QueueRules)
		return err == nil && info.Pending == 0 && info.Active == 0
	}, 15*time.Second, 20*time.Millisecond)
	require.Equal(t, paid, balance(), "the whole batch was paid in one task")
	stars, err := led.CurrencyByCode(ctx, g.ID, "stars")
	require.NoError(t, err)
	starBalance := func() int64 {
		w, err := led.Balance(ctx, g.ID, stars.ID, author)
		require.NoError(t, err)
		return w.Balance
	}
	require.Positive(t, starBalance(), "the first message earned a milestone, which paid Stars")
	starsPaid := starBalance()

	// At-least-once delivery: the same batch again pays nothing more.
	_, err = asynq.NewClientFromRedisClient(rdb).Enqueue(asynq.NewTask(TypeEvaluate, lake.EncodeEvents(events)), asynq.Queue(QueueRules))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		info, err := asynq.NewInspectorFromRedisClient(rdb).GetQueueInfo(QueueRules)
		return err == nil && info.Pending == 0 && info.Active == 0 && info.Processed >= 2
	}, 15*time.Second, 20*time.Millisecond)
	require.Equal(t, paid, balance())
	require.Equal(t, starsPaid, starBalance(), "milestone rewards are paid once too")

	// The award was announced once, in the guild's announcement channel,
	// through the Discord action queue.
	queued, err := asynq.NewInspectorFromRedisClient(rdb).ListPendingTasks(QueueDiscord)
	require.NoError(t, err)
	require.Len(t, queued, 1, "one announcement, not one per delivery")
	var p actionPayload
	require.NoError(t, json.Unmarshal(queued[0].Payload, &p))
	require.Equal(t, rules.EffectSendMessage, p.Kind)
	var msg rules.SendMessage
	require.NoError(t, json.Unmarshal(p.Action, &msg))
	require.Equal(t, announceChannel, msg.ChannelID)
	require.NotNil(t, msg.Embed)
	require.Contains(t, msg.Embed.Title+msg.Embed.Description, "First Words")

	// A malformed task is dropped, not retried forever.
	_, err = asynq.NewClientFromRedisClient(rdb).Enqueue(asynq.NewTask(TypeEvaluate, []byte{0xff, 0x01}), asynq.Queue(QueueRules))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		info, err := asynq.NewInspectorFromRedisClient(rdb).GetQueueInfo(QueueRules)
		return err == nil && info.Archived == 1
	}, 15*time.Second, 20*time.Millisecond)
}
