package discordsim

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Append-style encoders for the dispatches the activity generator sends
// most (MESSAGE_CREATE/UPDATE, reactions, voice states, member add/remove,
// message delete). They write exactly the bytes encoding/json writes for
// the same values (field order, omitempty, HTML escaping, RFC 3339 times;
// encode_test.go proves it), without reflection and with one allocation
// per payload. Rare, open-ended parts (embeds, components) still go
// through encoding/json.

// encodeBuf is a scratch buffer the append encoders write into; the
// finished payload is copied out at its exact size, because dispatches
// stay referenced by resume buffers.
type encodeBuf struct {
	b    []byte
	cuts [2]cut
}

func (s *Server) encode(fn func(b []byte) []byte) []byte {
	return s.encodeCut(func(b []byte, _ *[2]cut) []byte { return fn(b) }).b
}

// encodeCut is encode for payloads with spans to share (see payload):
// fn sets cuts to the spans of b it wrote them at.
func (s *Server) encodeCut(fn func(b []byte, cuts *[2]cut) []byte) payload {
	eb, _ := s.encBufs.Get().(*encodeBuf)
	if eb == nil {
		eb = &encodeBuf{b: make([]byte, 0, 4096)}
	}
	eb.cuts = [2]cut{}
	eb.b = fn(eb.b[:0], &eb.cuts) // not a local: its address would escape through fn
	out := cutPayload(eb.b, &eb.cuts)
	eb.cuts = [2]cut{} // the pool must not keep records alive
	if cap(eb.b) <= 64<<10 {
		s.encBufs.Put(eb)
	}
	return out
}

const hexDigits = "0123456789abcdef"

// appendJSONString is encoding/json's string encoding with HTML escaping
// (its default): <, > and & as \u003c, \u003e, \u0026, invalid UTF-8 as
// \ufffd, U+2028/U+2029 escaped.
func appendJSONString(dst []byte, src string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(src); {
		if b := src[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, src[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(src[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, src[start:]...)
	return append(dst, '"')
}

func appendStringPtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *s)
}

func appendID(b []byte, id ID) []byte {
	b = append(b, '"')
	b = strconv.AppendUint(b, uint64(id), 10)
	return append(b, '"')
}

func appendIDPtr(b []byte, id *ID) []byte {
	if id == nil {
		return append(b, "null"...)
	}
	return appendID(b, *id)
}

func appendIDs(b []byte, ids []ID) []byte {
	if ids == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendID(b, id)
	}
	return append(b, ']')
}

func appendInt(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b, err := t.AppendText(b)
	if err != nil {
		panic(fmt.Sprintf("discordsim: encoding time: %v", err)) // as mustJSON: only our own clock's times reach here
	}
	return append(b, '"')
}

func appendTimePtr(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	return appendTime(b, *t)
}

// appendJSON appends encoding/json's encoding of v, for the rare parts.
func appendJSON(b []byte, v any) []byte { return append(b, mustJSON(v)...) }

func appendUser(b []byte, u *User) []byte {
	if u == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"id":`...)
	b = appendID(b, u.ID)
	b = append(b, `,"username":`...)
	b = appendJSONString(b, u.Username)
	b = append(b, `,"discriminator":`...)
	b = appendJSONString(b, u.Discriminator)
	b = append(b, `,"global_name":`...)
	b = appendStringPtr(b, u.GlobalName)
	b = append(b, `,"avatar":`...)
	b = appendStringPtr(b, u.Avatar)
	if u.Bot {
		b = append(b, `,"bot":true`...)
	}
	b = append(b, `,"public_flags":`...)
	b = appendInt(b, u.PublicFlags)
	return append(b, '}')
}

// appendMemberFields writes a member's fields after "user" (the fields
// the partial member and Member share), without the closing brace.
func appendMemberFields(b []byte, nick, avatar *string, roles []ID, joined time.Time, deaf, mute bool, flags int, pending bool) []byte {
	b = append(b, `"nick":`...)
	b = appendStringPtr(b, nick)
	b = append(b, `,"avatar":`...)
	b = appendStringPtr(b, avatar)
	b = append(b, `,"roles":`...)
	b = appendIDs(b, roles)
	b = append(b, `,"joined_at":`...)
	b = appendTime(b, joined)
	b = append(b, `,"deaf":`...)
	b = strconv.AppendBool(b, deaf)
	b = append(b, `,"mute":`...)
	b = strconv.AppendBool(b, mute)
	b = append(b, `,"flags":`...)
	b = appendInt(b, flags)
	b = append(b, `,"pending":`...)
	return strconv.AppendBool(b, pending)
}

// appendMemberOpen writes a full member without its closing brace, so a
// wire type embedding it can add fields.
func appendMemberOpen(b []byte, m *Member) []byte {
	b = append(b, `{"user":`...)
	b = appendUser(b, m.User)
	b = append(b, ',')
	return appendMemberFields(b, m.Nick, m.Avatar, m.Roles, m.JoinedAt, m.Deaf, m.Mute, m.Flags, m.Pending)
}

func appendMember(b []byte, m *Member) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	return append(appendMemberOpen(b, m), '}')
}

// appendWireMember writes m as the partial member inside MESSAGE_CREATE
// and MESSAGE_UPDATE: partialOf(m), without the user (and, as partialOf,
// with deaf, mute and pending false).
func appendWireMember(b []byte, m *Member) []byte {
	b = append(b, '{')
	b = appendMemberFields(b, m.Nick, m.Avatar, m.Roles, m.JoinedAt, false, false, m.Flags, false)
	return append(b, '}')
}

func appendAttachment(b []byte, a *Attachment) []byte {
	b = append(b, `{"id":`...)
	b = appendID(b, a.ID)
	b = append(b, `,"filename":`...)
	b = appendJSONString(b, a.Filename)
	b = append(b, `,"size":`...)
	b = appendInt(b, a.Size)
	b = append(b, `,"url":`...)
	b = appendJSONString(b, a.URL)
	b = append(b, `,"proxy_url":`...)
	b = appendJSONString(b, a.ProxyURL)
	if a.ContentType != "" {
		b = append(b, `,"content_type":`...)
		b = appendJSONString(b, a.ContentType)
	}
	if a.Width != nil {
		b = append(b, `,"width":`...)
		b = appendInt(b, *a.Width)
	}
	if a.Height != nil {
		b = append(b, `,"height":`...)
		b = appendInt(b, *a.Height)
	}
	return append(b, '}')
}

func appendReactionEmoji(b []byte, e *ReactionEmoji) []byte {
	b = append(b, `{"id":`...)
	b = appendIDPtr(b, e.ID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, e.Name)
	if e.Animated {
		b = append(b, `,"animated":true`...)
	}
	return append(b, '}')
}

// contentSpans locates the content, attachments and embeds values in an
// encoded MESSAGE_CREATE/UPDATE: the parts Discord blanks for sessions
// without the MESSAGE_CONTENT intent.
type contentSpans struct {
	content, attachments, embeds [2]int
	// author and member locate the objects payloads share (payload).
	author, member [2]int
}

// blank returns d with content "", attachments [] and embeds []: the
// payload of the same message with those fields blanked.
func (sp *contentSpans) blank(d []byte) []byte {
	out := make([]byte, 0, len(d))
	out = append(out, d[:sp.content[0]]...)
	out = append(out, `""`...)
	out = append(out, d[sp.content[1]:sp.attachments[0]]...)
	out = append(out, "[]"...)
	out = append(out, d[sp.attachments[1]:sp.embeds[0]]...)
	out = append(out, "[]"...)
	return append(out, d[sp.embeds[1]:]...)
}

// appendMessage writes m as encoding/json does; with wire set it writes
// messageWire{Message: m, Member: partialOf(wireMember)}, whose member
// field hides Message.Member and comes last. sp, if set, receives the
// offsets of the content, attachments and embeds values in b.
func appendMessage(b []byte, m *Message, wire bool, wireMember *Member, sp *contentSpans) []byte {
	b = append(b, `{"id":`...)
	b = appendID(b, m.ID)
	b = append(b, `,"type":`...)
	b = appendInt(b, m.Type)
	b = append(b, `,"channel_id":`...)
	b = appendID(b, m.ChannelID)
	if m.GuildID != nil {
		b = append(b, `,"guild_id":`...)
		b = appendID(b, *m.GuildID)
	}
	b = append(b, `,"author":`...)
	start := len(b)
	b = appendUser(b, m.Author)
	if sp != nil {
		sp.author = [2]int{start, len(b)}
	}
	if !wire && m.Member != nil {
		b = append(b, `,"member":`...)
		b = appendMember(b, m.Member)
	}
	b = append(b, `,"content":`...)
	start = len(b)
	b = appendJSONString(b, m.Content)
	if sp != nil {
		sp.content = [2]int{start, len(b)}
	}
	b = append(b, `,"timestamp":`...)
	b = appendTime(b, m.Timestamp)
	b = append(b, `,"edited_timestamp":`...)
	b = appendTimePtr(b, m.EditedTimestamp)
	b = append(b, `,"tts":`...)
	b = strconv.AppendBool(b, m.TTS)
	b = append(b, `,"mention_everyone":`...)
	b = strconv.AppendBool(b, m.MentionEveryone)
	b = append(b, `,"mentions":`...)
	if m.Mentions == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, u := range m.Mentions {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendUser(b, u)
		}
		b = append(b, ']')
	}
	b = append(b, `,"mention_roles":`...)
	b = appendIDs(b, m.MentionRoles)
	b = append(b, `,"attachments":`...)
	start = len(b)
	if m.Attachments == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range m.Attachments {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendAttachment(b, &m.Attachments[i])
		}
		b = append(b, ']')
	}
	if sp != nil {
		sp.attachments = [2]int{start, len(b)}
	}
	b = append(b, `,"embeds":`...)
	start = len(b)
	switch {
	case m.Embeds == nil:
		b = append(b, "null"...)
	case len(m.Embeds) == 0:
		b = append(b, "[]"...)
	default:
		b = appendJSON(b, m.Embeds)
	}
	if sp != nil {
		sp.embeds = [2]int{start, len(b)}
	}
	if len(m.Reactions) > 0 {
		b = append(b, `,"reactions":[`...)
		for i := range m.Reactions {
			r := &m.Reactions[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"count":`...)
			b = appendInt(b, r.Count)
			b = append(b, `,"me":`...)
			b = strconv.AppendBool(b, r.Me)
			b = append(b, `,"emoji":`...)
			b = appendReactionEmoji(b, &r.Emoji)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"pinned":`...)
	b = strconv.AppendBool(b, m.Pinned)
	b = append(b, `,"flags":`...)
	b = appendInt(b, m.Flags)
	if r := m.MessageReference; r != nil {
		b = append(b, `,"message_reference":{"type":`...)
		b = appendInt(b, r.Type)
		b = append(b, `,"message_id":`...)
		b = appendID(b, r.MessageID)
		b = append(b, `,"channel_id":`...)
		b = appendID(b, r.ChannelID)
		b = append(b, `,"guild_id":`...)
		b = appendID(b, r.GuildID)
		b = append(b, '}')
	}
	if m.Referenced != nil {
		b = append(b, `,"referenced_message":`...)
		b = appendMessage(b, m.Referenced, false, nil, nil)
	}
	if m.ApplicationID != nil {
		b = append(b, `,"application_id":`...)
		b = appendID(b, *m.ApplicationID)
	}
	if m.WebhookID != nil {
		b = append(b, `,"webhook_id":`...)
		b = appendID(b, *m.WebhookID)
	}
	b = append(b, `,"components":`...)
	switch {
	case m.Components == nil:
		b = append(b, "null"...)
	case len(m.Components) == 0:
		b = append(b, "[]"...)
	default:
		b = appendJSON(b, m.Components)
	}
	if wire && wireMember != nil {
		b = append(b, `,"member":`...)
		start = len(b)
		b = appendWireMember(b, wireMember)
		if sp != nil {
			sp.member = [2]int{start, len(b)}
		}
	}
	return append(b, '}')
}

// encodeMessageWire is mustJSON(messageWire{Message: m, Member:
// partialOf(member)}) (no member field if member is nil), with the spans
// that blank it for sessions without MESSAGE_CONTENT.
func (s *Server) encodeMessageWire(m *Message, member *Member) (payload, contentSpans) {
	var sp contentSpans
	d := s.encodeCut(func(b []byte, cuts *[2]cut) []byte {
		b = appendMessage(b, m, true, member, &sp)
		if m.Author != nil {
			cuts[0] = cut{sp.author[0], sp.author[1], &m.Author.shared}
		}
		if member != nil {
			cuts[1] = cut{sp.member[0], sp.member[1], &member.sharedWire}
		}
		return b
	})
	return d, sp
}

// encodeReaction is the MESSAGE_REACTION_ADD (member set) or
// MESSAGE_REACTION_REMOVE payload; encoding/json sorts a map's keys.
func (s *Server) encodeReaction(userID, channelID, messageID, guildID ID, emoji *ReactionEmoji, member *Member, authorID ID) payload {
	return s.encodeCut(func(b []byte, cuts *[2]cut) []byte {
		b = append(b, `{"burst":false`...)
		if member != nil {
			b = append(b, `,"burst_colors":[]`...)
		}
		b = append(b, `,"channel_id":`...)
		b = appendID(b, channelID)
		b = append(b, `,"emoji":`...)
		b = appendReactionEmoji(b, emoji)
		b = append(b, `,"guild_id":`...)
		b = appendID(b, guildID)
		if member != nil {
			b = append(b, `,"member":`...)
			start := len(b)
			b = appendMember(b, member)
			cuts[0] = cut{start, len(b), &member.shared}
			b = append(b, `,"message_author_id":`...)
			b = appendID(b, authorID)
		}
		b = append(b, `,"message_id":`...)
		b = appendID(b, messageID)
		b = append(b, `,"type":0,"user_id":`...)
		b = appendID(b, userID)
		return append(b, '}')
	})
}

// encodeVoiceState is mustJSON(vs).
func (s *Server) encodeVoiceState(vs *VoiceState) payload {
	return s.encodeCut(func(b []byte, cuts *[2]cut) []byte {
		b = append(b, `{"guild_id":`...)
		b = appendID(b, vs.GuildID)
		b = append(b, `,"channel_id":`...)
		b = appendIDPtr(b, vs.ChannelID)
		b = append(b, `,"user_id":`...)
		b = appendID(b, vs.UserID)
		if vs.Member != nil {
			b = append(b, `,"member":`...)
			start := len(b)
			b = appendMember(b, vs.Member)
			cuts[0] = cut{start, len(b), &vs.Member.shared}
		}
		b = append(b, `,"session_id":`...)
		b = appendJSONString(b, vs.SessionID)
		b = append(b, `,"deaf":`...)
		b = strconv.AppendBool(b, vs.Deaf)
		b = append(b, `,"mute":`...)
		b = strconv.AppendBool(b, vs.Mute)
		b = append(b, `,"self_deaf":`...)
		b = strconv.AppendBool(b, vs.SelfDeaf)
		b = append(b, `,"self_mute":`...)
		b = strconv.AppendBool(b, vs.SelfMute)
		b = append(b, `,"self_stream":`...)
		b = strconv.AppendBool(b, vs.SelfStream)
		b = append(b, `,"self_video":`...)
		b = strconv.AppendBool(b, vs.SelfVideo)
		b = append(b, `,"suppress":`...)
		b = strconv.AppendBool(b, vs.Suppress)
		b = append(b, `,"request_to_speak_timestamp":`...)
		b = appendTimePtr(b, vs.RequestToSpeak)
		return append(b, '}')
	})
}

// encodeMemberAdd is mustJSON(memberAddWire{Member: m, GuildID: guildID}).
func (s *Server) encodeMemberAdd(m *Member, guildID ID) []byte {
	return s.encode(func(b []byte) []byte {
		b = appendMemberOpen(b, m)
		b = append(b, `,"guild_id":`...)
		b = appendID(b, guildID)
		return append(b, '}')
	})
}

// encodeMemberRemove is the GUILD_MEMBER_REMOVE payload.
func (s *Server) encodeMemberRemove(guildID ID, u *User) []byte {
	return s.encode(func(b []byte) []byte {
		b = append(b, `{"guild_id":`...)
		b = appendID(b, guildID)
		b = append(b, `,"user":`...)
		b = appendUser(b, u)
		return append(b, '}')
	})
}

// encodeMessageDelete is the MESSAGE_DELETE payload.
func (s *Server) encodeMessageDelete(messageID, channelID, guildID ID) []byte {
	return s.encode(func(b []byte) []byte {
		b = append(b, `{"channel_id":`...)
		b = appendID(b, channelID)
		b = append(b, `,"guild_id":`...)
		b = appendID(b, guildID)
		b = append(b, `,"id":`...)
		b = appendID(b, messageID)
		return append(b, '}')
	})
}
