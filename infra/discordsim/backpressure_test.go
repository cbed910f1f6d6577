package discordsim

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// TestGenerateWaitsForClientsBehind: the generator's wait holds while a
// connection has GenerateMaxBacklog unwritten dispatches, survives a
// wake-up that leaves it behind, and ends once the writer catches up.
func TestGenerateWaitsForClientsBehind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &Server{cfg: Config{GenerateMaxBacklog: 3}, conns: map[*gwConn]struct{}{}, written: make(chan struct{}, 1), hub: newSessionHub()}
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
		s := &Server{cfg: Config{GenerateMaxBacklog: 1}, conns: map[*gwConn]struct{}{}, written: make(chan struct{}, 1), hub: newSessionHub()}
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

// TestGenerateWaitsForASessionAway: a resumable session whose connection
// is gone holds the generator once it has GenerateMaxBacklog dispatches
// to replay (its client is expected back), unless another session of its
// shard is connected; the wait ends when it resumes or is invalidated.
func TestGenerateWaitsForASessionAway(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gt, err := newGroundTruth("", 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		s := &Server{cfg: Config{GenerateMaxBacklog: 3}, conns: map[*gwConn]struct{}{}, written: make(chan struct{}, 1), hub: newSessionHub(),
			gt: gt, sessLog: newSessionLog(), clock: newSimClock(time.Now())}
		away := &session{id: "away", shardID: 0, shardCount: 2, seq: 12, detachedSeq: 9, detachedAt: time.Now()}
		s.hub.add(away)
		waiting := func() bool {
			done := make(chan error, 1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() { done <- s.awaitClients(ctx) }()
			synctest.Wait()
			select {
			case <-done:
				return false
			default:
				cancel()
				<-done
				return true
			}
		}
		if !waiting() {
			t.Fatal("returned while a session away has 3 dispatches to replay")
		}
		away.detachedSeq = 10
		if waiting() {
			t.Fatal("waited for a session only 2 behind")
		}
		away.detachedSeq = 9
		newer := &session{id: "newer", shardID: 0, shardCount: 2, conn: &gwConn{srv: s}}
		s.hub.add(newer)
		if waiting() {
			t.Fatal("waited for a session its shard replaced with a connected one")
		}
		s.hub.remove(newer)

		done := make(chan error, 1)
		go func() { done <- s.awaitClients(context.Background()) }()
		synctest.Wait()
		s.invalidateSession(away, CauseFault)
		synctest.Wait()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatal("still waiting after the session was invalidated")
		}
	})
}
