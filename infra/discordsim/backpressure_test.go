package discordsim

import (
	"context"
	"testing"
	"testing/synctest"
)

// TestGenerateWaitsForClientsBehind: the generator's wait holds while a
// connection has GenerateMaxBacklog unwritten dispatches, survives a
// wake-up that leaves it behind, and ends once the writer catches up.
func TestGenerateWaitsForClientsBehind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &Server{cfg: Config{GenerateMaxBacklog: 3}, conns: map[*gwConn]struct{}{}, written: make(chan struct{}, 1)}
		fast, slow := &gwConn{srv: s}, &gwConn{srv: s}
		s.conns[fast], s.conns[slow] = struct{}{}, struct{}{}
		slow.unwritten.Store(3)
		done := make(chan error, 1)
		go func() { done <- s.awaitClients(context.Background()) }()

		synctest.Wait()
		select {
		case <-done:
			t.Fatal("returned while a client is 3 dispatches behind")
		default:
		}
		s.signalWritten() // a flush that still leaves it at the limit
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("returned on a wake-up while still behind")
		default:
		}
		slow.unwritten.Store(2)
		s.signalWritten()
		synctest.Wait()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatal("still waiting after the client caught up")
		}
	})
}

// TestAwaitClientsEndsWithContext: a client that never reads cannot hold
// the generator past its context.
func TestAwaitClientsEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &Server{cfg: Config{GenerateMaxBacklog: 1}, conns: map[*gwConn]struct{}{}, written: make(chan struct{}, 1)}
		c := &gwConn{srv: s}
		s.conns[c] = struct{}{}
		c.unwritten.Store(10)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.awaitClients(ctx) }()
		synctest.Wait()
		cancel()
		synctest.Wait()
		select {
		case err := <-done:
			if err != context.Canceled {
				t.Fatalf("got %v, want context.Canceled", err)
			}
		default:
			t.Fatal("still waiting after its context ended")
		}
	})
}
