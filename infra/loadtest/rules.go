package loadtest

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/disgoorg/disgo/rest"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/workers/gateway"
	"github.com/synapsehq/synapse/workers/jobs"
)

// The rules profiles run the pipeline past capture, in process, with the
// Classic Gamification preset installed on every simulated guild:
// discordsim → gateway → lake (+ outbox) → relay → asynq rules:evaluate →
// rules engine (state in Redis) → ledger, milestones and the Discord
// action queue, configured as the worker role is (jobs.ServerConfig).
//
//   - rules: traffic at Options.Rate for Options.Duration with every stage
//     running, after a warm-up (see warmUp); reports dispatch→credited
//     latency (after the warm-up) and throughput (all of it).
//   - rules-max: after the warm-up, traffic as fast as capture goes for
//     Options.Duration with the relay stopped, so the outbox fills; then
//     the relay starts again and the drain is timed: the most the rules
//     stage can take, whatever capture can feed it on the same machine.
//
// The asynq queues live in the Redis database of Options.RedisURL (asynq
// has no key prefix): the run refuses to start if another worker serves
// them there.

// rulesRun is the measuring side of a rules profile.
type rulesRun struct {
	mu        sync.Mutex
	credited  map[int64]time.Time // message id → when its first credit committed
	credits   int
	evaluated int
	tasks     int
	failed    int
	firstEval time.Time
	lastEval  time.Time
}

func (r *rulesRun) onCredited(cs []rules.Credit) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.credits += len(cs)
	for _, c := range cs {
		if c.Event == "message_create" {
			if _, seen := r.credited[c.SourceID]; !seen {
				r.credited[c.SourceID] = now
			}
		}
	}
}

func (r *rulesRun) onEvaluated(n int) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.firstEval.IsZero() {
		r.firstEval = now
	}
	r.lastEval = now
	r.evaluated += n
	r.tasks++
}

func (r *rulesRun) onFailed(error) {
	r.mu.Lock()
	r.failed++
	r.mu.Unlock()
}

// snapshot is the events evaluated so far, when the last task ended, and
// a measure of progress (events evaluated plus credits committed: a large
// task commits credits long before it ends).
func (r *rulesRun) snapshot() (evaluated int, last time.Time, progress int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.evaluated, r.lastEval, r.evaluated + r.credits
}

// rulesWorker is the worker role's rules half, in process.
type rulesWorker struct {
	srv    *asynq.Server
	relay  *jobs.Relay
	pipe   *jobs.RulesPipeline
	reg    *prometheus.Registry
	ctx    context.Context // ends at stop
	cancel context.CancelFunc
	// stopRelay stops the relay startRelay started (nil: none running).
	stopRelay func()
	g         *errgroup.Group
}

// newRulesWorker wires the pipeline and its asynq server; start starts it.
func newRulesWorker(ctx context.Context, o Options, sc *scratch, sim *discordsim.Server, run *rulesRun) (*rulesWorker, error) {
	insp := asynq.NewInspectorFromRedisClient(sc.rdb)
	servers, err := insp.Servers()
	if err != nil {
		return nil, fmt.Errorf("asynq servers: %w", err)
	}
	for _, s := range servers {
		if _, ok := s.Queues[jobs.QueueRules]; ok {
			return nil, fmt.Errorf("a worker (%s, pid %d) serves the %q queue in this Redis database; point --redis-url at a database of its own", s.Host, s.PID, jobs.QueueRules)
		}
	}
	for _, q := range []string{jobs.QueueRules, jobs.QueueDiscord} {
		if info, err := insp.GetQueueInfo(q); err == nil && info.Size > 0 {
			return nil, fmt.Errorf("the %q queue in this Redis database holds %d tasks from elsewhere; point --redis-url at a database of its own", q, info.Size)
		}
	}
	reg := ops.NewRegistry()
	log := o.Log.With(slog.String("role", "worker"))
	pipe, err := jobs.NewRulesPipeline(sc.db, sc.rdb, rest.New(rest.NewClient(sim.Token(), sim.RESTClientOptions()...)), log, reg)
	if err != nil {
		return nil, err
	}
	pipe.Hooks.Credited, pipe.Hooks.Evaluated, pipe.Hooks.Failed = run.onCredited, run.onEvaluated, run.onFailed
	mux := asynq.NewServeMux()
	pipe.Register(mux)
	w := &rulesWorker{
		srv: asynq.NewServerFromRedisClient(sc.rdb, jobs.ServerConfig(log)),
		relay: jobs.NewRelay(sc.db.Pool, asynq.NewClientFromRedisClient(sc.rdb), log, reg).
			HoldWhileBacklogged(insp, jobs.ServerConfig(log).Concurrency),
		pipe: pipe, reg: reg,
	}
	if err := w.srv.Start(mux); err != nil {
		return nil, fmt.Errorf("asynq server: %w", err)
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w.cancel = cancel
	w.g, w.ctx = errgroup.WithContext(wctx)
	w.g.Go(func() error { return pipe.Listen(w.ctx) })
	return w, nil
}

// startRelay starts moving the outbox to the rules queue until stopRelay.
func (w *rulesWorker) startRelay() {
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan struct{})
	w.stopRelay = func() { cancel(); <-done }
	go func() {
		defer close(done)
		_ = w.relay.Run(ctx)
	}()
}

func (w *rulesWorker) stop() {
	if w.stopRelay != nil {
		w.stopRelay()
	}
	w.cancel()
	_ = w.g.Wait()
	w.srv.Shutdown()
}

// ruleFailures is how many rule evaluations failed at run time.
func (w *rulesWorker) ruleFailures() int {
	mfs, err := w.reg.Gather()
	if err != nil {
		return 0
	}
	for _, mf := range mfs {
		if mf.GetName() == "synapse_rules_failures_total" && len(mf.GetMetric()) > 0 {
			return int(mf.GetMetric()[0].GetCounter().GetValue())
		}
	}
	return 0
}

// runRules executes a rules profile.
func runRules(ctx context.Context, o Options, rep *Report) error {
	start := time.Now()
	sc, err := newScratch(ctx, o)
	if err != nil {
		return err
	}
	defer func() {
		sc.drop(context.Background())
		if err := dropSchema(context.Background(), o.DatabaseURL, sc.schema); err != nil {
			o.Log.Warn("could not drop scratch schema", slog.String("schema", sc.schema), slog.Any("err", err))
		}
	}()
	sim, err := discordsim.New(simConfig(o.Profile), o.Log.With(slog.String("role", "sim")))
	if err != nil {
		return err
	}
	if err := sim.Start(ctx); err != nil {
		return err
	}
	defer sim.Close()
	var lags lagRecorder
	stopCapture, err := startInProcess(ctx, o, sc, sim, &lags)
	if err != nil {
		return err
	}
	defer stopCapture()
	if err := installClassic(ctx, o, sc, sim); err != nil {
		return err
	}
	run := &rulesRun{credited: map[int64]time.Time{}}
	w, err := newRulesWorker(ctx, o, sc, sim, run)
	if err != nil {
		return err
	}
	defer func() {
		w.stop()
		insp := asynq.NewInspectorFromRedisClient(sc.rdb)
		for _, q := range []string{jobs.QueueRules, jobs.QueueDiscord} {
			_ = insp.DeleteQueue(q, true)
		}
	}()
	before, trafficStart := sim.GroundTruthLastIndex(), time.Now()
	w.startRelay()
	if err := warmUp(ctx, o, sc, sim, run); err != nil {
		return err
	}
	if o.Profile == ProfileRulesMax {
		w.stopRelay()
	}
	measured := sim.GroundTruthLastIndex()
	genStart := time.Now()
	if err := generate(ctx, o, sim, nil); err != nil {
		return err
	}
	records := sim.GroundTruthSince(before, 0)
	exp := gateway.ExpectFromGroundTruth(delivered(records, rep))
	rep.EventsSent = exp.Total()
	waitCaughtUp(ctx, sc, exp.Total(), &lags, 10*time.Minute)
	if err := compare(ctx, sc, exp, rep); err != nil {
		return err
	}
	lakeRows := countAllLake(ctx, sc)

	// Throughput: for rules, everything since the warm-up began; for
	// rules-max, the drain of what the measured phase left in the outbox.
	drainStart, evaluatedBefore, postingsBefore := trafficStart, 0, 0
	if o.Profile == ProfileRulesMax {
		evaluatedBefore, _, _ = run.snapshot()
		if err := sc.db.Pool.QueryRow(ctx, "SELECT count(*) FROM ledger_postings").Scan(&postingsBefore); err != nil {
			return err
		}
		drainStart = time.Now()
		w.startRelay()
	}
	evaluated, last := waitRulesDrained(ctx, sc, run, lakeRows, 10*time.Minute)
	rep.RulesEvents = evaluated - evaluatedBefore
	if d := last.Sub(drainStart).Seconds(); d > 0 {
		rep.RulesEventsPerSec = float64(rep.RulesEvents) / d
	}
	run.mu.Lock()
	failures := run.failed + w.ruleFailures()
	rep.Credits, rep.RulesTasks, rep.RulesFailures = run.credits, run.tasks, &failures
	run.mu.Unlock()
	if err := sc.db.Pool.QueryRow(ctx, "SELECT count(*) FROM ledger_postings").Scan(&rep.Postings); err != nil {
		return err
	}
	if d := last.Sub(drainStart).Seconds(); d > 0 {
		rep.PostingsPerSec = float64(rep.Postings-postingsBefore) / d
	}
	if o.Profile == ProfileRules {
		lat := creditLatencies(sim.GroundTruthSince(measured, 0), genStart, run)
		rep.CreditLatencySamples = len(lat)
		rep.CreditLatencyP50MS, rep.CreditLatencyP95MS, rep.CreditLatencyP99MS = pct(lat, 0.50), pct(lat, 0.95), pct(lat, 0.99)
	}
	rep.EventsPerSec = float64(rep.EventsStored) / time.Since(trafficStart).Seconds()
	if t := lags.lastCommit(); !t.IsZero() {
		rep.EventsPerSec = float64(rep.EventsStored) / t.Sub(trafficStart).Seconds()
	}
	rep.IngestLagP50MS, rep.IngestLagP99MS = lags.percentile(0.50), lags.percentile(0.99)
	rep.RSSMB = peakRSSMB()
	rep.WallSeconds = time.Since(start).Seconds()
	return nil
}

// rulesWarmUp is the traffic a rules profile sends, at warmUpRate (or
// the profile's rate), before it measures.
const (
	rulesWarmUp = 5 * time.Second
	warmUpRate  = 2000
)

// warmUp runs rulesWarmUp of traffic through every stage, waits for the
// rules to catch up, then gathers statistics on the scratch schema: a
// running deployment's tables have statistics (autovacuum), a fresh schema
// has none, and on tables without them the planner picks among indexes by
// chance (the awards read by member scanned the guild's awards: 4 ms a
// member). The warm-up's events are still checked for loss and
// duplicates; latencies are measured after it.
func warmUp(ctx context.Context, o Options, sc *scratch, sim *discordsim.Server, run *rulesRun) error {
	wo := o
	wo.Profile, wo.Duration, wo.Rate = ProfileRules, rulesWarmUp, warmUpRate
	if o.Profile == ProfileRules {
		wo.Rate = o.Rate
	}
	if err := generate(ctx, wo, sim, nil); err != nil {
		return err
	}
	waitRulesDrained(ctx, sc, run, countAllLake(ctx, sc), 2*time.Minute)
	var tables string
	err := sc.db.Pool.QueryRow(ctx, `SELECT string_agg(format('%I.%I', schemaname, tablename), ', ')
		FROM pg_tables WHERE schemaname = $1`, sc.schema).Scan(&tables)
	if err != nil {
		return fmt.Errorf("list scratch tables: %w", err)
	}
	if _, err := sc.db.Pool.Exec(ctx, "ANALYZE "+tables); err != nil { // cached plans are replanned
		return fmt.Errorf("analyze scratch schema: %w", err)
	}
	return nil
}

// installClassic installs the Classic currencies, milestones, zones and
// rules on every guild with the bot, once the gateway adopted it (as the
// demo does).
func installClassic(ctx context.Context, o Options, sc *scratch, sim *discordsim.Server) error {
	comp, err := rules.NewCompiler(rules.NewRegistry(), rules.CompilerOptions{})
	if err != nil {
		return err
	}
	store := tenants.NewStore(sc.db.Bun)
	led := ledger.New(sc.db, o.Log)
	actor := tenants.Actor{ID: "loadtest"}
	deadline := time.Now().Add(time.Minute)
	for _, g := range sim.Guilds() {
		if !g.BotPresent {
			continue
		}
		id := int64(g.ID)
		var tenantID int64
		for {
			if tenantID, err = store.TenantOfGuild(ctx, id); err == nil {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("guild %d was not adopted by the gateway: %w", id, err)
			}
			time.Sleep(50 * time.Millisecond) // the gateway adopts it on GUILD_CREATE: polling the database, no signal
		}
		if _, err := milestones.New(sc.db, led, o.Log).ForTenant(tenantID).InstallClassic(ctx, actor, id); err != nil {
			return fmt.Errorf("classic milestones for guild %d: %w", id, err)
		}
		if _, err := rules.NewStore(sc.db.Bun, comp).ForTenant(tenantID).InstallPreset(ctx, actor, id, rules.Classic()); err != nil {
			return fmt.Errorf("classic rules for guild %d: %w", id, err)
		}
	}
	return nil
}

// waitRulesDrained waits until the outbox and the rules queue are empty and
// every lake row was evaluated (or nothing moved for a minute, or limit
// passed).
func waitRulesDrained(ctx context.Context, sc *scratch, run *rulesRun, lakeRows int, limit time.Duration) (int, time.Time) {
	insp := asynq.NewInspectorFromRedisClient(sc.rdb)
	start, lastP, lastChange := time.Now(), -1, time.Now()
	for {
		n, last, p := run.snapshot()
		if p != lastP {
			lastP, lastChange = p, time.Now()
		}
		var outbox int
		_ = sc.db.Pool.QueryRow(ctx, "SELECT count(*) FROM lake_outbox").Scan(&outbox)
		idle := false
		if info, err := insp.GetQueueInfo(jobs.QueueRules); err == nil {
			idle = info.Pending == 0 && info.Active == 0 && info.Retry == 0 && info.Scheduled == 0
		}
		if (outbox == 0 && idle && n >= lakeRows) || time.Since(lastChange) > time.Minute || time.Since(start) > limit || ctx.Err() != nil {
			return n, last
		}
		time.Sleep(20 * time.Millisecond) // polling external counts: there is no signal to wait on
	}
}

// countAllLake counts every lake row, synthetic ones included: each is
// handed to the rules.
func countAllLake(ctx context.Context, sc *scratch) int {
	var n int
	_ = sc.db.Pool.QueryRow(ctx, "SELECT count(*) FROM event_lake").Scan(&n)
	return n
}

// creditLatencies is, for every dispatched message that earned a credit,
// the time from its dispatch to the commit of the ledger batch holding its
// first credit. The simulator records dispatches in simulated time, which
// the steady profile advances in step with real time from the moment
// generation starts; a dispatch happens at that scheduled instant or later
// (when the generator falls behind), so the latency is measured from the
// scheduled instant: never less than the real one.
func creditLatencies(records []discordsim.Record, genStart time.Time, run *rulesRun) []time.Duration {
	var simStart time.Time
	for _, r := range records {
		if r.Type != "GUILD_CREATE" {
			simStart = r.Time
			break
		}
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	var out []time.Duration
	for _, r := range records {
		if r.Type != "MESSAGE_CREATE" {
			continue
		}
		id, err := strconv.ParseInt(r.Key, 10, 64)
		if err != nil {
			continue
		}
		at, ok := run.credited[id]
		if !ok {
			continue
		}
		out = append(out, at.Sub(genStart.Add(r.Time.Sub(simStart))))
	}
	slices.Sort(out)
	return out
}

func pct(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[int(p*float64(len(sorted)-1))].Microseconds()) / 1000
}
