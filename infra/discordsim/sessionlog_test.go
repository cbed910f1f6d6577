package discordsim

import (
	"context"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/stretchr/testify/require"
)

// A client that kept only part of what it read (it crashed) hands its
// session to a successor, which resumes from what was kept. If the server
// ended the session first, the rest is gone for every client: the session
// log says so, and WithoutUnreplayed takes exactly those deliveries away.
// If the client ended the session itself (a 1000 close), nothing is
// excused.
func TestSessionLogAndWithoutUnreplayed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		end      func(s *Server, gw gateway.Gateway)
		cause    string
		excusedN int
	}{
		{"ended by the server (op 9 false)", func(s *Server, gw gateway.Gateway) {
			require.Equal(t, 1, s.Faults().InvalidSession(0, false))
		}, CauseFault, 3},
		{"ended by the client (close 1000)", func(s *Server, gw gateway.Gateway) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			gw.Close(ctx)
		}, CauseClientClose, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := setup(t, nil)
			g := guildOnShard(t, s, 0)
			rec := newRecorder()
			gw := openGateway(t, s, 0, 2, rec)
			sid := *gw.SessionID()
			from := uint64(len(s.GroundTruth()))
			postMessages(t, s, g, 2, "kept")
			postMessages(t, s, g, 3, "read, then lost with the client")
			require.Eventually(t, func() bool { return len(rec.ofType(gateway.EventTypeMessageCreate)) == 5 }, 10*time.Second, 10*time.Millisecond)
			kept := s.GroundTruthSince(from, 0)[1].Deliveries[0].Seq

			tc.end(s, gw)
			require.Eventually(t, func() bool { _, ok := s.sessLog.ended(sid); return ok }, 10*time.Second, 10*time.Millisecond)
			// The successor resumes from what the first client kept.
			openGateway(t, s, 0, 2, newRecorder(), gateway.WithSessionID(sid), gateway.WithSequence(kept))

			var refused *SessionEvent
			log := s.SessionLog()
			for i, e := range log {
				if e.Kind == SessionResumeRefused && e.SessionID == sid {
					refused = &log[i]
				}
			}
			require.NotNil(t, refused, "the resume was refused and logged: %+v", log)
			require.Equal(t, kept, refused.Seq)
			require.Equal(t, tc.cause, refused.Cause)
			require.Equal(t, 0, refused.Shard)
			require.Equal(t, SessionIdentified, log[0].Kind)

			recs := s.GroundTruthSince(from, 0)
			out, n := WithoutUnreplayed(recs, log)
			require.Equal(t, tc.excusedN, n)
			for i, r := range out {
				lost := tc.excusedN > 0 && i >= 2
				require.Equal(t, lost, len(r.Deliveries) == 0, "record %d", i)
				require.Len(t, recs[i].Deliveries, 1, "the records given are not modified")
			}
		})
	}
}
