package jobs

import (
	"slices"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// QueueCollector reports the asynq queues' depth and latency at each
// scrape, read from Redis through asynq's Inspector: a rules queue falling
// behind shows as growing latency before members notice late rewards.
type QueueCollector struct {
	inspector *asynq.Inspector
	queues    []string
	tasks     *prometheus.Desc
	latency   *prometheus.Desc
	failed    *prometheus.Desc
}

// NewQueueCollector watches queues (ServerConfig's) through inspector.
func NewQueueCollector(inspector *asynq.Inspector, queues []string) *QueueCollector {
	return &QueueCollector{inspector: inspector, queues: queues,
		tasks: prometheus.NewDesc("synapse_queue_tasks", "Tasks in an asynq queue by state (pending, active, scheduled, retry, archived).",
			[]string{"queue", "state"}, nil),
		latency: prometheus.NewDesc("synapse_queue_latency_seconds", "Age of an asynq queue's oldest pending task (0 when none waits).",
			[]string{"queue"}, nil),
		failed: prometheus.NewDesc("synapse_queue_inspect_failures", "1 if the last scrape could not read the queue from Redis.",
			[]string{"queue"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.tasks
	ch <- c.latency
	ch <- c.failed
}

// Collect implements prometheus.Collector.
func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	existing, err := c.inspector.Queues()
	for _, q := range c.queues {
		info, failed := &asynq.QueueInfo{}, 0.0 // a queue nothing was ever enqueued to does not exist yet: empty
		switch {
		case err != nil:
			failed = 1
		case slices.Contains(existing, q):
			got, qerr := c.inspector.GetQueueInfo(q)
			if qerr != nil {
				failed = 1
			} else {
				info = got
			}
		}
		ch <- prometheus.MustNewConstMetric(c.failed, prometheus.GaugeValue, failed, q)
		for state, n := range map[string]int{"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived} {
			ch <- prometheus.MustNewConstMetric(c.tasks, prometheus.GaugeValue, float64(n), q, state)
		}
		ch <- prometheus.MustNewConstMetric(c.latency, prometheus.GaugeValue, info.Latency.Seconds(), q)
	}
}
