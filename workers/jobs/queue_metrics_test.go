package jobs_test

import (
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/workers/jobs"
)

// The queue collector reports each queue's tasks by state from Redis at
// scrape time; a queue nothing was enqueued to yet reads as empty, not as
// a failure.
func TestQueueCollectorReportsDepthByState(t *testing.T) {
	t.Parallel()
	rdb := testenv.Redis(t)
	client := asynq.NewClientFromRedisClient(rdb)
	_, err := client.Enqueue(asynq.NewTask("t", nil), asynq.Queue(jobs.QueueRules))
	require.NoError(t, err)
	for range 2 {
		_, err = client.Enqueue(asynq.NewTask("t", nil), asynq.Queue(jobs.QueueRules), asynq.ProcessIn(time.Hour))
		require.NoError(t, err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(jobs.NewQueueCollector(asynq.NewInspectorFromRedisClient(rdb), []string{jobs.QueueRules, jobs.QueueMaintenance}))

	mfs, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "/" + l.GetValue()
			}
			got[key] = m.GetGauge().GetValue()
		}
	}
	require.Equal(t, 1.0, got["synapse_queue_tasks/rules/pending"])
	require.Equal(t, 2.0, got["synapse_queue_tasks/rules/scheduled"])
	require.Zero(t, got["synapse_queue_inspect_failures/rules"])
	require.Zero(t, got["synapse_queue_tasks/maintenance/pending"])
	require.Zero(t, got["synapse_queue_inspect_failures/maintenance"], "an unused queue is empty, not failing")
}
