package discordsim

import (
	"slices"
	"sort"
	"time"
)

// storedMsg is a guild message as channel history keeps it: a load test
// keeps every message, and a *Message (about 330 bytes, a guild id of its
// own, an entry in an id map) was a third of what the simulator held per
// event. Everything the generator's messages share (no mentions,
// attachments or embeds, not a reply, no application) is implied; the
// rest is in more. message rebuilds the Message sendMessage made.
type storedMsg struct {
	id        ID
	author    *User
	content   string
	at        int64 // Timestamp in Unix ns (the simulated clock is UTC)
	edited    int64 // EditedTimestamp in Unix ns, 0 if never edited
	reactions []Reaction
	more      *msgMore
}

// msgMore holds the fields of the few messages that have them.
type msgMore struct {
	typ             int
	mentionEveryone bool
	mentions        []*User
	mentionRoles    []ID
	attachments     []Attachment
	embeds          []map[string]any
	reference       *MessageReference
	referenced      *storedMsg // as it was when replied to
	appID           *ID
}

// channelHistory is one channel's messages, ascending by ID.
type channelHistory struct {
	guild ID
	msgs  []storedMsg
}

// storeMessage is m as history keeps it.
func storeMessage(m *Message) storedMsg {
	sm := storedMsg{id: m.ID, author: m.Author, content: m.Content, at: m.Timestamp.UnixNano(), reactions: m.Reactions}
	if m.EditedTimestamp != nil {
		sm.edited = m.EditedTimestamp.UnixNano()
	}
	if m.Type != 0 || m.MentionEveryone || len(m.Mentions) > 0 || len(m.MentionRoles) > 0 || len(m.Attachments) > 0 ||
		len(m.Embeds) > 0 || m.MessageReference != nil || m.Referenced != nil || m.ApplicationID != nil {
		sm.more = &msgMore{typ: m.Type, mentionEveryone: m.MentionEveryone, mentions: m.Mentions, mentionRoles: m.MentionRoles,
			attachments: m.Attachments, embeds: m.Embeds, reference: m.MessageReference, appID: m.ApplicationID}
		if m.Referenced != nil {
			ref := storeMessage(m.Referenced)
			sm.more.referenced = &ref
		}
	}
	return sm
}

// message is the Message sm was stored from (with its current content,
// edit time and reactions); the reactions are a copy.
func (sm *storedMsg) message(channelID, guildID ID) *Message {
	gid := guildID
	m := &Message{
		ID: sm.id, ChannelID: channelID, GuildID: &gid, Author: sm.author, Content: sm.content,
		Timestamp: time.Unix(0, sm.at).UTC(), Mentions: []*User{}, MentionRoles: []ID{},
		Attachments: []Attachment{}, Embeds: []map[string]any{}, Components: []any{}, Reactions: slices.Clone(sm.reactions),
	}
	if sm.edited != 0 {
		t := time.Unix(0, sm.edited).UTC()
		m.EditedTimestamp = &t
	}
	if x := sm.more; x != nil {
		m.Type, m.MentionEveryone, m.MessageReference, m.ApplicationID = x.typ, x.mentionEveryone, x.reference, x.appID
		if len(x.mentions) > 0 {
			m.Mentions = x.mentions
		}
		if len(x.mentionRoles) > 0 {
			m.MentionRoles = x.mentionRoles
		}
		if len(x.attachments) > 0 {
			m.Attachments = x.attachments
		}
		if len(x.embeds) > 0 {
			m.Embeds = x.embeds
		}
		if x.referenced != nil {
			m.Referenced = x.referenced.message(channelID, guildID)
		}
	}
	return m
}

// quoted is sm as a reply's referenced_message: as it is now, without
// reactions nor the message it replies to itself.
func (sm *storedMsg) quoted(channelID, guildID ID) *Message {
	m := sm.message(channelID, guildID)
	m.Referenced, m.Reactions = nil, nil
	return m
}

func (w *world) addMessageLocked(m *Message) {
	h := w.history[m.ChannelID]
	if h == nil {
		h = &channelHistory{guild: *m.GuildID}
		w.history[m.ChannelID] = h
	}
	h.msgs = append(h.msgs, storeMessage(m))
	if w.maxHistory > 0 && len(h.msgs) > 2*w.maxHistory {
		// Trim in bulk so the cost is amortised O(1) per message.
		h.msgs = slices.Clone(h.msgs[len(h.msgs)-w.maxHistory:])
	}
	if c := w.channels[m.ChannelID]; c != nil {
		id := m.ID
		c.LastMessageID = &id
	}
}

// messageLocked finds a message of a channel; the pointer is valid until
// the channel's history changes.
func (w *world) messageLocked(channelID, id ID) (*storedMsg, *channelHistory) {
	h := w.history[channelID]
	if h == nil {
		return nil, nil
	}
	if i, ok := h.find(id); ok {
		return &h.msgs[i], h
	}
	return nil, nil
}

// messageAnywhereLocked finds a message by id alone (scenarios and
// interaction responses, both rare): it looks in every channel.
func (w *world) messageAnywhereLocked(id ID) (ID, *storedMsg, *channelHistory) {
	for ch, h := range w.history {
		if i, ok := h.find(id); ok {
			return ch, &h.msgs[i], h
		}
	}
	return 0, nil, nil
}

func (w *world) deleteMessageLocked(channelID, id ID) {
	if h := w.history[channelID]; h != nil {
		if i, ok := h.find(id); ok {
			h.msgs = slices.Delete(h.msgs, i, i+1)
		}
	}
}

// find returns the index of id. Recent messages get most reactions,
// edits and deletes, so the tail is looked at before a binary search.
func (h *channelHistory) find(id ID) (int, bool) {
	n := len(h.msgs)
	for i := n - 1; i >= 0 && i >= n-16; i-- {
		if h.msgs[i].id == id {
			return i, true
		}
		if h.msgs[i].id < id {
			return 0, false
		}
	}
	i := sort.Search(n, func(i int) bool { return h.msgs[i].id >= id })
	return i, i < n && h.msgs[i].id == id
}
