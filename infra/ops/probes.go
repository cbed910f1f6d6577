// Package ops serves what every long-running role exposes to its operator:
// /healthz (alive), /readyz (dependencies reachable) and /metrics.
package ops

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check is one dependency a role needs to do its work.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Probes answers health and readiness from a set of checks.
type Probes struct {
	checks  []Check
	timeout time.Duration
}

// NewProbes returns probes over the given checks, each bounded by timeout.
func NewProbes(timeout time.Duration, checks ...Check) *Probes {
	return &Probes{checks: checks, timeout: timeout}
}

type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// Ready runs every check concurrently and reports each one's state.
func (p *Probes) Ready(ctx context.Context) (ok bool, report readiness) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	report = readiness{Status: "ok", Checks: make(map[string]string, len(p.checks))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	ok = true
	for _, c := range p.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			state := "ok"
			if err := c.Ping(ctx); err != nil {
				state = err.Error()
			}
			mu.Lock()
			defer mu.Unlock()
			report.Checks[c.Name] = state
			if state != "ok" {
				ok = false
				report.Status = "unavailable"
			}
		}()
	}
	wg.Wait()
	return ok, report
}

// Register mounts /healthz, /readyz and /metrics on mux.
func Register(mux *http.ServeMux, probes *Probes, gatherer prometheus.Gatherer) {
	mux.HandleFunc("GET /healthz", Healthz)
	mux.Handle("GET /readyz", ReadyzHandler(probes))
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
}

// Healthz says the process is alive; it checks nothing else on purpose, so
// that an orchestrator does not restart a role whose database is down.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// ReadyzHandler answers 200 when every dependency answers, else 503 naming
// the ones that do not.
func ReadyzHandler(p *Probes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, report := p.Ready(r.Context())
		code := http.StatusOK
		if !ok {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, report)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
