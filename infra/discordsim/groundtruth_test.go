package discordsim

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// readHistory is GET /channels/{channel}/messages?query, as the ids returned.
func readHistory(t *testing.T, s *Server, channel ID, query string) []ID {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/channels/%s/messages?%s", s.RESTURL(), channel, query), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bot "+s.Token())
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var msgs []struct {
		ID ID `json:"id"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&msgs))
	ids := make([]ID, 0, len(msgs))
	for _, m := range msgs {
		ids = append(ids, m.ID)
	}
	return ids
}

func post(t *testing.T, s *Server, g GuildInfo, channel ID) ID {
	t.Helper()
	m, err := s.SendMessage(context.Background(), MessageOptions{ChannelID: channel, AuthorID: g.Members[1], Content: "x"})
	require.NoError(t, err)
	return m.ID
}

// A channel-history read is a record among the dispatches, ordered with
// the delete of a message it no longer returns; it is no dispatch.
func TestHistoryReadIsRecordedInOrder(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gt.ndjson")
	s := setup(t, func(c *Config) { c.GroundTruthFile = path })
	g := guildOnShard(t, s, 1)
	ch := g.Channels["general"]
	older, m := post(t, s, g, ch), post(t, s, g, ch)
	from := s.GroundTruthLastIndex()

	require.Equal(t, []ID{older}, readHistory(t, s, ch, "limit=1&before="+m.String()))
	require.Equal(t, []ID{m, older}, readHistory(t, s, ch, "limit=2"))
	require.NoError(t, s.DeleteMessage(context.Background(), ch, m))
	require.NotContains(t, readHistory(t, s, ch, "limit=2"), m)

	recs := s.GroundTruthSince(from-1, 0)
	require.Equal(t, []string{"MESSAGE_CREATE", RecordHistoryRead, RecordHistoryRead, "MESSAGE_DELETE", RecordHistoryRead}, recordKinds(recs))
	created, before, read, deleted, after := recs[0], recs[1], recs[2], recs[3], recs[4]
	require.Equal(t, m.String(), created.Key)
	require.Equal(t, ch, created.ChannelID, "a message's channel is recorded")
	require.Equal(t, m.String(), deleted.Key)
	require.Equal(t, ch, deleted.ChannelID)
	for _, r := range []Record{before, read, after} {
		require.False(t, r.IsDispatch())
		require.Equal(t, ch.String(), r.Key)
		require.Equal(t, ch, r.ChannelID)
		require.Equal(t, g.ID, r.GuildID)
		require.Equal(t, 1, r.Shard)
		require.Empty(t, r.Deliveries)
	}
	require.True(t, created.IsDispatch() && deleted.IsDispatch())
	require.False(t, created.Covers(m), "only reads cover messages")
	require.True(t, before.Covers(older))
	require.False(t, before.Covers(m), "a page before m does not cover it")
	require.Equal(t, m, before.Before)
	require.True(t, read.Covers(m) && read.Covers(older))
	require.True(t, after.Covers(m), "the read after the delete covered m: it was gone")
	require.NotContains(t, s.Stats().Dispatches, RecordHistoryRead)

	// The file has the reads too, spelled out as in memory.
	require.NoError(t, s.Close())
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var file []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		file = append(file, r)
	}
	require.Equal(t, s.GroundTruth(), file)
}

func recordKinds(rs []Record) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Type)
	}
	return out
}

// Reads racing deletes: each read returned exactly the messages it covers
// that ground truth says were not deleted before it. The deletes take the
// newest message first, which every read covers: a read ordered by another
// lock than the deletes' misses one whose delete is recorded after it.
func TestHistoryReadsAgreeWithDeletes(t *testing.T) {
	t.Parallel()
	s := setup(t, func(c *Config) { c.RESTBucketLimit, c.MaxHistoryPerChannel = 1<<30, -1 })
	g := guildOnShard(t, s, 0)
	c, err := s.CreateChannel(context.Background(), g.ID, "race", ChannelText, 0)
	require.NoError(t, err)
	ids := make([]ID, 100000)
	for i := range ids {
		ids[i] = post(t, s, g, c.ID)
	}
	readHistory(t, s, c.ID, "limit=1") // connects the client
	from := s.GroundTruthLastIndex()

	done := make(chan error, 1)
	go func() {
		for i := len(ids) - 1; i >= 0; i-- {
			if err := s.DeleteMessage(context.Background(), c.ID, ids[i]); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	var pages []map[ID]bool
	for running := true; running; {
		select {
		case err := <-done:
			require.NoError(t, err)
			running = false // one more read, after every delete
		default:
		}
		page := map[ID]bool{}
		for _, id := range readHistory(t, s, c.ID, "limit=10") {
			page[id] = true
		}
		pages = append(pages, page)
	}

	deletedAt := map[ID]uint64{}
	var reads []Record
	for _, r := range s.GroundTruthSince(from, 0) {
		switch {
		case r.Type == "MESSAGE_DELETE":
			deletedAt[mustID(t, r.Key)] = r.Index
		case r.Type == RecordHistoryRead && r.ChannelID == c.ID:
			reads = append(reads, r)
		}
	}
	require.Len(t, reads, len(pages), "one record per read, in the reads' order")
	require.Len(t, deletedAt, len(ids))
	racing := 0
	for k, r := range reads {
		if n := len(pages[k]); n > 0 && n < len(ids) {
			racing++
		}
		for _, id := range ids {
			want := r.Covers(id) && deletedAt[id] > r.Index
			if want != pages[k][id] {
				require.Failf(t, "a read disagrees with ground truth", "read %d at index %d: message %d (deleted at %d) returned %t",
					k, r.Index, id, deletedAt[id], pages[k][id])
			}
		}
	}
	require.Empty(t, pages[len(pages)-1], "the last read came after every delete")
	t.Logf("%d reads, %d of them during the deletes", len(reads), racing)
}

func mustID(t *testing.T, s string) ID {
	t.Helper()
	id, err := ParseID(s)
	require.NoError(t, err)
	return id
}
