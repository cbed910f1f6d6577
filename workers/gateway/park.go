package gateway

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/gorilla/websocket"
)

// A shard's read loop is disgo's, which also reads the heartbeat ACKs.
// Blocked on a full pipeline (the database is behind) for longer than a
// heartbeat interval, the loop leaves ACKs unread, disgo takes the
// connection for a zombie, closes it and reconnects from its heartbeat
// goroutine while the loop is still blocked; each new connection's loop
// blocks in turn, resumes fail and disgo ends with a new session, whose
// gap Discord does not replay (only messages are backfilled). So a loop
// blocked for MaxBlock parks its shard instead: it closes the connection
// itself with 1012, which keeps the session resumable, and once its
// dispatch is handed over it resumes (Discord replays what came since).

// sendParking sends v on ch for the shard's read loop: blocked for the
// pipeline's MaxBlock, the shard parks; once v is sent, a parked shard
// resumes. It returns ctx's error if ctx ends first.
func sendParking[T any](ctx context.Context, s *shardRun, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	default:
	}
	parked := s.parkAfterMaxBlock(0)
	select {
	case ch <- v:
		if parked() {
			s.resumeAfterPark()
		}
		return nil
	case <-ctx.Done():
		parked()
		return ctx.Err()
	}
}

// parkAfterMaxBlock parks the shard once its read loop, blocked for
// already, has been blocked for the pipeline's MaxBlock, unless the
// returned function is called first; that function reports whether the
// shard parked.
func (s *shardRun) parkAfterMaxBlock(already time.Duration) func() bool {
	d := s.w.pipe.cfg.MaxBlock
	if d <= 0 {
		return func() bool { return false }
	}
	fired := make(chan struct{})
	t := time.AfterFunc(max(d-already, 0), func() {
		defer close(fired)
		s.w.pipe.metrics.parks.Inc()
		s.park()
	})
	return func() bool {
		if t.Stop() {
			return false
		}
		<-fired
		return true
	}
}

// park closes the shard's connection, keeping its session. The read loop
// stays blocked in submit until there is room for its dispatch. A shard
// blocked inside the replay of its own resume is left to block: closing
// then would fail disgo's Open, which closes with 1000 on failure and so
// drops the session it was resuming.
func (s *shardRun) park() {
	s.parkMu.Lock()
	reopening := s.reopening
	s.parkMu.Unlock()
	if reopening {
		s.log.Warn("ingest buffer full while the shard resumes; waiting for room")
		return
	}
	s.log.Warn("ingest buffer full; parking the shard until it drains (the session is resumed then)")
	go s.gw.CloseWithCode(context.WithoutCancel(s.ctx), websocket.CloseServiceRestart, "capture saturated; resuming when it drains")
}

// resumeAfterPark reopens a parked shard's connection once the buffer has
// room for a replay (a quarter full at most), resuming its session,
// unless the shard has stopped meanwhile.
func (s *shardRun) resumeAfterPark() {
	s.parkMu.Lock()
	if s.reopening {
		s.parkMu.Unlock()
		return
	}
	s.reopening = true
	s.parkMu.Unlock()
	go func() {
		defer func() {
			s.parkMu.Lock()
			s.reopening = false
			s.parkMu.Unlock()
		}()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for !s.w.pipe.roomFor(s) {
			select {
			case <-s.ctx.Done():
				return
			case <-tick.C:
			}
		}
		backoff := 500 * time.Millisecond
		for s.ctx.Err() == nil {
			err := s.gw.Open(s.ctx) // disgo retries with its own backoff
			if err == nil || errors.Is(err, discord.ErrGatewayAlreadyConnected) {
				s.log.Info("shard resumed after parking")
				return
			}
			s.log.Warn("resuming a parked shard failed; retrying", slog.Any("err", err), slog.Duration("backoff", backoff))
			select {
			case <-s.ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 10*time.Second)
		}
	}()
}
