package discordsim

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// trickyStrings exercise every escaping rule of encoding/json's default
// (HTML-safe) string encoding.
var trickyStrings = []string{
	"",
	"plain chat",
	`she said "hi" \ bye`,
	"<@123> & <@&456> > <:blob:789>",
	"```go\nfunc main() {\n\tfmt.Println(\"hello\")\n}\n```",
	"\b\f\r\x00\x01\x1f\x7f",
	"héllo wörld — ünïcödé ✓",
	"😂😂 🔥 ❤️ 👍🏽 👨‍👩‍👧",
	"line\u2028sep\u2029para",
	"bad utf8 \xff\xfe end \xe2\x82",
	"日本語のメッセージ",
	"https://example.com/a?b=1&c=<2>",
}

// sameReplacement writes the U+FFFD that stands for invalid UTF-8 one way:
// encoding/json escapes it as \ufffd, but under GOEXPERIMENT=jsonv2 (our
// builds, see the Makefile) it writes the character itself. Both are the
// same JSON string; every other byte must match.
var sameReplacement = strings.NewReplacer(`\ufffd`, "\uFFFD")

func requireSameJSON(t *testing.T, want, got []byte, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, sameReplacement.Replace(string(want)), sameReplacement.Replace(string(got)), msgAndArgs...)
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range trickyStrings {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		requireSameJSON(t, want, appendJSONString(nil, s), "%q", s)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		requireSameJSON(t, want, appendJSONString(nil, s))
	})
}

// TestEncodersMatchEncodingJSON compares each append encoder with what
// encoding/json produced for the same payload before, byte for byte.
func TestEncodersMatchEncodingJSON(t *testing.T) {
	t.Parallel()
	s := &Server{}
	at := time.Date(2026, 3, 4, 5, 6, 7, 891234000, time.UTC)
	atWhole := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	str := func(v string) *string { return &v }
	id := func(v ID) *ID { return &v }
	num := func(v int) *int { return &v }
	for _, tricky := range trickyStrings {
		user := &User{ID: 81234567890123456, Username: "user" + tricky, Discriminator: "0", GlobalName: str(tricky), Avatar: str("a_" + tricky), PublicFlags: 64}
		bot := &User{ID: 1, Username: "Synapse", Discriminator: "0000", Bot: true}
		member := &Member{User: user, Nick: str(tricky), Roles: []ID{5, 6}, JoinedAt: at, Deaf: true, Flags: 2, Pending: true}
		bare := &Member{User: bot, JoinedAt: atWhole, Roles: []ID{}}
		nilRoles := &Member{User: user, JoinedAt: at}
		ref := &Message{ID: 99, ChannelID: 7, GuildID: id(3), Author: bot, Member: bare, Content: tricky, Timestamp: atWhole,
			Mentions: []*User{}, MentionRoles: []ID{}, Attachments: []Attachment{}, Embeds: []map[string]any{}, Components: []any{},
			WebhookID: id(12), Reactions: []Reaction{{Count: 2, Me: true, Emoji: ReactionEmoji{ID: id(44), Name: "blob" + tricky, Animated: true}}}}
		full := &Message{ID: 100, Type: 19, ChannelID: 7, GuildID: id(3), Author: user, Content: tricky, Timestamp: at, EditedTimestamp: &atWhole,
			TTS: true, MentionEveryone: true, Mentions: []*User{user, bot, nil}, MentionRoles: []ID{5},
			Attachments: []Attachment{
				{ID: 8, Filename: "shot" + tricky + ".png", Size: 17408, URL: "https://cdn.discordapp.com/a/" + tricky, ProxyURL: "https://media", ContentType: "image/png", Width: num(1280), Height: num(720)},
				{ID: 9, Filename: "notes.txt", Size: 18432, URL: "u", ProxyURL: "p"},
			},
			Embeds:    []map[string]any{{"title": tricky, "fields": []any{map[string]any{"name": "<b>", "value": 1.5}}}},
			Reactions: []Reaction{{Count: 1, Emoji: ReactionEmoji{Name: "👍"}}, {Count: 3, Emoji: ReactionEmoji{ID: id(45), Name: tricky}}},
			Pinned:    true, Flags: 4,
			MessageReference: &MessageReference{MessageID: 99, ChannelID: 7, GuildID: 3}, Referenced: ref,
			ApplicationID: id(1), Components: []any{map[string]any{"type": 1, "components": []any{}}},
		}
		empty := &Message{ID: 101, ChannelID: 7, Author: nil, Content: tricky, Timestamp: at}
		partial := partialOf(member)
		wire := func(m *Message, mem *Member) []byte {
			d, _ := s.encodeMessageWire(m, mem)
			return d.bytes()
		}
		blanked := func(m *Message, mem *Member) []byte {
			d, sp := s.encodeMessageWire(m, mem)
			return sp.blank(d.bytes())
		}
		for _, tc := range []struct {
			name string
			got  []byte
			want any
		}{
			{"message wire with member", wire(full, member), messageWire{Message: full, Member: partial}},
			{"message wire without member", wire(full, nil), messageWire{Message: full}},
			{"message wire hides Message.Member", wire(ref, bare), messageWire{Message: ref, Member: partialOf(bare)}},
			{"message wire of nil slices", wire(empty, nilRoles), messageWire{Message: empty, Member: partialOf(nilRoles)}},
			{"message blanked", blanked(full, member), blankedWire(full, partial)},
			{"message blanked without member", blanked(full, nil), blankedWire(full, nil)},
			{"message of nil slices blanked", blanked(empty, nilRoles), blankedWire(empty, partialOf(nilRoles))},
			{"reaction add unicode", s.encodeReaction(81234567890123456, 7, 100, 3, &ReactionEmoji{Name: tricky}, member, 2).bytes(),
				map[string]any{"user_id": ID(81234567890123456), "channel_id": ID(7), "message_id": ID(100), "guild_id": ID(3),
					"emoji": ReactionEmoji{Name: tricky}, "burst": false, "type": 0,
					"member": member, "message_author_id": ID(2), "burst_colors": []string{}}},
			{"reaction remove custom", s.encodeReaction(4, 7, 100, 3, &ReactionEmoji{ID: id(44), Name: tricky, Animated: true}, nil, 2).bytes(),
				map[string]any{"user_id": ID(4), "channel_id": ID(7), "message_id": ID(100), "guild_id": ID(3),
					"emoji": ReactionEmoji{ID: id(44), Name: tricky, Animated: true}, "burst": false, "type": 0}},
			{"voice join", s.encodeVoiceState(&VoiceState{GuildID: 3, ChannelID: id(11), UserID: 4, Member: member, SessionID: tricky, SelfMute: true, Suppress: true}).bytes(),
				&VoiceState{GuildID: 3, ChannelID: id(11), UserID: 4, Member: member, SessionID: tricky, SelfMute: true, Suppress: true}},
			{"voice leave", s.encodeVoiceState(&VoiceState{GuildID: 3, UserID: 4, Member: nilRoles, SessionID: "abc", Deaf: true, Mute: true, SelfDeaf: true, SelfStream: true, SelfVideo: true, RequestToSpeak: &at}).bytes(),
				&VoiceState{GuildID: 3, UserID: 4, Member: nilRoles, SessionID: "abc", Deaf: true, Mute: true, SelfDeaf: true, SelfStream: true, SelfVideo: true, RequestToSpeak: &at}},
			{"voice without member", s.encodeVoiceState(&VoiceState{GuildID: 3, UserID: 4}).bytes(), &VoiceState{GuildID: 3, UserID: 4}},
			{"member add", s.encodeMemberAdd(member, 3), memberAddWire{Member: member, GuildID: 3}},
			{"member add of a bot", s.encodeMemberAdd(bare, 3), memberAddWire{Member: bare, GuildID: 3}},
			{"member add with nil roles", s.encodeMemberAdd(nilRoles, 3), memberAddWire{Member: nilRoles, GuildID: 3}},
			{"member remove", s.encodeMemberRemove(3, user), map[string]any{"guild_id": ID(3), "user": user}},
			{"message delete", s.encodeMessageDelete(100, 7, 3), map[string]any{"id": ID(100), "channel_id": ID(7), "guild_id": ID(3)}},
		} {
			t.Run(tc.name+"/"+tricky, func(t *testing.T) {
				requireSameJSON(t, mustJSON(tc.want), tc.got)
			})
		}
	}
}

// TestGeneratedDispatchesMatchEncodingJSON runs the activity generator
// into two sessions (with and without MESSAGE_CONTENT) and checks every
// dispatch it produced: decoded into the type the payload was encoded
// from, encoding/json writes the same bytes back. Then it re-encodes the
// world the run left (messages with replies, reactions and edits, voice
// states, members) both ways.
func TestGeneratedDispatchesMatchEncodingJSON(t *testing.T) {
	t.Parallel()
	s, err := New(Config{Seed: 11, Guilds: 3, MembersPerGuild: 40, PendingGuilds: 0}, testLogger(t))
	require.NoError(t, err)
	all := IntentGuilds | IntentGuildMembers | IntentGuildMessages | IntentGuildMessageReactions | IntentGuildVoiceStates
	sessions := []*session{
		{id: "content", shardCount: 1, intents: all | IntentMessageContent, cap: 1 << 20},
		{id: "no-content", shardCount: 1, intents: all, cap: 1 << 20},
	}
	for _, sess := range sessions {
		s.hub.add(sess)
	}
	res, err := s.Generate(context.Background(), GenerateOptions{Profile: ProfileSteady, Rate: 1e9, MaxEvents: 6000})
	require.NoError(t, err)
	require.Equal(t, 6000, res.Events)

	seen := map[string]int{}
	for _, sess := range sessions {
		sess.mu.Lock()
		buf := sess.buf
		sess.mu.Unlock()
		for _, ev := range buf {
			seen[ev.typ]++
			d := ev.d.bytes()
			want := reencodeDispatch(t, ev.typ, d)
			require.Equal(t, string(want), string(d), "%s in session %s", ev.typ, sess.id)
		}
	}
	for _, typ := range []string{"MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "MESSAGE_REACTION_ADD",
		"MESSAGE_REACTION_REMOVE", "VOICE_STATE_UPDATE", "GUILD_MEMBER_ADD", "GUILD_MEMBER_REMOVE", "THREAD_CREATE"} {
		require.NotZero(t, seen[typ], "the run dispatched no %s", typ)
	}

	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	var replies, reacted, edited int
	var stored []*Message
	for ch, h := range s.world.history {
		for i := range h.msgs {
			stored = append(stored, h.msgs[i].message(ch, h.guild))
		}
	}
	for _, m := range stored {
		g := s.world.guilds[*m.GuildID]
		mem := g.Members[m.Author.ID]
		var p *memberPartial
		if mem != nil {
			p = partialOf(mem)
		}
		d, sp := s.encodeMessageWire(m, mem)
		require.Equal(t, string(mustJSON(messageWire{Message: m, Member: p})), string(d.bytes()))
		require.Equal(t, string(mustJSON(blankedWire(m, p))), string(sp.blank(d.bytes())))
		replies += min(1, m.Type)
		reacted += min(1, len(m.Reactions))
		if m.EditedTimestamp != nil {
			edited++
		}
	}
	require.NotZero(t, replies)
	require.NotZero(t, reacted)
	require.NotZero(t, edited)
	for _, g := range s.world.guilds {
		for uid, mem := range g.Members {
			require.Equal(t, string(mustJSON(memberAddWire{Member: mem, GuildID: g.ID})), string(s.encodeMemberAdd(mem, g.ID)))
			require.Equal(t, string(mustJSON(map[string]any{"guild_id": g.ID, "user": mem.User})), string(s.encodeMemberRemove(g.ID, mem.User)))
			if vs := g.Voice[uid]; vs != nil {
				state := *vs
				state.Member = mem
				require.Equal(t, string(mustJSON(&state)), string(s.encodeVoiceState(&state).bytes()))
			}
		}
	}
}

// blankedWire is what sessions without MESSAGE_CONTENT got encoded before
// the append encoders: a copy of m with content, embeds and attachments
// blanked.
func blankedWire(m *Message, member *memberPartial) messageWire {
	blank := *m
	blank.Content, blank.Embeds, blank.Attachments = "", []map[string]any{}, []Attachment{}
	return messageWire{Message: &blank, Member: member}
}

// reencodeDispatch decodes d into the value the simulator encoded it from
// (before the append encoders) and encodes that with encoding/json.
func reencodeDispatch(t *testing.T, typ string, d []byte) []byte {
	t.Helper()
	var v any
	switch typ {
	case "MESSAGE_CREATE", "MESSAGE_UPDATE":
		w := messageWire{Message: &Message{}}
		require.NoError(t, json.Unmarshal(d, &w))
		v = w
	case "MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE":
		var r struct {
			UserID          ID            `json:"user_id"`
			ChannelID       ID            `json:"channel_id"`
			MessageID       ID            `json:"message_id"`
			GuildID         ID            `json:"guild_id"`
			Emoji           ReactionEmoji `json:"emoji"`
			Member          *Member       `json:"member"`
			MessageAuthorID ID            `json:"message_author_id"`
		}
		require.NoError(t, json.Unmarshal(d, &r))
		p := map[string]any{"user_id": r.UserID, "channel_id": r.ChannelID, "message_id": r.MessageID, "guild_id": r.GuildID,
			"emoji": r.Emoji, "burst": false, "type": 0}
		if typ == "MESSAGE_REACTION_ADD" {
			p["member"], p["message_author_id"], p["burst_colors"] = r.Member, r.MessageAuthorID, []string{}
		}
		v = p
	case "VOICE_STATE_UPDATE":
		var vs VoiceState
		require.NoError(t, json.Unmarshal(d, &vs))
		v = &vs
	case "GUILD_MEMBER_ADD":
		w := memberAddWire{Member: &Member{}}
		require.NoError(t, json.Unmarshal(d, &w))
		v = w
	case "GUILD_MEMBER_REMOVE":
		var r struct {
			GuildID ID    `json:"guild_id"`
			User    *User `json:"user"`
		}
		require.NoError(t, json.Unmarshal(d, &r))
		v = map[string]any{"guild_id": r.GuildID, "user": r.User}
	case "MESSAGE_DELETE":
		var r struct {
			ID        ID `json:"id"`
			ChannelID ID `json:"channel_id"`
			GuildID   ID `json:"guild_id"`
		}
		require.NoError(t, json.Unmarshal(d, &r))
		v = map[string]any{"id": r.ID, "channel_id": r.ChannelID, "guild_id": r.GuildID}
	default:
		return d // still encoded by encoding/json
	}
	return mustJSON(v)
}

// The voice key and session id were fmt.Sprintf formats.
func TestVoiceFormatsMatchFmt(t *testing.T) {
	t.Parallel()
	for _, v := range []uint64{0, 1, 15, 16, 1 << 63, ^uint64(0), 123456789012345678} {
		require.Equal(t, fmt.Sprintf("%032x", v), hex32(v))
	}
	for _, u := range []VoiceUpdate{{UserID: 5, SelfMute: true}, {UserID: 123456789012345678, ChannelID: 98765432109876543, SelfDeaf: true}} {
		ch := "none"
		if u.ChannelID != 0 {
			ch = u.ChannelID.String()
		}
		require.Equal(t, fmt.Sprintf("%s:%s:%t:%t", u.UserID, ch, u.SelfMute, u.SelfDeaf), voiceKey(u).String())
	}
}

// Ground truth keys are kept in parts; spelled out they are the strings
// the events were recorded with before.
func TestRecordKeysMatchFmt(t *testing.T) {
	t.Parallel()
	msg, user := ID(1457523995443331072), ID(1178413567381340160)
	edited := time.Date(2026, 1, 5, 0, 0, 1, 500, time.UTC)
	require.Equal(t, msg.String(), idKey(msg).String())
	require.Equal(t, fmt.Sprintf("%s:%s", msg, user), pairKey(msg, user).String())
	require.Equal(t, fmt.Sprintf("%s:%d", msg, edited.UnixMilli()), pairKey(msg, ID(edited.UnixMilli())).String())
	require.Equal(t, fmt.Sprintf("%s:%s:%s", msg, user, "👍"), recKey{form: keyReaction, a: uint64(msg), b: uint64(user), s: "👍"}.String())
	require.Equal(t, "free:form", textKey("free:form").String())
}
