package backtests_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/engine/rules/backtests"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// TestBacktestOverLakeHistory writes three days of messages, starts a
// backtest of a draft rule over two of them, runs the queued task and
// reads back what the rule would have paid.
func TestBacktestOverLakeHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	rdb := testenv.Redis(t)
	log := testenv.Logger(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tn.ID, nil)
	other := tenanttest.Tenant(ctx, t, db.Bun, nil)

	now := time.Now().UTC()
	_, err := lake.EnsurePartitions(ctx, db.Pool, now.AddDate(0, 0, -5), now.AddDate(0, 0, 1))
	require.NoError(t, err)
	var evs []lake.Event
	for i, age := range []time.Duration{1 * time.Hour, 30 * time.Hour, 31 * time.Hour, 80 * time.Hour} {
		at := now.Add(-age)
		evs = append(evs, lake.Event{TenantID: tn.ID, GuildID: g.ID, OccurredAt: at, SourceID: lake.MintSnowflake(at, uint64(i)),
			Type: lake.MessageCreate, UserID: int64(100 + i%2), ChannelID: 7, Magnitude: 50})
	}
	_, err = lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: evs})
	require.NoError(t, err)

	comp, err := rules.NewCompiler(rules.NewRegistry(), rules.CompilerOptions{})
	require.NoError(t, err)
	eng, err := rules.NewEngine(rules.Options{State: rules.NewMemoryState(), Facts: rules.StaticFacts{}, Logger: log})
	require.NoError(t, err)
	runs := backtests.New(rdb, db.Pool, comp, rules.NewStore(db.Bun, comp), eng, log)

	doc := rules.Document{Name: "Ten XP a message", Trigger: rules.Trigger{Events: []string{"message_create"}},
		Effects: []rules.EffectSpec{{Type: "credit", Params: json.RawMessage(`{"currency":"xp","amount":"10"}`)}}}
	_, err = runs.Start(ctx, tn.ID, g.ID, doc, 0)
	var ve *apperr.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "days", ve.Field)
	run, err := runs.Start(ctx, tn.ID, g.ID, doc, 2)
	require.NoError(t, err)
	require.Equal(t, backtests.StateQueued, run.State)

	_, err = runs.Get(ctx, other.ID, g.ID, run.ID)
	require.ErrorIs(t, err, apperr.ErrNotFound, "another tenant cannot read the run")

	// Run the queued task as a worker would.
	tasks, err := asynq.NewInspectorFromRedisClient(rdb).ListPendingTasks(backtests.Queue)
	require.NoError(t, err)
	require.Len(t, tasks, 1)
	mux := asynq.NewServeMux()
	runs.Register(mux)
	require.NoError(t, mux.ProcessTask(ctx, asynq.NewTask(tasks[0].Type, tasks[0].Payload)))

	run, err = runs.Get(ctx, tn.ID, g.ID, run.ID)
	require.NoError(t, err)
	require.Equal(t, backtests.StateDone, run.State, run.Error)
	require.Equal(t, 3, run.Done, "the three messages of the last two days, not the older one")
	require.Len(t, run.Summary.Currencies, 1)
	require.Equal(t, rules.CurrencyTally{Currency: "xp", Credited: 30, Members: 2}, run.Summary.Currencies[0])
	require.Contains(t, run.Text, "30 xp to 2 members")
}
