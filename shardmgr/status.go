package shardmgr

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ShardInfo is one shard as the fleet sees it.
type ShardInfo struct {
	ShardID    int    `json:"shard_id"`
	ShardCount int    `json:"shard_count"`
	Owner      string `json:"owner"`
	// State: starting (leased, connecting), running (its session
	// delivers: READY, or a resume's replay under way), released, failed.
	State       string     `json:"state"`
	Fence       int64      `json:"fence"`
	Seq         int64      `json:"seq"`
	LeaseValid  bool       `json:"lease_valid"`
	LatencyMS   int        `json:"latency_ms"`
	LastEventAt *time.Time `json:"last_event_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// Status lists every shard with its owner and position.
func Status(ctx context.Context, pool *pgxpool.Pool) ([]ShardInfo, error) {
	rows, err := pool.Query(ctx, `SELECT shard_id, shard_count, owner, state, fence, seq, lease_expires_at > now(), latency_ms, last_event_at, updated_at
		FROM shard_sessions ORDER BY shard_count, shard_id`)
	if err != nil {
		return nil, fmt.Errorf("shard status: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ShardInfo, error) {
		var s ShardInfo
		err := r.Scan(&s.ShardID, &s.ShardCount, &s.Owner, &s.State, &s.Fence, &s.Seq, &s.LeaseValid, &s.LatencyMS, &s.LastEventAt, &s.UpdatedAt)
		return s, err
	})
}
