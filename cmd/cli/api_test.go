package cli

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/testenv"
)

// syncBuffer is written by the server goroutine while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// The api role serves until its context ends (SIGTERM), then drains and exits 0.
func TestAPIRoleServesAndStopsCleanly(t *testing.T) {
	_, schema := testenv.DBWithSchema(t)
	rdb := testenv.Redis(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"api", "--http-addr", addr, "--log-format", "json",
			"--database-url", testenv.URLWithSchema(schema), "--redis-url", testenv.RedisURLFor(rdb)}, &out, &errb)
	}()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond, "api never became ready: %s", errb.String())
	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code, errb.String())
	case <-time.After(20 * time.Second):
		t.Fatal("api did not stop after cancellation")
	}
	require.Contains(t, errb.String(), `"msg":"http stopped"`)
}
