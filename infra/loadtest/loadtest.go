// Package loadtest drives discordsim traffic through the capture pipeline
// into a scratch Postgres schema and reports what arrived, how fast, and
// at what cost, checked exactly against the simulator's ground truth.
package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/migrations"
)

// Profiles.
const (
	ProfileRoadmap500 = "roadmap-500" // a 500-member server's simulated day, ~22K events
	ProfileMax        = "max"         // as fast as it goes
	ProfileRate       = "rate"        // a fixed rate (Options.Rate), for latency at a given load
	ProfileChaos      = "chaos"       // max, with reconnects, invalid sessions, zombies and a SIGKILLed worker
	ProfileNaive      = "naive"       // max traffic, one INSERT + counter UPDATE transaction per event (drained like every profile: it takes several times the traffic's duration)
	ProfileRules      = "rules"       // Options.Rate through capture, outbox, relay, asynq rules:evaluate and the ledger, Classic installed: dispatch→credited latency
	ProfileRulesMax   = "rules-max"   // max traffic into a stopped outbox, then the drain through rules into the ledger timed: the rules stage's ceiling
)

// Options select and bound a run.
type Options struct {
	Profile     string
	Duration    time.Duration // generation time for max, rate, chaos, naive
	Rate        float64       // events/s for the rate profile
	Lanes       int           // the in-process pipeline's lanes; 0: its default
	DatabaseURL string
	RedisURL    string
	// Binary is the synapse executable the chaos profile runs gateway
	// workers from (so one of them can really be SIGKILLed).
	Binary string
	Log    *slog.Logger
}

// Report is the one JSON line `synapse loadtest --json` prints.
type Report struct {
	Profile       string `json:"profile"`
	EventsSent    int    `json:"events_sent"`   // lake rows the dispatched events should produce
	EventsStored  int    `json:"events_stored"` // lake rows present (synthetic voice rows excluded)
	Lost          int    `json:"lost"`
	Duplicates    int    `json:"duplicates"`
	Undeliverable int    `json:"undeliverable"` // dispatched while no session existed to receive them (Discord drops these too), or unreplayed, or deleted in a gap
	// Unreplayed counts events a session did receive that no client can get
	// any more: after the sequence a successor asked to resume from, on a
	// session the server had ended first (chaos: the SIGKILLed worker's
	// session, invalidated before the takeover). Messages among them are
	// still expected (channel history has them) unless deleted in the gap.
	Unreplayed int `json:"unreplayed,omitempty"`
	// DeletedInGap counts messages no client received that were deleted
	// before their shard had a session again (included in Undeliverable).
	DeletedInGap   int     `json:"deleted_in_gap,omitempty"`
	EventsPerSec   float64 `json:"events_per_sec"`
	IngestLagP50MS float64 `json:"ingest_lag_p50_ms"`
	IngestLagP99MS float64 `json:"ingest_lag_p99_ms"`
	BytesPerEvent  float64 `json:"bytes_per_event"`
	// BytesPerEventAtRest is BytesPerEvent once the days written are
	// compacted, as the partitions job does after each day closes
	// (lake.CompactPartition): what a day costs for its retention.
	BytesPerEventAtRest float64 `json:"bytes_per_event_at_rest"`
	RSSMB               float64 `json:"rss_mb"` // peak RSS of this process (simulator included)
	// CPU time per stored event from generation start to caught up: this
	// process's (simulator and pipeline; the chaos profile's pipeline runs
	// in other processes) and the scratch database's Postgres backends'
	// (when Postgres runs on this host). See cpu.go.
	CPUMicrosPerEvent         float64 `json:"cpu_us_per_event,omitempty"`
	PostgresCPUMicrosPerEvent float64 `json:"postgres_cpu_us_per_event,omitempty"`
	WallSeconds               float64 `json:"wall_seconds"`
	TakeoverSeconds           float64 `json:"takeover_seconds,omitempty"` // chaos: SIGKILL to the dead worker's shards running elsewhere
	Faults                    int     `json:"faults,omitempty"`
	// Rules profiles: lake events evaluated by rules:evaluate tasks (per
	// second of the run, or of the drain for rules-max), credits and
	// postings the ledger committed, and dispatch→credited latency of the
	// messages that earned a credit.
	RulesEvents          int     `json:"rules_events,omitempty"`
	RulesEventsPerSec    float64 `json:"rules_events_per_sec,omitempty"`
	RulesTasks           int     `json:"rules_tasks,omitempty"`
	RulesFailures        *int    `json:"rules_failures,omitempty"` // task errors (retried) plus rule run-time failures; set by the rules profiles
	Credits              int     `json:"credits,omitempty"`
	Postings             int     `json:"postings,omitempty"`
	PostingsPerSec       float64 `json:"postings_per_sec,omitempty"`
	CreditLatencySamples int     `json:"credit_latency_samples,omitempty"`
	CreditLatencyP50MS   float64 `json:"credit_latency_p50_ms,omitempty"`
	CreditLatencyP95MS   float64 `json:"credit_latency_p95_ms,omitempty"`
	CreditLatencyP99MS   float64 `json:"credit_latency_p99_ms,omitempty"`
	// LostByType and DuplicatesByType break the totals down when they are not zero.
	LostByType       map[string]int `json:"lost_by_type,omitempty"`
	DuplicatesByType map[string]int `json:"duplicates_by_type,omitempty"`
	// FaultLog lists the chaos profile's injected faults, and LostEvents and
	// DuplicateEvents name what went missing or twice (at most 200 each),
	// with the ground-truth index and the fault that preceded each, so a
	// loss can be traced to its cause.
	FaultLog        []FaultEntry  `json:"fault_log,omitempty"`
	LostEvents      []EventDetail `json:"lost_events,omitempty"`
	DuplicateEvents []EventDetail `json:"duplicate_events,omitempty"`
}

// FaultEntry is one injected fault: what, on which shard (-1: a worker),
// how many connections it hit, and the ground-truth index and simulated
// time when it was injected.
type FaultEntry struct {
	Kind    string    `json:"kind"`
	Shard   int       `json:"shard"`
	Conns   int       `json:"conns,omitempty"`
	Index   uint64    `json:"index"`
	SimTime time.Time `json:"sim_time"`
}

// EventDetail names one lost or duplicated lake row. For events without a
// natural id the lake cannot tell which of a member's events of a type is
// missing: Group then says how many of the Candidates are missing (or extra).
type EventDetail struct {
	Type       string                `json:"type"`
	GuildID    int64                 `json:"guild_id"`
	UserID     int64                 `json:"user_id,omitempty"`
	Key        string                `json:"key,omitempty"`
	Shard      int                   `json:"shard"`
	Index      uint64                `json:"index,omitempty"`
	SimTime    time.Time             `json:"sim_time,omitzero"`
	Deliveries []discordsim.Delivery `json:"deliveries,omitempty"`
	AfterFault string                `json:"after_fault,omitempty"` // the last fault injected before it, and how many events before it
	Group      string                `json:"group,omitempty"`
}

// scratch is a throwaway schema with the full migrated schema in it.
type scratch struct {
	db     *postgres.DB
	schema string
	url    string
	rdb    *redis.Client
}

func newScratch(ctx context.Context, o Options) (*scratch, error) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	schema := "loadtest_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, o.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", "database", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return nil, err
	}
	// The application name finds the run's backends for their CPU time (cpu.go).
	named, err := postgres.WithParam(o.DatabaseURL, "application_name", schema)
	if err != nil {
		return nil, err
	}
	url, err := postgres.WithSearchPath(named, schema)
	if err != nil {
		return nil, err
	}
	db, err := postgres.Open(ctx, named, postgres.Options{MaxConns: 16, SearchPath: schema})
	if err != nil {
		return nil, err
	}
	m, err := migrations.New(db.Bun)
	if err != nil {
		return nil, err
	}
	if _, err := m.Up(ctx); err != nil {
		return nil, err
	}
	opt, err := redis.ParseURL(o.RedisURL)
	if err != nil {
		return nil, err
	}
	return &scratch{db: db, schema: schema, url: url, rdb: redis.NewClient(opt)}, nil
}

func (s *scratch) drop(ctx context.Context) {
	s.db.Close()
	_ = s.rdb.Del(ctx, s.schema+":identify:remaining").Err()
	_ = s.rdb.Close()
}

// dropSchema removes the scratch schema; a separate step so a failed run
// can leave it behind for inspection.
func dropSchema(ctx context.Context, databaseURL, schema string) error {
	c, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	return err
}

func simConfig(profile string) discordsim.Config {
	cfg := discordsim.DefaultConfig()
	cfg.SimStart = time.Now().UTC().Truncate(time.Second)
	cfg.IdentifyInterval = 200 * time.Millisecond // shards connect quickly; the 5 s window is tested elsewhere
	if profile == ProfileChaos {
		// Zombie connections are among its faults: detected within 10 s
		// rather than Discord's 41.25 s heartbeat interval (and twice that).
		cfg.HeartbeatInterval = 5 * time.Second
	}
	cfg.ResumeBufferSize = 200000
	// Every message stays in history, as on Discord: a gap's backfill at
	// max rate reads further back than the default bound keeps.
	cfg.MaxHistoryPerChannel = -1
	switch profile {
	case ProfileRoadmap500:
		cfg.Guilds, cfg.MembersPerGuild, cfg.Shards = 1, 500, 1
		// The simulated day starts at a midnight (see discordsim's server
		// day): starting the clock there, rather than jumping to the next
		// one once connected, keeps the events of connecting (voice
		// states, joins) on the day's partition, not alone on the one before.
		cfg.SimStart = cfg.SimStart.Truncate(24 * time.Hour)
	default:
		cfg.Guilds, cfg.MembersPerGuild, cfg.Shards = 8, 300, 4
		cfg.MaxConcurrency = 4
	}
	return cfg
}
