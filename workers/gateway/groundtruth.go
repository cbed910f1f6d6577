package gateway

import (
	"strconv"
	"strings"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/discordsim"
)

// Expected is what the lake should hold after capturing a simulator's
// dispatches: the exact count per event type and the message ids.
type Expected struct {
	ByType   map[lake.Type]int
	Messages map[int64]bool
}

// Total is the number of lake rows expected.
func (e Expected) Total() int {
	n := 0
	for _, c := range e.ByType {
		n += c
	}
	return n
}

// ExpectFromGroundTruth derives the expected lake contents from the
// simulator's record of what it dispatched, applying the same semantics as
// capture (a repeated member add is not a join; voice updates pair into
// joins, moves and leaves).
func ExpectFromGroundTruth(records []discordsim.Record) Expected {
	exp := Expected{ByType: map[lake.Type]int{}, Messages: map[int64]bool{}}
	voice := map[string]string{} // guild:user -> channel
	for _, r := range records {
		switch r.Type {
		case "MESSAGE_CREATE":
			id, _ := strconv.ParseInt(r.Key, 10, 64)
			if !exp.Messages[id] {
				exp.Messages[id] = true
				exp.ByType[lake.MessageCreate]++
			}
		case "MESSAGE_REACTION_ADD":
			exp.ByType[lake.ReactionAdd]++
		case "MESSAGE_REACTION_REMOVE":
			exp.ByType[lake.ReactionRemove]++
		case "THREAD_CREATE":
			exp.ByType[lake.ThreadCreate]++
		case "GUILD_MEMBER_ADD":
			if !r.Repeat {
				exp.ByType[lake.MemberJoin]++
			}
		case "GUILD_MEMBER_REMOVE":
			exp.ByType[lake.MemberLeave]++
		case "VOICE_STATE_UPDATE":
			parts := strings.Split(r.Key, ":") // user:channel|none:mute:deaf
			if len(parts) < 2 {
				continue
			}
			k := r.GuildID.String() + ":" + parts[0]
			prev, in := voice[k]
			switch ch := parts[1]; {
			case !in && ch != "none":
				voice[k] = ch
				exp.ByType[lake.VoiceJoin]++
			case in && ch == "none":
				delete(voice, k)
				exp.ByType[lake.VoiceLeave]++
			case in && ch != prev:
				voice[k] = ch
				exp.ByType[lake.VoiceMove]++
			}
		}
	}
	return exp
}
