package jobs

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/testenv"
)

func periodicFor(t *testing.T, client *asynq.Client, specs ...PeriodicTask) *Periodic {
	t.Helper()
	p, err := NewPeriodic(client, testenv.Logger(t), specs)
	require.NoError(t, err)
	return p
}

// Two workers' schedules, both running: one task per period, not one per
// worker.
func TestTwoWorkersSchedulesEnqueueOneTaskPerPeriod(t *testing.T) {
	t.Parallel()
	rdb := testenv.Redis(t)
	spec := PeriodicTask{"@every 1s", "test:tick"}
	ctx, cancel := context.WithTimeout(context.Background(), 3500*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for range 2 {
		p := periodicFor(t, asynq.NewClientFromRedisClient(rdb), spec)
		wg.Add(1)
		go func() { defer wg.Done(); p.Run(ctx) }()
	}
	wg.Wait()

	tasks, err := asynq.NewInspectorFromRedisClient(rdb).ListPendingTasks(QueueMaintenance)
	require.NoError(t, err)
	// 3 or 4 whole seconds fall in 3.5 s; two asynq Schedulers enqueued 8.
	require.GreaterOrEqual(t, len(tasks), 2, "a run per second (one late timer tolerated)")
	require.LessOrEqual(t, len(tasks), 4, "one run per period, not one per worker")
	for _, tk := range tasks {
		require.Equal(t, "test:tick", tk.Type)
		at, err := time.Parse(time.RFC3339, strings.TrimPrefix(tk.ID, "test:tick@"))
		require.NoError(t, err, "the task id names its period")
		require.Equal(t, at.Truncate(time.Second), at)
	}
}

// "@every 1h" runs at whole hours (UTC), so every worker names the same
// periods whenever it started; cron specs keep their own times.
func TestPeriodicAlignsEveryToTheClock(t *testing.T) {
	t.Parallel()
	p := periodicFor(t, nil, PeriodicTask{"@every 1h", "a"}, PeriodicTask{"30 3 * * *", "b"})
	at := time.Date(2026, 11, 20, 12, 17, 3, 0, time.UTC)
	require.Equal(t, time.Date(2026, 11, 20, 13, 0, 0, 0, time.UTC), p.entries[0].sched.Next(at))
	require.Equal(t, time.Date(2026, 11, 21, 3, 30, 0, 0, time.UTC), p.entries[1].sched.Next(at))
	_, err := NewPeriodic(nil, testenv.Logger(t), []PeriodicTask{{"every hour", "c"}})
	require.Error(t, err)
}

// A worker whose timer fires after another worker's run of the same period
// has already completed (partitions takes milliseconds) is still refused:
// the completed task keeps its id. A failed, archived run does not hold up
// the next period.
func TestPeriodicRunIsRefusedAfterItCompletedAndFailuresDoNotBlock(t *testing.T) {
	t.Parallel()
	rdb := testenv.Redis(t)
	done := make(chan string, 4)
	fail := true
	var mu sync.Mutex
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 1, Queues: map[string]int{QueueMaintenance: 1},
		TaskCheckInterval: 20 * time.Millisecond, Logger: AsynqLogger{L: testenv.Logger(t)}})
	mux := asynq.NewServeMux()
	mux.HandleFunc("test:fast", func(ctx context.Context, _ *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		done <- id
		return nil
	})
	mux.HandleFunc("test:failing", func(ctx context.Context, _ *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		done <- id
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return errors.Join(errors.New("broken"), asynq.SkipRetry)
		}
		return nil
	})
	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)
	ctx := context.Background()
	w1 := periodicFor(t, asynq.NewClientFromRedisClient(rdb))
	w2 := periodicFor(t, asynq.NewClientFromRedisClient(rdb))
	period := time.Date(2026, 11, 20, 13, 0, 0, 0, time.UTC)
	waitRun := func(want string) {
		t.Helper()
		select {
		case id := <-done:
			require.Equal(t, want, id)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s did not run", want)
		}
	}

	ok, err := w1.enqueue(ctx, "test:fast", period)
	require.NoError(t, err)
	require.True(t, ok)
	waitRun("test:fast@2026-11-20T13:00:00Z")
	require.Eventually(t, func() bool {
		info, err := asynq.NewInspectorFromRedisClient(rdb).GetTaskInfo(QueueMaintenance, "test:fast@2026-11-20T13:00:00Z")
		return err == nil && info.State == asynq.TaskStateCompleted
	}, 5*time.Second, 20*time.Millisecond)
	ok, err = w2.enqueue(ctx, "test:fast", period)
	require.NoError(t, err)
	require.False(t, ok, "the late worker's run of the same period is refused")

	ok, err = w1.enqueue(ctx, "test:failing", period)
	require.NoError(t, err)
	require.True(t, ok)
	waitRun("test:failing@2026-11-20T13:00:00Z")
	mu.Lock()
	fail = false
	mu.Unlock()
	ok, err = w2.enqueue(ctx, "test:failing", period.Add(time.Hour))
	require.NoError(t, err)
	require.True(t, ok, "the next period runs though the last one was archived")
	waitRun("test:failing@2026-11-20T14:00:00Z")
	select {
	case id := <-done:
		t.Fatalf("ran again: %s", id)
	case <-time.After(300 * time.Millisecond):
	}
}
