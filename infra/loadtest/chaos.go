package loadtest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/shardmgr"
)

// chaos runs two real gateway worker processes against the simulator, so
// that one of them can be killed with SIGKILL like a crashed machine.
type chaos struct {
	o        Options
	sc       *scratch
	sim      *discordsim.Server
	children []*exec.Cmd
	takeover chan float64 // seconds from SIGKILL to every shard running elsewhere
}

func startChaos(ctx context.Context, o Options, sc *scratch, sim *discordsim.Server) (*chaos, error) {
	if o.Binary == "" {
		return nil, fmt.Errorf("chaos profile needs the synapse binary to run gateway workers")
	}
	c := &chaos{o: o, sc: sc, sim: sim, takeover: make(chan float64, 1)}
	for i := 0; i < 2; i++ {
		cmd := exec.Command(o.Binary, "gateway",
			"--worker-id", fmt.Sprintf("chaos-%d", i),
			"--database-url", sc.url, "--redis-url", o.RedisURL,
			"--discord-token", sim.Token(), "--discord-rest-url", sim.RESTURL(),
			"--identify-namespace", sc.schema,
			"--lease-ttl", "3s", "--park-after", "2s", "--ops-addr", "127.0.0.1:0", "--log-format", "json", "--log-level", "warn")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			c.stop()
			return nil, err
		}
		c.children = append(c.children, cmd)
	}
	// Wait until every shard is running somewhere before traffic starts.
	deadline := time.Now().Add(60 * time.Second)
	for !c.allRunning(ctx, "") {
		if time.Now().After(deadline) {
			c.stop()
			return nil, fmt.Errorf("chaos: shards did not all start within 60s")
		}
		time.Sleep(100 * time.Millisecond) // polling another process's progress
	}
	return c, nil
}

// allRunning reports whether every shard is leased and running, by an
// owner other than exclude when set.
func (c *chaos) allRunning(ctx context.Context, exclude string) bool {
	st, err := shardmgr.Status(ctx, c.sc.db.Pool)
	if err != nil || len(st) == 0 {
		return false
	}
	for _, s := range st {
		if s.State != "running" || !s.LeaseValid || s.Owner == "" || s.Owner == exclude {
			return false
		}
	}
	return true
}

// inject cycles through the gateway faults across shards, and SIGKILLs the
// first worker a third of the way through.
func (c *chaos) inject(ctx context.Context, d time.Duration, rep *Report) {
	shards := c.sim.Info().Shards
	faults := []struct {
		kind string
		do   func(shard int) int
	}{
		{"reconnect", func(s int) int { return c.sim.Faults().Reconnect(s) }},
		{"invalid_session_true", func(s int) int { return c.sim.Faults().InvalidSession(s, true) }},
		{"zombie", func(s int) int { return c.sim.Faults().Zombie(s) }},
		{"drop_connection", func(s int) int { return c.sim.Faults().DropConnection(s) }},
		{"invalid_session_false", func(s int) int { return c.sim.Faults().InvalidSession(s, false) }},
	}
	killAt := time.After(d / 3)
	tick := time.NewTicker(d / 12)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-killAt:
			killed := time.Now()
			rep.FaultLog = append(rep.FaultLog, FaultEntry{Kind: "sigkill chaos-0", Shard: -1,
				Index: c.sim.GroundTruthLastIndex(), SimTime: c.sim.Now()})
			_ = c.children[0].Process.Signal(syscall.SIGKILL)
			_ = c.children[0].Wait()
			go func() {
				for !c.allRunning(context.Background(), "chaos-0") {
					time.Sleep(50 * time.Millisecond) // polling another process's progress
				}
				secs := time.Since(killed).Seconds()
				c.o.Log.Info("killed worker's shards taken over", slog.Float64("seconds", secs))
				c.takeover <- secs
			}()
		case <-tick.C:
			f := faults[i%len(faults)]
			at, idx := c.sim.Now(), c.sim.GroundTruthLastIndex()
			n := f.do(i % shards)
			rep.FaultLog = append(rep.FaultLog, FaultEntry{Kind: f.kind, Shard: i % shards, Conns: n, Index: idx, SimTime: at})
			rep.Faults++
		}
	}
}

// takeoverSeconds waits (boundedly) for the takeover measurement.
func (c *chaos) takeoverSeconds(wait time.Duration) float64 {
	select {
	case s := <-c.takeover:
		return s
	case <-time.After(wait):
		return -1 // never happened: reported as such
	}
}

// stop ends the surviving workers with SIGTERM, as an orchestrator would.
func (c *chaos) stop() {
	for _, cmd := range c.children {
		if cmd.ProcessState == nil && cmd.Process != nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
			}
		}
	}
}
