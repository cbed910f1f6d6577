package jobs_test

import (
	"context"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/workers/jobs"
)

// A maintenance job that finishes records when (the operators' dashboards
// and alerts watch it go stale); one that fails records nothing.
func TestMaintenanceJobsRecordTheirLastSuccess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	reg := prometheus.NewRegistry()
	mux := asynq.NewServeMux()
	jobs.NewMaintenance(db.Pool, testenv.Logger(t), reg).Register(mux)

	require.NoError(t, mux.ProcessTask(ctx, asynq.NewTask(jobs.TypePartitions, nil)))
	require.Error(t, mux.ProcessTask(ctx, asynq.NewTask(jobs.TypeReconcile, []byte("not json"))))

	mfs, err := reg.Gather()
	require.NoError(t, err)
	last := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() == "synapse_job_last_success_timestamp_seconds" {
			for _, m := range mf.GetMetric() {
				last[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	require.Positive(t, last[jobs.TypePartitions])
	_, failed := last[jobs.TypeReconcile]
	require.False(t, failed, "a failed run is no success")
}
