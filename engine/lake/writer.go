package lake

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrFenced means the shard's lease moved to another worker: this worker
// must stop writing for it. Nothing of the batch was committed.
var ErrFenced = errors.New("lake: shard lease lost (fenced)")

// FencedError names the shard whose checkpoint was refused; it matches ErrFenced.
type FencedError struct {
	ShardID, ShardCount int
	Fence               int64
}

func (e *FencedError) Error() string {
	return fmt.Sprintf("shard %d/%d fence %d: %v", e.ShardID, e.ShardCount, e.Fence, ErrFenced)
}

func (e *FencedError) Unwrap() error { return ErrFenced }

// Checkpoint is a shard's gateway position, committed with the events it
// delivered so that a new owner resumes right after them.
type Checkpoint struct {
	ShardID, ShardCount int
	SessionID           string
	ResumeURL           string
	Seq                 int64
	Fence               int64
	LastEventAt         time.Time
	// GapSince is when a gap began whose backfill is not done (zero:
	// none): a shard taken over reads it again.
	GapSince time.Time
}

// Batch is what one write commits atomically.
type Batch struct {
	Events      []Event
	Checkpoints []Checkpoint
}

// Result says what a write did.
type Result struct {
	Inserted   int // new lake rows
	Duplicates int // events already in the lake (a retried batch, a backfilled message)
}

// Writer commits batches: lake rows, counters, members' active days, the
// rules outbox and shard checkpoints in one transaction.
type Writer struct {
	pool  *pgxpool.Pool
	zones *zoneCache // guilds' time zones, for active days
}

// NewWriter writes through pool.
func NewWriter(pool *pgxpool.Pool) *Writer { return &Writer{pool: pool, zones: newZoneCache()} }

var lakeColumns = []string{"tenant_id", "guild_id", "occurred_at", "source_id", "user_id", "channel_id", "target_id", "counts", "magnitude", "event_type", "flags"}

// errNoPartition is returned inside the transaction when a row's day has no
// partition yet; Write creates it outside the transaction and retries.
var errNoPartition = errors.New("lake: no partition for an event's day")

// errStored is returned when COPY met an event already in the lake: the
// transaction is lost, and Write retries skipping the stored events.
var errStored = errors.New("lake: batch repeats a stored event")

// Write commits a batch. It is idempotent: writing the same events again
// inserts nothing and counts nothing twice.
func (w *Writer) Write(ctx context.Context, b Batch) (Result, error) {
	useCopy, created := true, 0
	for {
		res, err := w.write(ctx, b, useCopy)
		switch {
		case errors.Is(err, errStored) && useCopy:
			useCopy = false
		case errors.Is(err, errNoPartition) && created < 2:
			created++
			if _, perr := ensureDays(ctx, w.pool, eventDays(b.Events)); perr != nil {
				return Result{}, perr
			}
		default:
			return res, err
		}
	}
}

// write runs one attempt: the lake rows first, then everything derived from
// the new ones and the checkpoints, pipelined in one round trip.
func (w *Writer) write(ctx context.Context, b Batch, useCopy bool) (Result, error) {
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("lake: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit

	inserted, err := insertEvents(ctx, tx, b.Events, useCopy)
	if err != nil {
		return Result{}, err
	}
	var p pipeline
	queueCounters(&p, inserted)
	if err := w.queueActiveDays(ctx, tx, &p, inserted); err != nil {
		return Result{}, err
	}
	queueVoice(&p, inserted)
	queueOutbox(&p, inserted)
	for _, cp := range b.Checkpoints {
		queueCheckpoint(&p, cp)
	}
	if err := p.run(ctx, tx); err != nil {
		return Result{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return Result{}, fmt.Errorf("lake: commit: %w", err)
	}
	return Result{Inserted: len(inserted), Duplicates: len(b.Events) - len(inserted)}, nil
}

// insertEvents stores the batch and returns the events that were new. With
// useCopy it COPYs (the fast path: a batch almost never repeats an event),
// as the transaction's first statement so that a refused COPY costs no
// savepoint; otherwise it inserts skipping duplicates.
func insertEvents(ctx context.Context, tx pgx.Tx, events []Event, useCopy bool) ([]Event, error) {
	if len(events) == 0 {
		return nil, nil
	}
	// Insert in id order: ids grow with time, so the natural-key index is
	// appended to at its right edge, where pages split full, not half-full.
	// What is returned keeps the batch's order, the order the gateway
	// delivered: voice sessions are tracked from it, and minted ids of one
	// millisecond sort at random (a leave sorted before its join left the
	// member's session open).
	original := events
	events = slices.Clone(events)
	slices.SortFunc(events, func(a, b Event) int { return cmpInt(a.SourceID, b.SourceID) })
	if !useCopy {
		return insertSkippingDuplicates(ctx, tx, events, original)
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"event_lake"}, lakeColumns, &lakeRows{events: events, i: -1})
	if err == nil {
		return original, nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23514": // no partition of relation "event_lake" found for row
			return nil, errNoPartition
		case "23505":
			return nil, errStored
		}
	}
	return nil, fmt.Errorf("lake: copy: %w", err)
}

// lakeRows feeds COPY one row at a time from a reused slice: pgx encodes a
// row before asking for the next.
type lakeRows struct {
	events []Event
	i      int
	row    [11]any
}

func (r *lakeRows) Next() bool { r.i++; return r.i < len(r.events) }
func (r *lakeRows) Err() error { return nil }
func (r *lakeRows) Values() ([]any, error) {
	e := &r.events[r.i]
	r.row = [11]any{e.TenantID, e.GuildID, e.OccurredAt, e.SourceID, e.UserID, e.ChannelID, e.TargetID,
		int32(e.Counts), e.Magnitude, int16(e.Type), int16(e.Flags)}
	return r.row[:], nil
}

// insertSkippingDuplicates inserts events (in id order) and returns the
// new ones in the order of original.
func insertSkippingDuplicates(ctx context.Context, tx pgx.Tx, events, original []Event) ([]Event, error) {
	n := len(events)
	cols := struct {
		tenant, guild, source, user, channel, target []int64
		at                                           []time.Time
		counts, magnitude                            []int32
		typ, flags                                   []int16
	}{make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n),
		make([]time.Time, n), make([]int32, n), make([]int32, n), make([]int16, n), make([]int16, n)}
	for i, e := range events {
		cols.tenant[i], cols.guild[i], cols.source[i], cols.user[i], cols.channel[i], cols.target[i] = e.TenantID, e.GuildID, e.SourceID, e.UserID, e.ChannelID, e.TargetID
		cols.at[i], cols.counts[i], cols.magnitude[i], cols.typ[i], cols.flags[i] = e.OccurredAt, int32(e.Counts), e.Magnitude, int16(e.Type), int16(e.Flags)
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO event_lake (tenant_id, guild_id, occurred_at, source_id, user_id, channel_id, target_id, counts, magnitude, event_type, flags)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::int[], $9::int[], $10::smallint[], $11::smallint[])
		ON CONFLICT DO NOTHING
		RETURNING guild_id, source_id, event_type`,
		cols.tenant, cols.guild, cols.at, cols.source, cols.user, cols.channel, cols.target, cols.counts, cols.magnitude, cols.typ, cols.flags)
	if err != nil {
		return nil, fmt.Errorf("lake: insert: %w", err)
	}
	type key struct {
		guild, source int64
		typ           int16
	}
	fresh := map[key]bool{}
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.guild, &k.source, &k.typ); err != nil {
			return nil, err
		}
		fresh[k] = true
	}
	if err := rows.Err(); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23514" {
			return nil, errNoPartition
		}
		return nil, fmt.Errorf("lake: insert: %w", err)
	}
	out := make([]Event, 0, len(fresh))
	for _, e := range original {
		k := key{e.GuildID, e.SourceID, int16(e.Type)}
		if fresh[k] {
			out = append(out, e)
			delete(fresh, k) // a batch may carry the same event twice
		}
	}
	return out, nil
}

type counterKey struct {
	tenant, guild int64
	day           time.Time
	typ           Type
	user, channel int64
}

// counterSQL adds the batch's per-day aggregates. Rows are read from the
// arrays by subscript: unnest of eight arrays materialises each one apart
// and cost 12% more Postgres CPU a row.
const counterSQL = `
	INSERT INTO event_counters AS c (tenant_id, guild_id, day, event_type, user_id, channel_id, events, magnitude)
	SELECT ($1::bigint[])[i], ($2::bigint[])[i], ($3::date[])[i], ($4::smallint[])[i], ($5::bigint[])[i], ($6::bigint[])[i], ($7::bigint[])[i], ($8::bigint[])[i]
	FROM generate_series(1, cardinality($1::bigint[])) AS i
	ON CONFLICT (tenant_id, guild_id, day, event_type, user_id, channel_id)
	DO UPDATE SET events = c.events + EXCLUDED.events, magnitude = c.magnitude + EXCLUDED.magnitude`

// queueCounters adds the batch's per-day aggregates. Keys are applied in
// sorted order so that concurrent writers never deadlock on them.
func queueCounters(p *pipeline, events []Event) {
	if len(events) == 0 {
		return
	}
	type agg struct{ events, magnitude int64 }
	sums := make(map[counterKey]agg, len(events))
	for i := range events {
		e := &events[i]
		day := e.OccurredAt.UTC().Truncate(24 * time.Hour)
		eachCount(*e, func(typ Type, user, channel int64, magnitude int32) {
			k := counterKey{e.TenantID, e.GuildID, day, typ, user, channel}
			a := sums[k]
			a.events++
			a.magnitude += int64(magnitude)
			sums[k] = a
		})
	}
	keys := make([]counterKey, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b counterKey) int {
		switch {
		case a.tenant != b.tenant:
			return cmpInt(a.tenant, b.tenant)
		case a.guild != b.guild:
			return cmpInt(a.guild, b.guild)
		case !a.day.Equal(b.day):
			return a.day.Compare(b.day)
		case a.typ != b.typ:
			return cmpInt(int64(a.typ), int64(b.typ))
		case a.user != b.user:
			return cmpInt(a.user, b.user)
		default:
			return cmpInt(a.channel, b.channel)
		}
	})
	n := len(keys)
	tenant, guild, user, channel, cnt, mag := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	day, typ := make([]time.Time, n), make([]int16, n)
	for i, k := range keys {
		a := sums[k]
		tenant[i], guild[i], day[i], typ[i], user[i], channel[i], cnt[i], mag[i] = k.tenant, k.guild, k.day, int16(k.typ), k.user, k.channel, a.events, a.magnitude
	}
	p.queue("counters", nil, counterSQL, tenant, guild, day, typ, user, channel, cnt, mag)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// queueOutbox queues the new events for the rules workers, one row per guild.
func queueOutbox(p *pipeline, events []Event) {
	if len(events) == 0 {
		return
	}
	type gk struct{ tenant, guild int64 }
	groups := map[gk][]Event{}
	var order []gk
	for _, e := range events {
		k := gk{e.TenantID, e.GuildID}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], e)
	}
	tenants, guilds, payloads := make([]int64, len(order)), make([]int64, len(order)), make([][]byte, len(order))
	for i, k := range order {
		tenants[i], guilds[i], payloads[i] = k.tenant, k.guild, EncodeEvents(groups[k])
	}
	p.queue("outbox", nil, `INSERT INTO lake_outbox (tenant_id, guild_id, events) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[])`,
		tenants, guilds, payloads)
	// Delivered at commit: the relay wakes as soon as the rows are visible.
	p.queue("outbox notify", nil, "SELECT pg_notify($1, '')", OutboxChannel)
}

// OutboxChannel is the NOTIFY channel that announces new outbox rows.
const OutboxChannel = "synapse_lake_outbox"

// queueCheckpoint moves a shard's position, refused (FencedError) when its
// lease has moved on.
func queueCheckpoint(p *pipeline, cp Checkpoint) {
	var lastEvent, gapSince any
	if !cp.LastEventAt.IsZero() {
		lastEvent = cp.LastEventAt
	}
	if !cp.GapSince.IsZero() {
		gapSince = cp.GapSince
	}
	fenced := func(tag pgconn.CommandTag) error {
		if tag.RowsAffected() == 0 {
			return &FencedError{ShardID: cp.ShardID, ShardCount: cp.ShardCount, Fence: cp.Fence}
		}
		return nil
	}
	p.queue("checkpoint", fenced, `
		UPDATE shard_sessions SET session_id = $3, resume_url = $4, seq = $5, last_event_at = COALESCE($7, last_event_at),
			gap_since = $8, updated_at = now()
		WHERE shard_count = $1 AND shard_id = $2 AND fence = $6`,
		cp.ShardCount, cp.ShardID, cp.SessionID, cp.ResumeURL, cp.Seq, cp.Fence, lastEvent, gapSince)
}

// eventDays lists the distinct UTC days the events fall on.
func eventDays(events []Event) []time.Time {
	seen := map[time.Time]bool{}
	var days []time.Time
	for _, e := range events {
		d := e.OccurredAt.UTC().Truncate(24 * time.Hour)
		if !seen[d] {
			seen[d] = true
			days = append(days, d)
		}
	}
	return days
}
