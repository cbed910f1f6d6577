package loadtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/disgoorg/disgo/rest"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/workers/gateway"
)

// Run executes one profile and reports on it.
func Run(ctx context.Context, o Options) (Report, error) {
	rep := Report{Profile: o.Profile}
	switch o.Profile {
	case ProfileRoadmap500, ProfileMax, ProfileRate, ProfileChaos, ProfileNaive, ProfileRules, ProfileRulesMax:
	default:
		return rep, fmt.Errorf("unknown profile %q: want roadmap-500, max, rate, chaos, naive, rules or rules-max", o.Profile)
	}
	if o.Duration <= 0 {
		o.Duration = 20 * time.Second
	}
	if o.Profile == ProfileRules || o.Profile == ProfileRulesMax {
		err := runRules(ctx, o, &rep)
		return rep, err
	}
	start := time.Now()
	sc, err := newScratch(ctx, o)
	if err != nil {
		return rep, err
	}
	defer func() {
		sc.drop(context.Background())
		if err := dropSchema(context.Background(), o.DatabaseURL, sc.schema); err != nil {
			o.Log.Warn("could not drop scratch schema", slog.String("schema", sc.schema), slog.Any("err", err))
		}
	}()
	sim, err := discordsim.New(simConfig(o.Profile), o.Log.With(slog.String("role", "sim")))
	if err != nil {
		return rep, err
	}
	if err := sim.Start(ctx); err != nil {
		return rep, err
	}
	defer sim.Close()

	var lags lagRecorder
	var stopCapture func()
	var inject func(context.Context)
	var c *chaos
	if o.Profile == ProfileChaos {
		c, err = startChaos(ctx, o, sc, sim)
		if err == nil {
			stopCapture, inject = c.stop, func(ctx context.Context) { c.inject(ctx, o.Duration, &rep) }
		}
	} else {
		stopCapture, err = startInProcess(ctx, o, sc, sim, &lags)
	}
	if err != nil {
		return rep, err
	}
	defer stopCapture()

	genStart, cpuFrom := time.Now(), sampleCPU(ctx, sc)
	if err := generate(ctx, o, sim, inject); err != nil {
		return rep, err
	}
	records, received := expectable(sim, &rep)
	exp := gateway.ExpectFromGroundTruth(received)
	rep.EventsSent, rep.Undeliverable, rep.DeletedInGap = exp.Total(), exp.Undeliverable, exp.GoneInGap
	// Every profile drains what was dispatched (the naive writer, far
	// behind max traffic, takes several times the traffic's duration):
	// events_per_sec is what was stored over the time it took to store it.
	wait := 10 * time.Minute
	lastCommit := waitCaughtUp(ctx, sc, exp.Total(), &lags, wait)
	// The system under test dispatches too (the bot answers slash commands
	// and posts announcements) after the traffic stops: compare against
	// the ground truth as it stands once capture caught up, not as it was
	// when generation ended, or those messages count as duplicates.
	for i := 0; i < 3 && ctx.Err() == nil; i++ {
		if int(sim.GroundTruthLastIndex()) == len(records) {
			break
		}
		records, received = expectable(sim, &rep)
		exp = gateway.ExpectFromGroundTruth(received)
		rep.EventsSent, rep.Undeliverable, rep.DeletedInGap = exp.Total(), exp.Undeliverable, exp.GoneInGap
		lastCommit = waitCaughtUp(ctx, sc, exp.Total(), &lags, wait)
	}
	if c != nil {
		rep.TakeoverSeconds = c.takeoverSeconds(30 * time.Second)
	}
	cpuTo := sampleCPU(ctx, sc)
	if err := compare(ctx, sc, exp, &rep); err != nil {
		return rep, err
	}
	if err := explain(ctx, sc, exp, records, sim.SessionLog(), &rep); err != nil {
		return rep, err
	}
	if d := lastCommit.Sub(genStart).Seconds(); d > 0 {
		rep.EventsPerSec = float64(rep.EventsStored) / d
	}
	if c == nil {
		reportCPU(&rep, cpuFrom, cpuTo, rep.EventsStored)
	}
	rep.IngestLagP50MS, rep.IngestLagP99MS = lags.percentile(0.50), lags.percentile(0.99)
	if rep.BytesPerEvent, rep.BytesPerEventAtRest, err = bytesPerEvent(ctx, sc, rep.EventsStored); err != nil {
		return rep, err
	}
	rep.RSSMB = peakRSSMB()
	rep.WallSeconds = time.Since(start).Seconds()
	return rep, nil
}

// startInProcess runs a pipeline and a worker owning every shard here.
func startInProcess(ctx context.Context, o Options, sc *scratch, sim *discordsim.Server, lags *lagRecorder) (func(), error) {
	reg := ops.NewRegistry()
	log := o.Log.With(slog.String("role", "gateway"))
	// What the worker role's maintenance job does in production (the naive
	// writer, unlike the batched one, does not create partitions itself).
	now := time.Now()
	if _, err := lake.EnsurePartitions(ctx, sc.db.Pool, now.Add(-24*time.Hour), now.Add(48*time.Hour)); err != nil {
		return nil, err
	}
	var w gateway.BatchWriter = lake.NewWriter(sc.db.Pool)
	if o.Profile == ProfileNaive {
		w = naiveWriter{sc}
	}
	pcfg := gateway.DefaultPipelineConfig()
	pcfg.MaxBlock = 2 * time.Second // under the chaos profile's 5 s heartbeat interval (loadtest.go)
	if o.Lanes > 0 {
		pcfg.Lanes = o.Lanes
	}
	pipe := gateway.NewPipeline(pcfg, w, log, reg)
	pipe.OnLag = lags.add
	stop := make(chan struct{})
	done := make(chan struct{})
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	go func() { defer close(done); pipe.Run(hard, stop) }()
	worker := gateway.NewWorker(gateway.Config{Token: sim.Token(), GatewayURL: sim.GatewayURL(),
		REST: rest.New(rest.NewClient(sim.Token(), sim.RESTClientOptions()...))}, gateway.NewDirectory(sc.db), pipe, log, reg)
	shards := sim.Info().Shards
	for id := 0; id < shards; id++ {
		if err := worker.StartShard(ctx, id, shards, 0, nil); err != nil {
			worker.StopAll(context.Background())
			close(stop)
			cancelHard()
			<-done
			return nil, err
		}
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		worker.StopAll(sctx)
		close(stop)
		// The report is written; do not wait for a slow (naive) writer to
		// drain a backlog nobody will read.
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cancelHard()
			<-done
		}
		cancelHard()
	}, nil
}

// generate produces the profile's traffic (and, for chaos, its faults).
func generate(ctx context.Context, o Options, sim *discordsim.Server, inject func(context.Context)) error {
	if o.Profile == ProfileRoadmap500 {
		_, err := sim.Generate(ctx, discordsim.GenerateOptions{Profile: discordsim.ProfileServerDay, Acceleration: 0})
		return err
	}
	gctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	rate := 1e9 // as fast as the simulator goes
	if o.Profile == ProfileRate || o.Profile == ProfileRules || (o.Profile == ProfileChaos && o.Rate > 0) {
		rate = o.Rate
	}
	var wg sync.WaitGroup
	if inject != nil {
		wg.Add(1)
		go func() { defer wg.Done(); inject(gctx) }()
	}
	_, err := sim.Generate(gctx, discordsim.GenerateOptions{Profile: discordsim.ProfileSteady, Rate: rate})
	wg.Wait()
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = ctx.Err()
	}
	return err
}

// expectable returns the ground truth as recorded, and as a client can
// still have received it: without the deliveries on a session the server
// ended before a successor could resume it (see
// discordsim.WithoutUnreplayed), which no client can get any more.
func expectable(sim *discordsim.Server, rep *Report) (records, received []discordsim.Record) {
	records = sim.GroundTruth()
	received, rep.Unreplayed = discordsim.WithoutUnreplayed(records, sim.SessionLog())
	return records, received
}

// delivered keeps the records some session received, and every message
// (capture backfills those from channel history); the rest were dispatched
// while a session was being replaced and never reached anyone.
func delivered(records []discordsim.Record, rep *Report) []discordsim.Record {
	out := records[:0:0]
	for _, r := range records {
		if !r.IsDispatch() {
			continue // a channel history read
		}
		if len(r.Deliveries) == 0 && r.Type != "MESSAGE_CREATE" {
			rep.Undeliverable++
			continue
		}
		out = append(out, r)
	}
	return out
}

// waitCaughtUp waits until the lake holds want rows, stops growing, or limit passes.
func waitCaughtUp(ctx context.Context, sc *scratch, want int, lags *lagRecorder, limit time.Duration) time.Time {
	last, lastChange, start := -1, time.Now(), time.Now()
	for {
		n := countLake(ctx, sc)
		if n != last {
			last, lastChange = n, time.Now()
		}
		if n >= want || time.Since(lastChange) > 15*time.Second || time.Since(start) > limit || ctx.Err() != nil {
			if t := lags.lastCommit(); !t.IsZero() {
				return t
			}
			return lastChange
		}
		time.Sleep(100 * time.Millisecond) // polling an external count: there is no signal to wait on
	}
}

func countLake(ctx context.Context, sc *scratch) int {
	var n int
	_ = sc.db.Pool.QueryRow(ctx, "SELECT count(*) FROM event_lake WHERE flags & $1 = 0", int16(lake.FlagSynthetic)).Scan(&n)
	return n
}

// compare counts loss and duplication per event type, and message by message.
func compare(ctx context.Context, sc *scratch, exp gateway.Expected, rep *Report) error {
	rows, err := sc.db.Pool.Query(ctx, "SELECT event_type, count(*) FROM event_lake WHERE flags & $1 = 0 GROUP BY 1", int16(lake.FlagSynthetic))
	if err != nil {
		return err
	}
	got := map[lake.Type]int{}
	for rows.Next() {
		var t int16
		var n int
		if err := rows.Scan(&t, &n); err != nil {
			return err
		}
		got[lake.Type(t)] = n
		rep.EventsStored += n
	}
	rows.Close()
	for _, t := range lake.Types {
		switch d := exp.ByType[t] - got[t]; {
		case d > 0:
			rep.Lost += d
			if rep.LostByType == nil {
				rep.LostByType = map[string]int{}
			}
			rep.LostByType[t.String()] = d
		case d < 0:
			rep.Duplicates += -d
			if rep.DuplicatesByType == nil {
				rep.DuplicatesByType = map[string]int{}
			}
			rep.DuplicatesByType[t.String()] = -d
		}
	}
	// Messages have natural ids: check them one by one.
	var stored []int64
	rows, err = sc.db.Pool.Query(ctx, "SELECT source_id FROM event_lake WHERE event_type = $1", int16(lake.MessageCreate))
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		stored = append(stored, id)
	}
	rows.Close()
	missing := len(exp.Messages)
	for _, id := range stored {
		if exp.Messages[id] {
			missing--
		}
	}
	if perType := max(exp.ByType[lake.MessageCreate]-got[lake.MessageCreate], 0); missing > perType {
		rep.Lost += missing - perType // same count, different messages
	}
	return rows.Err()
}

// bytesPerEvent is the lake's size on disk (every partition's heap, indexes
// and their free-space and visibility maps) per stored event, as written
// and once compacted.
func bytesPerEvent(ctx context.Context, sc *scratch, stored int) (live, atRest float64, err error) {
	if stored == 0 {
		return 0, 0, nil
	}
	if _, err := sc.db.Pool.Exec(ctx, "VACUUM ANALYZE event_lake"); err != nil {
		return 0, 0, err
	}
	size := func() (float64, error) {
		parts, err := lake.Partitions(ctx, sc.db.Pool)
		if err != nil {
			return 0, err
		}
		var b int64
		for _, p := range parts {
			b += p.Bytes
		}
		return float64(b) / float64(stored), nil
	}
	if live, err = size(); err != nil {
		return 0, 0, err
	}
	parts, err := lake.Partitions(ctx, sc.db.Pool)
	if err != nil {
		return 0, 0, err
	}
	for _, p := range parts {
		if _, _, err := lake.CompactPartition(ctx, sc.db.Pool, p.Name); err != nil {
			return 0, 0, err
		}
	}
	atRest, err = size()
	return live, atRest, err
}

// peakRSSMB reads the process's high-water resident set size (Linux).
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// lagRecorder keeps every receive→commit delay for exact percentiles.
type lagRecorder struct {
	mu   sync.Mutex
	lags []time.Duration
	last time.Time
}

func (l *lagRecorder) add(d time.Duration) {
	l.mu.Lock()
	l.lags = append(l.lags, d)
	l.last = time.Now()
	l.mu.Unlock()
}

func (l *lagRecorder) lastCommit() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

func (l *lagRecorder) percentile(p float64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lags) == 0 {
		return 0
	}
	s := slices.Clone(l.lags)
	slices.Sort(s)
	return float64(s[int(p*float64(len(s)-1))].Microseconds()) / 1000
}
