package discordsim

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
)

// MessageOptions describes a message to post. AuthorID must be a member of
// the channel's guild (or the bot). Mentions of the form <@id> and <@&id> in
// Content are resolved into mentions / mention_roles automatically.
type MessageOptions struct {
	ChannelID   ID
	AuthorID    ID
	Content     string
	ReplyTo     ID // message being replied to, 0 for none
	Attachments []string
	Embeds      []map[string]any
	// Nonce-free, TTS-free: Synapse does not use them.
}

var (
	userMentionRe = regexp.MustCompile(`<@!?(\d+)>`)
	roleMentionRe = regexp.MustCompile(`<@&(\d+)>`)
)

// memberPartial is a member without its user, as inside MESSAGE_CREATE.
// messageWire and memberPartial are the shapes encodeMessageWire writes;
// the tests encode them with encoding/json to prove it.
type memberPartial struct {
	Nick     *string   `json:"nick"`
	Avatar   *string   `json:"avatar"`
	Roles    []ID      `json:"roles"`
	JoinedAt time.Time `json:"joined_at"`
	Deaf     bool      `json:"deaf"`
	Mute     bool      `json:"mute"`
	Flags    int       `json:"flags"`
	Pending  bool      `json:"pending"`
}

func partialOf(m *Member) *memberPartial {
	return &memberPartial{Nick: m.Nick, Avatar: m.Avatar, Roles: slices.Clone(m.Roles), JoinedAt: m.JoinedAt, Flags: m.Flags}
}

// messageWire is Message plus the partial member, as dispatched.
type messageWire struct {
	*Message
	Member *memberPartial `json:"member,omitempty"`
}

func (s *Server) channelGuildLocked(channelID ID) (*Channel, *Guild, error) {
	c := s.world.channels[channelID]
	if c == nil {
		return nil, nil, notFound("channel", channelID)
	}
	g := s.world.guilds[c.GuildID]
	if g == nil {
		return nil, nil, notFound("guild", c.GuildID)
	}
	return c, g, nil
}

// SendMessage posts a message and dispatches MESSAGE_CREATE.
func (s *Server) SendMessage(ctx context.Context, o MessageOptions) (*Message, error) {
	var out Message
	if _, err := s.sendMessage(o, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// sendMessage is SendMessage; it copies the message into out, if set,
// and returns its ID (the generator needs nothing else).
//
// The message enters history and is recorded under the dispatch lock, as
// deletes and history reads are: ground truth orders a read after the
// messages it could return (see Record.Covers).
func (s *Server) sendMessage(o MessageOptions, out *Message) (ID, error) {
	now := s.clock.Now()
	s.dispatchMu.Lock()
	defer s.dispatchMu.Unlock()
	s.world.mu.Lock()
	c, g, err := s.channelGuildLocked(o.ChannelID)
	if err != nil {
		s.world.mu.Unlock()
		return 0, err
	}
	if c.Type == ChannelCategory || c.Type == ChannelVoice || c.Type == ChannelForum {
		s.world.mu.Unlock()
		return 0, invalid("channel %s does not accept messages", c.ID)
	}
	member := g.Members[o.AuthorID]
	if member == nil {
		s.world.mu.Unlock()
		return 0, notFound("member", o.AuthorID)
	}
	gid := g.ID
	m := &Message{
		ID: s.clock.Snowflake(), ChannelID: c.ID, GuildID: &gid, Author: member.User,
		Content: o.Content, Timestamp: now, Mentions: []*User{}, MentionRoles: []ID{},
		Attachments: []Attachment{}, Embeds: o.Embeds, Components: []any{},
	}
	if m.Embeds == nil {
		m.Embeds = []map[string]any{}
	}
	if member.User.Bot {
		app := s.world.appID
		m.ApplicationID = &app
	}
	botMentioned := false
	// Both mention forms start with "<@": most messages skip the regexps.
	if strings.Contains(o.Content, "<@") {
		for _, sm := range userMentionRe.FindAllStringSubmatch(o.Content, -1) {
			id, _ := ParseID(sm[1])
			if u := s.world.users[id]; u != nil && !slices.Contains(m.Mentions, u) {
				m.Mentions = append(m.Mentions, u)
				botMentioned = botMentioned || u.ID == s.world.appID
			}
		}
		for _, sm := range roleMentionRe.FindAllStringSubmatch(o.Content, -1) {
			if id, _ := ParseID(sm[1]); g.role(id) != nil && !slices.Contains(m.MentionRoles, id) {
				m.MentionRoles = append(m.MentionRoles, id)
			}
		}
	}
	m.MentionEveryone = strings.Contains(o.Content, "@everyone")
	for i, name := range o.Attachments {
		aid := s.clock.Snowflake()
		url := "https://cdn.discordapp.com/attachments/" + c.ID.String() + "/" + aid.String() + "/" + name
		a := Attachment{ID: aid, Filename: name, Size: 1024 * (i + 17), URL: url, ProxyURL: strings.Replace(url, "cdn.discordapp.com", "media.discordapp.net", 1)}
		if strings.HasSuffix(name, ".png") || strings.HasSuffix(name, ".jpg") {
			w, h := 1280, 720
			a.ContentType, a.Width, a.Height = "image/png", &w, &h
		}
		m.Attachments = append(m.Attachments, a)
	}
	if o.ReplyTo != 0 {
		ref, _ := s.world.messageLocked(c.ID, o.ReplyTo)
		if ref == nil {
			s.world.mu.Unlock()
			return 0, notFound("message", o.ReplyTo)
		}
		m.Type = 19 // REPLY
		m.MessageReference = &MessageReference{MessageID: ref.id, ChannelID: c.ID, GuildID: gid}
		m.Referenced = ref.quoted(c.ID, gid)
	}
	s.world.addMessageLocked(m)
	d, spans := s.encodeMessageWire(m, member)
	if out != nil {
		*out = *m
	}
	s.world.mu.Unlock()
	// Without MESSAGE_CONTENT a session gets the message blanked, unless
	// it is the bot's own or mentions the bot.
	s.dispatchLocked(event{guildID: gid, typ: "MESSAGE_CREATE", key: messageKey(m.ID, m.ChannelID), intent: IntentGuildMessages, d: d,
		blankable: !member.User.Bot && !botMentioned, spans: spans, at: now})
	return m.ID, nil
}

// EditMessage changes a message's content and dispatches MESSAGE_UPDATE.
func (s *Server) EditMessage(ctx context.Context, channelID, messageID ID, content string) (*Message, error) {
	now := s.clock.Now()
	s.world.mu.Lock()
	sm, h := s.world.messageLocked(channelID, messageID)
	if sm == nil {
		s.world.mu.Unlock()
		return nil, notFound("message", messageID)
	}
	g := s.world.guilds[h.guild]
	sm.content, sm.edited = content, now.UnixNano()
	m := sm.message(channelID, h.guild)
	d, spans := s.encodeMessageWire(m, g.Members[m.Author.ID])
	s.world.mu.Unlock()
	key := pairKey(messageID, ID(now.UnixMilli()))
	s.dispatch(event{guildID: g.ID, typ: "MESSAGE_UPDATE", key: key, intent: IntentGuildMessages, d: d, blankable: true, spans: spans, at: now})
	return m, nil
}

// DeleteMessage removes a message and dispatches MESSAGE_DELETE.
func (s *Server) DeleteMessage(ctx context.Context, channelID, messageID ID) error {
	// Under the dispatch lock, as history reads: no read can find the
	// message gone before its delete is recorded.
	s.dispatchMu.Lock()
	defer s.dispatchMu.Unlock()
	s.world.mu.Lock()
	sm, h := s.world.messageLocked(channelID, messageID)
	if sm == nil {
		s.world.mu.Unlock()
		return notFound("message", messageID)
	}
	gid := h.guild
	s.world.deleteMessageLocked(channelID, messageID)
	s.world.mu.Unlock()
	d := s.encodeMessageDelete(messageID, channelID, gid)
	s.dispatchLocked(event{guildID: gid, typ: "MESSAGE_DELETE", key: messageKey(messageID, channelID), intent: IntentGuildMessages, d: plain(d), at: s.clock.Now()})
	return nil
}

// parseEmoji accepts a unicode emoji ("👍") or a custom one ("name:id").
func parseEmoji(e string) (ReactionEmoji, string) {
	if name, idStr, ok := strings.Cut(e, ":"); ok {
		if id, err := ParseID(idStr); err == nil {
			return ReactionEmoji{ID: &id, Name: name}, idStr
		}
	}
	return ReactionEmoji{Name: e}, e
}

// AddReaction adds userID's reaction and dispatches MESSAGE_REACTION_ADD.
func (s *Server) AddReaction(ctx context.Context, channelID, messageID, userID ID, emoji string) error {
	return s.react(channelID, messageID, userID, emoji, true)
}

// RemoveReaction removes userID's reaction and dispatches MESSAGE_REACTION_REMOVE.
func (s *Server) RemoveReaction(ctx context.Context, channelID, messageID, userID ID, emoji string) error {
	return s.react(channelID, messageID, userID, emoji, false)
}

func (s *Server) react(channelID, messageID, userID ID, emoji string, add bool) error {
	re, emojiKey := parseEmoji(emoji)
	s.world.mu.Lock()
	m, h := s.world.messageLocked(channelID, messageID)
	if m == nil {
		s.world.mu.Unlock()
		return notFound("message", messageID)
	}
	g := s.world.guilds[h.guild]
	mem := g.Members[userID]
	if mem == nil {
		s.world.mu.Unlock()
		return notFound("member", userID)
	}
	i := slices.IndexFunc(m.reactions, func(r Reaction) bool { return r.Emoji.Name == re.Name })
	typ := "MESSAGE_REACTION_ADD"
	// MESSAGE_REACTION_ADD carries the member, the author and burst_colors.
	var payloadMember *Member
	if add {
		if i < 0 {
			m.reactions = append(m.reactions, Reaction{Emoji: re})
			i = len(m.reactions) - 1
		}
		m.reactions[i].Count++
		payloadMember = mem
	} else {
		typ = "MESSAGE_REACTION_REMOVE"
		if i >= 0 {
			if m.reactions[i].Count--; m.reactions[i].Count <= 0 {
				m.reactions = slices.Delete(m.reactions, i, i+1)
			}
		}
	}
	d := s.encodeReaction(userID, channelID, messageID, g.ID, &re, payloadMember, m.author.ID)
	gid := g.ID
	s.world.mu.Unlock()
	key := recKey{form: keyReaction, a: uint64(messageID), b: uint64(userID), s: emojiKey}
	s.dispatch(event{guildID: gid, typ: typ, key: key, intent: IntentGuildMessageReactions, d: d, at: s.clock.Now()})
	return nil
}

// CreateThread starts a public thread under a text channel and dispatches THREAD_CREATE.
func (s *Server) CreateThread(ctx context.Context, parentID, ownerID ID, name string) (*Channel, error) {
	now := s.clock.Now()
	s.world.mu.Lock()
	parent, g, err := s.channelGuildLocked(parentID)
	if err != nil {
		s.world.mu.Unlock()
		return nil, err
	}
	if parent.Type != ChannelText && parent.Type != ChannelAnnouncement && parent.Type != ChannelForum {
		s.world.mu.Unlock()
		return nil, invalid("channel %s cannot hold threads", parentID)
	}
	if g.Members[ownerID] == nil {
		s.world.mu.Unlock()
		return nil, notFound("member", ownerID)
	}
	zero, one := 0, 1
	pid, oid := parent.ID, ownerID
	t := &Channel{
		ID: s.clock.Snowflake(), Type: ChannelPublicThread, Name: name, ParentID: &pid, OwnerID: &oid,
		MessageCount: &zero, MemberCount: &one, RateLimitPerUser: 0,
		ThreadMetadata: &ThreadMetadata{AutoArchiveDuration: 1440, ArchiveTimestamp: now, CreateTimestamp: now},
	}
	s.world.addChannelLocked(g, t)
	type threadCreate struct {
		*Channel
		NewlyCreated bool `json:"newly_created"`
	}
	d := mustJSON(threadCreate{Channel: t, NewlyCreated: true})
	out := *t
	s.world.mu.Unlock()
	s.dispatch(event{guildID: g.ID, typ: "THREAD_CREATE", key: idKey(t.ID), intent: IntentGuilds, d: plain(d), at: now})
	return &out, nil
}
