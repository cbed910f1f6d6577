package gateway_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/workers/gateway"
)

// The expectation follows Discord's gap semantics: what no session
// received is not expected (messages excepted: backfill recovers them,
// unless they were deleted inside the gap), but it still moves the voice
// state that the next session's GUILD_CREATE shows.
func TestExpectFromGroundTruthGaps(t *testing.T) {
	t.Parallel()
	got := func(s string, seq int) []discordsim.Delivery { return []discordsim.Delivery{{SessionID: s, Seq: seq}} }
	none := []discordsim.Delivery{}
	rec := func(i uint64, typ, key string, d []discordsim.Delivery) discordsim.Record {
		return discordsim.Record{Index: i, GuildID: 7, Shard: 0, Type: typ, Key: key, Deliveries: d}
	}
	tests := []struct {
		name    string
		records []discordsim.Record
		want    map[lake.Type]int
		undeliv int
	}{
		{
			name: "join in the gap, leave after it: capture sees a synthetic join and a real leave",
			records: []discordsim.Record{
				rec(1, "VOICE_STATE_UPDATE", "5:100:false:false", none),
				rec(2, "VOICE_STATE_UPDATE", "5:none:false:false", got("b", 3)),
			},
			want: map[lake.Type]int{lake.VoiceLeave: 1}, undeliv: 1,
		},
		{
			name: "leave in the gap, join after it: a join, not a move",
			records: []discordsim.Record{
				rec(1, "VOICE_STATE_UPDATE", "5:100:false:false", got("a", 1)),
				rec(2, "VOICE_STATE_UPDATE", "5:none:false:false", none),
				rec(3, "VOICE_STATE_UPDATE", "5:200:false:false", got("b", 3)),
			},
			want: map[lake.Type]int{lake.VoiceJoin: 2}, undeliv: 1,
		},
		{
			name: "message created and deleted inside the gap is gone from history",
			records: []discordsim.Record{
				rec(1, "MESSAGE_CREATE", "11", none),
				rec(2, "MESSAGE_DELETE", "11", none),
				rec(3, "MESSAGE_CREATE", "12", none),
			},
			want: map[lake.Type]int{lake.MessageCreate: 1}, undeliv: 2, // the delete and the deleted message
		},
		{
			name: "message deleted after a session existed again is still expected",
			records: []discordsim.Record{
				rec(1, "MESSAGE_CREATE", "11", none),
				rec(2, "MESSAGE_REACTION_ADD", "11:5:x", got("b", 3)),
				rec(3, "MESSAGE_DELETE", "11", none),
			},
			want: map[lake.Type]int{lake.MessageCreate: 1, lake.ReactionAdd: 1}, undeliv: 1,
		},
		{
			name: "a repeated add after a join that fell in a gap is the join capture sees",
			records: []discordsim.Record{
				rec(1, "GUILD_MEMBER_ADD", "7:5", none),
				{Index: 2, GuildID: 7, Type: "GUILD_MEMBER_ADD", Key: "7:5", Repeat: true, Deliveries: got("b", 3)},
				{Index: 3, GuildID: 7, Type: "GUILD_MEMBER_ADD", Key: "7:5", Repeat: true, Deliveries: got("b", 4)},
			},
			want: map[lake.Type]int{lake.MemberJoin: 1}, undeliv: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			exp := gateway.ExpectFromGroundTruth(tc.records)
			for typ, n := range exp.ByType {
				if n == 0 {
					delete(exp.ByType, typ)
				}
			}
			require.Equal(t, tc.want, exp.ByType)
			require.Equal(t, tc.undeliv, exp.Undeliverable)
		})
	}
}
