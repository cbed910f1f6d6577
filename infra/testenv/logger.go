package testenv

import (
	"log/slog"
	"sync/atomic"
	"testing"
)

// Logger returns a logger whose lines go to t.Log, shown only for failing
// or verbose tests. Lines logged by goroutines that outlive the test are
// dropped instead of panicking the test binary.
func Logger(t testing.TB) *slog.Logger {
	w := &tWriter{t: t}
	t.Cleanup(func() { w.done.Store(true) })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct {
	t    testing.TB
	done atomic.Bool
}

func (w *tWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(string(p[:len(p)-1]))
	}
	return len(p), nil
}
