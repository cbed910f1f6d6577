package testenv

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// StripeMockVersion is the stripe-mock `make test` installs.
const StripeMockVersion = "v0.203.0"

// StripeMock starts a stripe-mock (Stripe's own API mock) for the test on
// a port of its own, stopped when the test ends, and returns its URL. The
// binary is SYNAPSE_STRIPE_MOCK, stripe-mock on the PATH, or the one `make
// test` installs under .data/bin.
func StripeMock(t testing.TB) string {
	t.Helper()
	bin := stripeMockBinary()
	if bin == "" {
		t.Fatalf("testenv: stripe-mock not found: run `make test` (it installs it under .data/bin), or `go install github.com/stripe/stripe-mock@%s`", StripeMockVersion)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// Both listeners on ports the system picks: by default it also takes
	// HTTPS on 12112, which parallel tests would fight over.
	cmd := exec.CommandContext(ctx, bin, "-http-addr", "127.0.0.1:", "-https-addr", "127.0.0.1:")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("testenv: stripe-mock: %v", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("testenv: start stripe-mock: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "Listening for HTTP at address: "); ok {
				found <- "http://" + addr
			}
		}
	}()
	select {
	case url := <-found:
		return url
	case <-time.After(30 * time.Second):
		t.Fatalf("testenv: stripe-mock did not start listening within 30 s")
		return ""
	}
}

func stripeMockBinary() string {
	if p := os.Getenv("SYNAPSE_STRIPE_MOCK"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p
	}
	// The module root's .data/bin, from wherever the test runs.
	dir, _ := os.Getwd()
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, ".data", "bin", "stripe-mock")
			if _, err := os.Stat(p); err == nil {
				return p
			}
			return ""
		}
	}
	return ""
}
