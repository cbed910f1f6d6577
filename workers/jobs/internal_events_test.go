package jobs

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/disgoorg/disgo/rest"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// pipelineBundle is one guild with the Classic currencies and a running
// worker: the rules pipeline on an asynq server (rules and maintenance
// queues; Discord actions stay queued for inspection).
type pipelineBundle struct {
	ctx     context.Context
	db      *postgres.DB
	rdb     *redis.Client
	tenant  int64
	guild   tenants.Guild
	actor   tenants.Actor
	led     *ledger.Ledger
	rules   *rules.TenantStore
	ms      *milestones.Milestones
	pipe    *RulesPipeline
	relay   *Relay
	client  *asynq.Client
	inspect *asynq.Inspector
}

func startPipeline(t *testing.T, configure func(p *RulesPipeline)) *pipelineBundle {
	t.Helper()
	ctx := context.Background()
	db := testenv.DB(t)
	rdb := testenv.Redis(t)
	log := testenv.Logger(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tn.ID, nil)
	b := &pipelineBundle{ctx: ctx, db: db, rdb: rdb, tenant: tn.ID, guild: g, actor: tenants.Actor{ID: "1"},
		led: ledger.New(db, log).ForTenant(tn.ID), ms: milestones.New(db, ledger.New(db, log), log).ForTenant(tn.ID),
		client: asynq.NewClientFromRedisClient(rdb), inspect: asynq.NewInspectorFromRedisClient(rdb)}
	_, err := b.led.InstallPreset(ctx, b.actor, g.ID, ledger.PresetClassic)
	require.NoError(t, err)
	comp, err := rules.NewCompiler(rules.NewRegistry(), rules.CompilerOptions{})
	require.NoError(t, err)
	b.rules = rules.NewStore(db.Bun, comp).ForTenant(tn.ID)

	reg := ops.NewRegistry()
	b.pipe, err = NewRulesPipeline(db, rdb, rest.New(rest.NewClient("unused")), log, reg)
	require.NoError(t, err)
	if configure != nil {
		configure(b.pipe)
	}
	mux := asynq.NewServeMux()
	b.pipe.Register(mux)
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 2, Queues: map[string]int{QueueRules: 1, QueueMaintenance: 1},
		Logger: AsynqLogger{L: log}, TaskCheckInterval: 20 * time.Millisecond})
	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)
	b.relay = NewRelay(db.Pool, b.client, log, reg)
	return b
}

func (b *pipelineBundle) rule(t *testing.T, js string) {
	t.Helper()
	var d rules.Document
	require.NoError(t, json.Unmarshal([]byte(js), &d))
	_, err := b.rules.CreateRule(b.ctx, b.actor, b.guild.ID, d)
	require.NoError(t, err)
}

func (b *pipelineBundle) currency(t *testing.T, code string) {
	t.Helper()
	_, err := b.led.CreateCurrency(b.ctx, b.actor, ledger.Currency{GuildID: b.guild.ID, Code: code, Name: code})
	require.NoError(t, err)
}

func (b *pipelineBundle) balance(t *testing.T, code string, user int64) int64 {
	t.Helper()
	c, err := b.led.CurrencyByCode(b.ctx, b.guild.ID, code)
	require.NoError(t, err)
	w, err := b.led.Balance(b.ctx, b.guild.ID, c.ID, user)
	require.NoError(t, err)
	return w.Balance
}

// enqueue hands a task to the worker and waits until the queue has done
// `processed` tasks in all and is idle again.
func (b *pipelineBundle) enqueue(t *testing.T, task *asynq.Task, queue string, processed int) {
	t.Helper()
	_, err := b.client.Enqueue(task, asynq.Queue(queue))
	require.NoError(t, err)
	b.waitIdle(t, queue, processed)
}

func (b *pipelineBundle) waitIdle(t *testing.T, queue string, processed int) {
	t.Helper()
	require.Eventually(t, func() bool {
		info, err := b.inspect.GetQueueInfo(queue)
		return err == nil && info.Pending == 0 && info.Active == 0 && info.Retry == 0 && info.Processed >= processed
	}, 20*time.Second, 20*time.Millisecond)
	info, err := b.inspect.GetQueueInfo(queue)
	require.NoError(t, err)
	require.Zero(t, info.Failed, "no %s task failed", queue)
}

// messages writes n messages of author to the lake and sends them through
// the outbox and the relay to the worker, as the gateway's commits do; it
// returns them for redelivery.
func (b *pipelineBundle) messages(t *testing.T, author int64, n int) []lake.Event {
	t.Helper()
	at := time.Now().UTC()
	var events []lake.Event
	for i := 0; i < n; i++ {
		at = at.Add(2 * time.Minute)
		events = append(events, lake.Event{TenantID: b.tenant, GuildID: b.guild.ID, OccurredAt: at, SourceID: lake.MintSnowflake(at, uint64(i)),
			Type: lake.MessageCreate, UserID: author, ChannelID: 5, Magnitude: 150, Counts: lake.PackCounts(1, 0, 0, 0, 0)})
	}
	_, err := lake.NewWriter(b.db.Pool).Write(b.ctx, lake.Batch{Events: events})
	require.NoError(t, err)
	relayed, err := b.relay.DrainOnce(b.ctx)
	require.NoError(t, err)
	require.Equal(t, 1, relayed)
	b.waitIdle(t, QueueRules, 1)
	return events
}

// A credit that crosses a level of its currency's curve emits level.up
// for its member with the levels; a redelivered batch emits nothing new.
func TestLevelUpFiresOncePerCrossing(t *testing.T) {
	t.Parallel()
	b := startPipeline(t, nil)
	b.currency(t, "gems")
	// xp has the MEE6 curve: level 1 at 100, level 2 at 255.
	b.rule(t, `{"name":"xp","trigger":{"events":["message_create"]},
		"effects":[{"type":"credit","currency":"xp","base":150,"amount":"base"}]}`)
	b.rule(t, `{"name":"level bonus","trigger":{"events":["level.up"]},
		"conditions":[{"type":"cel","expr":"event.data.currency == 'xp' && event.data.new_level == event.data.old_level + 1"}],
		"effects":[{"type":"credit","currency":"gems","base":0,"amount":"event.data.new_level * 10"}]}`)

	const author = int64(900000000000000001)
	events := b.messages(t, author, 2) // 150 xp (level 1), then 300 (level 2)
	require.Equal(t, int64(300), b.balance(t, "xp", author))
	require.Equal(t, int64(10+20), b.balance(t, "gems", author), "one level.up per crossing, with its levels")

	// At-least-once delivery: the same batch again pays nothing more.
	b.enqueue(t, asynq.NewTask(TypeEvaluate, lake.EncodeEvents(events)), QueueRules, 2)
	require.Equal(t, int64(300), b.balance(t, "xp", author))
	require.Equal(t, int64(30), b.balance(t, "gems", author))
}

// A milestone awarded through a rule's milestone_check comes back as
// milestone.awarded for the member: a rule on it fires once, however often
// the batch is delivered, and the Classic "Stars for milestones" rule pays
// the award's Stars instead of the milestone (once, not both).
func TestMilestoneAwardedFiresOnce(t *testing.T) {
	t.Parallel()
	b := startPipeline(t, nil)
	_, err := b.rules.InstallPreset(b.ctx, b.actor, b.guild.ID, rules.Classic())
	require.NoError(t, err)
	_, err = b.ms.InstallClassic(b.ctx, b.actor, b.guild.ID)
	require.NoError(t, err)
	b.currency(t, "gems")
	b.rule(t, `{"name":"first words bonus","trigger":{"events":["milestone.awarded"]},
		"conditions":[{"type":"cel","expr":"event.data.milestone == 'first_message' && event.data.award_id > 0"}],
		"effects":[{"type":"credit","currency":"gems","base":25,"amount":"base"}]}`)

	const author = int64(900000000000000002)
	events := b.messages(t, author, 1)
	require.Equal(t, int64(25), b.balance(t, "gems", author))
	require.Equal(t, int64(1), b.balance(t, "stars", author), "First Words (common) pays 1 Star, through the Classic rule only")

	b.enqueue(t, asynq.NewTask(TypeEvaluate, lake.EncodeEvents(events)), QueueRules, 2)
	require.Equal(t, int64(25), b.balance(t, "gems", author))
	require.Equal(t, int64(1), b.balance(t, "stars", author))
}

// Awards of the hourly sweep are fed to the rules too; a reward no rule
// pays is paid by the milestone.
func TestSweepAwardsTriggerMilestoneAwardedOnce(t *testing.T) {
	t.Parallel()
	b := startPipeline(t, nil)
	_, err := b.ms.InstallClassic(b.ctx, b.actor, b.guild.ID)
	require.NoError(t, err)
	b.currency(t, "gems")
	b.rule(t, `{"name":"veteran bonus","trigger":{"events":["milestone.awarded"]},
		"conditions":[{"type":"cel","expr":"event.data.milestone == 'veteran' && event.data.rarity == 'rare'"}],
		"effects":[{"type":"credit","currency":"gems","base":5,"amount":"base"}]}`)
	veteran := tenanttest.Member(b.ctx, t, b.db.Bun, b.guild, &tenanttest.MemberOpts{JoinedAt: time.Now().AddDate(-2, 0, 0)})

	for run := 1; run <= 2; run++ { // the second sweep finds nothing new
		b.enqueue(t, asynq.NewTask(TypeMilestoneSweep, nil), QueueMaintenance, run)
		require.Equal(t, int64(5), b.balance(t, "gems", veteran.UserID))
		require.Equal(t, int64(3), b.balance(t, "stars", veteran.UserID), "Veteran (rare) pays its 3 Stars itself: no rule pays Stars here")
	}
}
