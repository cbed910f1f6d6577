package gateway

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/discordsim"
)

// gapRecords builds synthetic ground truth for guild 7 (shard 0), whose
// channel 100 has gap message 11 (between messages 10 and 12) and whose
// channel 200 has none.
type gapRecords []discordsim.Record

func (rs gapRecords) add(r discordsim.Record) gapRecords {
	r.Index, r.GuildID = uint64(len(rs)+1), 7
	if r.Deliveries == nil {
		r.Deliveries = []discordsim.Delivery{}
	}
	return append(rs, r)
}

// create and del are MESSAGE_CREATE and MESSAGE_DELETE of message id in
// channel 100, received by a session if delivered.
func (rs gapRecords) create(id string, delivered bool) gapRecords {
	return rs.add(discordsim.Record{Type: "MESSAGE_CREATE", Key: id, ChannelID: 100, Deliveries: got(delivered)})
}

func (rs gapRecords) del(id string, delivered bool) gapRecords {
	return rs.add(discordsim.Record{Type: "MESSAGE_DELETE", Key: id, ChannelID: 100, Deliveries: got(delivered)})
}

// back is an event of the shard that reached a new session.
func (rs gapRecords) back() gapRecords {
	return rs.add(discordsim.Record{Type: "TYPING_START", Key: "x", Deliveries: got(true)})
}

// read is a history read of channel covering the ids in (after, before).
func (rs gapRecords) read(channel, after, before discordsim.ID) gapRecords {
	return rs.add(discordsim.Record{Type: discordsim.RecordHistoryRead, Key: channel.String(), ChannelID: channel, After: after, Before: before})
}

func got(delivered bool) []discordsim.Delivery {
	if !delivered {
		return []discordsim.Delivery{}
	}
	return []discordsim.Delivery{{SessionID: "b", Seq: 1}}
}

// A gap message is gone when history no longer had it at the first read
// of its channel that covered it after its creation, or when it was
// deleted before its shard had a session again.
func TestGoneInGapFollowsHistoryReads(t *testing.T) {
	t.Parallel()
	var none gapRecords
	tests := []struct {
		name    string
		records gapRecords
		gone    bool
	}{
		{"deleted before the read: the backfill found it gone",
			none.create("11", false).back().del("11", true).read(100, 0, 0), true},
		{"deleted after the read: the backfill had it",
			none.create("11", false).back().read(100, 0, 0).del("11", true), false},
		{"no read, never deleted: capture owes it",
			none.create("11", false).back(), false},
		{"read, never deleted",
			none.create("11", false).back().read(100, 0, 0), false},
		{"deleted inside the gap, no read needed",
			none.create("11", false).del("11", false), true},
		{"deleted inside the gap, the session back later",
			none.create("11", false).del("11", false).back().read(100, 0, 0), true},
		{"no read, deleted once a session existed: capture never looked while it was there",
			none.create("11", false).back().del("11", true), false},
		{"a page older than it does not count, the covering read after the delete does",
			none.create("11", false).back().read(100, 0, 11).del("11", true).read(100, 10, 12), true},
		{"a page newer than it does not count either",
			none.create("11", false).back().read(100, 11, 0).del("11", true), false},
		{"another channel's read does not count",
			none.create("11", false).back().read(200, 0, 0).del("11", true), false},
		{"a read before its creation does not count",
			none.read(100, 0, 0).create("11", false).back().del("11", true), false},
		{"the delete reached no session (a second gap), the read found it gone",
			none.create("11", false).back().del("11", false).read(100, 0, 0), true},
		{"delivered messages are never gone",
			none.create("11", true).del("11", true).read(100, 0, 0), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			create := tc.records[0].Index
			if tc.records[0].Type != "MESSAGE_CREATE" {
				create = tc.records[1].Index
			}
			require.Equal(t, tc.gone, goneInGap(tc.records)[create])

			exp := ExpectFromGroundTruth(tc.records)
			gone := 0
			if tc.gone {
				gone = 1
			}
			require.Equal(t, !tc.gone, exp.Messages[11])
			require.Equal(t, gone, exp.GoneInGap)
			require.Equal(t, 1-gone, exp.ByType[lake.MessageCreate])
		})
	}
}

// History reads are records but no dispatches: not undeliverable events.
func TestExpectFromGroundTruthSkipsHistoryReads(t *testing.T) {
	t.Parallel()
	var rs gapRecords
	exp := ExpectFromGroundTruth(rs.create("11", true).read(100, 0, 0).read(200, 0, 0))
	require.Zero(t, exp.Undeliverable)
	require.Equal(t, 1, exp.Total())
}
