package shardmgr

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// StatusCollector exports the fleet's shard table (Status) on each scrape:
// which worker owns each shard and in what state, its lease, latency and
// last event, as every worker's metrics endpoint sees it.
type StatusCollector struct {
	pool                            *pgxpool.Pool
	info, leaseValid, latency, last *prometheus.Desc
}

// NewStatusCollector reads shard_sessions through pool.
func NewStatusCollector(pool *pgxpool.Pool) *StatusCollector {
	shard := []string{"shard_count", "shard"}
	return &StatusCollector{
		pool: pool,
		info: prometheus.NewDesc("synapse_shard_info", "One per shard: its owner (empty when unowned) and state (starting, running, released, failed, unassigned).",
			append(shard, "owner", "state"), nil),
		leaseValid: prometheus.NewDesc("synapse_shard_lease_valid", "1 when the shard's lease is current (its owner renews it).", shard, nil),
		latency:    prometheus.NewDesc("synapse_shard_latency_seconds", "The shard's heartbeat latency, as its owner last renewed it.", shard, nil),
		last:       prometheus.NewDesc("synapse_shard_last_event_timestamp_seconds", "When the shard's last committed event happened (Unix seconds).", shard, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *StatusCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.info
	ch <- c.leaseValid
	ch <- c.latency
	ch <- c.last
}

// Collect implements prometheus.Collector.
func (c *StatusCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	shards, err := Status(ctx, c.pool)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.info, err)
		return
	}
	for _, s := range shards {
		labels := []string{strconv.Itoa(s.ShardCount), strconv.Itoa(s.ShardID)}
		ch <- prometheus.MustNewConstMetric(c.info, prometheus.GaugeValue, 1, append(labels, s.Owner, s.State)...)
		valid := 0.0
		if s.LeaseValid {
			valid = 1
		}
		ch <- prometheus.MustNewConstMetric(c.leaseValid, prometheus.GaugeValue, valid, labels...)
		ch <- prometheus.MustNewConstMetric(c.latency, prometheus.GaugeValue, float64(s.LatencyMS)/1000, labels...)
		if s.LastEventAt != nil {
			ch <- prometheus.MustNewConstMetric(c.last, prometheus.GaugeValue, float64(s.LastEventAt.UnixMilli())/1000, labels...)
		}
	}
}
