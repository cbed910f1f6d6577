package discordsim

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/stretchr/testify/require"
)

// postMessages sends n messages to the shard's first guild.
func postMessages(t *testing.T, s *Server, g GuildInfo, n int, tag string) {
	t.Helper()
	for i := 0; i < n; i++ {
		_, err := s.SendMessage(context.Background(), MessageOptions{ChannelID: g.Channels["general"], AuthorID: g.Members[i%len(g.Members)],
			Content: fmt.Sprintf("%s %d", tag, i)})
		require.NoError(t, err)
	}
}

func waitResumed(t *testing.T, rec *recorder, n int) {
	t.Helper()
	require.Eventually(t, func() bool { _, r := rec.counts(); return r >= n }, 15*time.Second, 20*time.Millisecond, "client resumed")
}

// TestFaultsClientResumesWithoutLoss covers every fault after which disgo is
// expected to RESUME: events dispatched while it is away are replayed in
// order, exactly once, and no new session is started.
func TestFaultsClientResumesWithoutLoss(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault FaultRequest
	}{
		{"drop without close frame", FaultRequest{Kind: FaultDrop}},
		{"zombie (no heartbeat ACKs)", FaultRequest{Kind: FaultZombie}},
		{"op 7 reconnect", FaultRequest{Kind: FaultReconnect}},
		{"op 9 invalid session resumable", FaultRequest{Kind: FaultInvalidSession, Resumable: true}},
		{"close 4000 unknown error", FaultRequest{Kind: FaultClose, Code: CloseUnknownError}},
		{"close 4008 rate limited", FaultRequest{Kind: FaultClose, Code: CloseRateLimited}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := setup(t, nil)
			g := guildOnShard(t, s, 0)
			rec := newRecorder()
			gw := openGateway(t, s, 0, 2, rec)
			sid := *gw.SessionID()
			from := uint64(len(s.GroundTruth()))

			postMessages(t, s, g, 5, "before")
			_, err := s.ApplyFault(context.Background(), tc.fault)
			require.NoError(t, err)
			postMessages(t, s, g, 7, "during") // buffered in the session, replayed on resume
			waitResumed(t, rec, 1)
			postMessages(t, s, g, 3, "after")

			assertExactDelivery(t, s, rec, from)
			ready, resumed := rec.counts()
			require.Equal(t, 1, ready, "no re-identify")
			require.Equal(t, 1, resumed)
			require.Equal(t, sid, *gw.SessionID())
			require.Len(t, rec.ofType(gateway.EventTypeMessageCreate), 15)
			require.EqualValues(t, 1, s.Stats().Resumes)
		})
	}
}

// TestFaultsSessionLostClientReidentifies covers faults that end the session:
// disgo must identify again and get a new session id.
func TestFaultsSessionLostClientReidentifies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault FaultRequest
	}{
		{"op 9 invalid session not resumable", FaultRequest{Kind: FaultInvalidSession}},
		{"close 4009 session timed out", FaultRequest{Kind: FaultClose, Code: CloseSessionTimedOut}},
		{"close 4007 invalid seq", FaultRequest{Kind: FaultClose, Code: CloseInvalidSeq}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := setup(t, nil)
			g := guildOnShard(t, s, 0)
			rec := newRecorder()
			gw := openGateway(t, s, 0, 2, rec)
			first := *gw.SessionID()
			_, err := s.ApplyFault(context.Background(), tc.fault)
			require.NoError(t, err)
			require.Eventually(t, func() bool { r, _ := rec.counts(); return r == 2 }, 15*time.Second, 20*time.Millisecond, "re-identified")
			require.NotEqual(t, first, *gw.SessionID())
			from := uint64(len(s.GroundTruth()))
			postMessages(t, s, g, 4, "after")
			assertExactDelivery(t, s, rec, from)
			_, resumed := rec.counts()
			require.Zero(t, resumed)
		})
	}
}

func TestFaultRefusedResumeURLClientRetriesThenResumes(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	g := guildOnShard(t, s, 0)
	rec := newRecorder()
	openGateway(t, s, 0, 2, rec)
	from := uint64(len(s.GroundTruth()))
	_, err := s.ApplyFault(context.Background(), FaultRequest{Kind: FaultRefuseResume, Count: 1})
	require.NoError(t, err)
	_, err = s.ApplyFault(context.Background(), FaultRequest{Kind: FaultDrop})
	require.NoError(t, err)
	postMessages(t, s, g, 4, "during")
	waitResumed(t, rec, 1)
	assertExactDelivery(t, s, rec, from)
	st := s.Stats()
	require.EqualValues(t, 1, st.RefusedConnects, "the first resume dial was refused")
	ready, _ := rec.counts()
	require.Equal(t, 1, ready)
}

func TestFaultFatalCloseStopsClient(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	rec := newRecorder()
	openGateway(t, s, 0, 2, rec)
	_, err := s.ApplyFault(context.Background(), FaultRequest{Kind: FaultClose, Code: CloseAuthenticationFailed})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.closes) == 1
	}, 5*time.Second, 10*time.Millisecond)
	require.EqualValues(t, 1, s.Stats().ClosesSent[CloseAuthenticationFailed])
	require.Zero(t, s.Stats().LiveConnections)
}

func TestIdentifyBucketSecondIdentifyGetsInvalidSession(t *testing.T) {
	t.Parallel()
	s := setup(t, func(c *Config) { c.IdentifyInterval = 1500 * time.Millisecond })
	// Two disgo gateways for the same shard open together: the second
	// identify falls inside the bucket window, gets op 9, and disgo retries.
	recA, recB := newRecorder(), newRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		openGateway(t, s, 0, 2, recA)
	}()
	openGateway(t, s, 0, 2, recB)
	<-done
	st := s.Stats().Identifies
	require.Equal(t, 1, st.RejectedPerBkt[0], "exactly one identify was refused")
	require.Equal(t, 2, st.AcceptedPerBkt[0])
	require.Equal(t, 998, st.Remaining)
	require.Equal(t, map[string]int{"0/2": 2}, s.Stats().SessionsPerShard)

	// Both sessions of shard 0 now receive the same guild events.
	g := guildOnShard(t, s, 0)
	from := uint64(len(s.GroundTruth()))
	postMessages(t, s, g, 3, "both")
	recs := s.GroundTruthSince(from, 0)
	require.Len(t, recs, 3)
	for _, r := range recs {
		require.Len(t, r.Deliveries, 2)
	}
	assertExactDelivery(t, s, recA, from)
}
