package discordsim

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"sort"
	"unicode/utf8"
)

// ChannelDM is the type of a direct message channel. It never appears in a
// guild's channel list.
const ChannelDM = 1

var (
	// errCannotDM is Discord's answer to a DM the user does not take: their
	// privacy settings close DMs from every guild they share with the bot,
	// they share none, or they are a bot.
	errCannotDM = &apiError{http.StatusForbidden, "Cannot send messages to this user", 50007}
	// errInvalidRecipient answers POST /users/@me/channels for a user id
	// Discord does not know (or the bot itself). Discord's docs name no
	// error for this endpoint; 50033 is what it is observed to return
	// (discord/discord-api-docs#8274, bwmarrin/discordgo#953), not 10013.
	errInvalidRecipient = &apiError{http.StatusBadRequest, "Invalid Recipient(s)", 50033}
)

// DMChannel is a direct message channel between the bot and one user, as
// POST /users/@me/channels returns it.
type DMChannel struct {
	ID            ID      `json:"id"`
	Type          int     `json:"type"`
	LastMessageID *ID     `json:"last_message_id"`
	Flags         int     `json:"flags"`
	Recipients    []*User `json:"recipients"`

	history []*Message // sorted by ID, bounded like guild channels
}

// DirectMessage is a DM the bot sent, for tests and GET /_sim/dms.
type DirectMessage struct {
	RecipientID ID      `json:"recipient_id"`
	Message     Message `json:"message"`
}

// SetMemberDMs sets a member's privacy setting for one guild: whether
// members of that guild (the bot included) may send them direct messages.
// A DM is accepted when the user allows DMs in at least one guild they
// share with the bot, as on Discord. Nothing is dispatched.
func (s *Server) SetMemberDMs(ctx context.Context, guildID, userID ID, open bool) error {
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	g := s.world.guilds[guildID]
	if g == nil {
		return notFound("guild", guildID)
	}
	m := g.Members[userID]
	if m == nil {
		return notFound("member", userID)
	}
	m.dmsClosed = !open
	return nil
}

// DirectMessages returns the DMs the bot sent, oldest first: every one,
// or only those to the users named. Refused DMs are not among them.
func (s *Server) DirectMessages(users ...ID) []DirectMessage {
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	out := []DirectMessage{}
	for _, c := range s.world.dmChannels {
		to := c.Recipients[0].ID
		if len(users) > 0 && !slices.Contains(users, to) {
			continue
		}
		for _, m := range c.history {
			out = append(out, DirectMessage{RecipientID: to, Message: *m})
		}
	}
	slices.SortFunc(out, func(a, b DirectMessage) int { return cmp.Compare(a.Message.ID, b.Message.ID) })
	return out
}

// acceptsDMsLocked reports whether the bot may DM u: a human sharing a
// guild with the bot whose member there leaves DMs open.
func (w *world) acceptsDMsLocked(u *User) bool {
	if u.Bot {
		return false
	}
	for _, g := range w.guilds {
		if m := g.Members[u.ID]; g.BotPresent && m != nil && !m.dmsClosed {
			return true
		}
	}
	return false
}

// restCreateDM is POST /users/@me/channels {"recipient_id"}: the DM
// channel with that user, created on the first call and the same after.
// It succeeds whatever the user's settings: the message is refused.
func (s *Server) restCreateDM(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	var b struct {
		RecipientID *ID `json:"recipient_id"`
	}
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if b.RecipientID == nil {
		return invalid("recipient_id is required")
	}
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	u := s.world.users[*b.RecipientID]
	if u == nil || u.ID == s.world.appID {
		return errInvalidRecipient
	}
	c := s.world.dmByUser[u.ID]
	if c == nil {
		c = &DMChannel{ID: s.clock.Snowflake(), Type: ChannelDM, Recipients: []*User{u}}
		s.world.dmChannels[c.ID] = c
		s.world.dmByUser[u.ID] = c
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// sendDM posts b to the DM channel c, or refuses with 50007 when its
// recipient does not take DMs from the bot. DMs are recorded (see
// DirectMessages) but not dispatched: the simulator has no
// DIRECT_MESSAGES intent.
func (s *Server) sendDM(c *DMChannel, b createMessageBody) (*Message, error) {
	if b.MessageReference != nil {
		return nil, invalid("replies in DMs are not simulated")
	}
	now := s.clock.Now()
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	if !s.world.acceptsDMsLocked(c.Recipients[0]) {
		return nil, errCannotDM
	}
	m := &Message{
		ID: s.clock.Snowflake(), ChannelID: c.ID, Author: s.world.botUser, Content: b.Content, Timestamp: now,
		Mentions: []*User{}, MentionRoles: []ID{}, Attachments: []Attachment{}, Embeds: normalizeEmbeds(b.Embeds), Components: []any{},
	}
	if m.Embeds == nil {
		m.Embeds = []map[string]any{}
	}
	app := s.world.appID
	m.ApplicationID = &app
	c.history = append(c.history, m)
	if keep := s.world.maxHistory; keep > 0 && len(c.history) > 2*keep {
		c.history = slices.Clone(c.history[len(c.history)-keep:])
	}
	id := m.ID
	c.LastMessageID = &id
	out := *m
	return &out, nil
}

// dmChannelLocked returns the DM channel named by the path's channel_id,
// or nil if it names none.
func (s *Server) dmChannelLocked(r *http.Request) *DMChannel {
	cid, err := ParseID(r.PathValue("channel_id"))
	if err != nil {
		return nil
	}
	return s.world.dmChannels[cid]
}

// historyPage is the page h[lo:hi] of h (ascending by ID) GET messages
// returns for limit and one of the before/after/around cursors, oldest first.
func historyPage[T any](h []T, limit int, before, after, around ID, id func(*T) ID) (lo, hi int) {
	switch {
	case around != 0:
		i := sort.Search(len(h), func(i int) bool { return id(&h[i]) >= around })
		from := max(0, i-limit/2)
		return from, min(len(h), from+limit)
	case after != 0:
		i := sort.Search(len(h), func(i int) bool { return id(&h[i]) > after })
		return i, min(len(h), i+limit)
	}
	end := len(h)
	if before != 0 {
		end = sort.Search(len(h), func(i int) bool { return id(&h[i]) >= before })
	}
	return max(0, end-limit), end
}

// pageSpan is the ids the page h[lo:hi] covers: every id between the
// messages either side of it, which the page would hold if they existed.
func pageSpan[T any](h []T, lo, hi int, id func(*T) ID) gtSpan {
	var sp gtSpan
	if lo > 0 {
		sp.after = id(&h[lo-1])
	}
	if hi < len(h) {
		sp.before = id(&h[hi])
	}
	return sp
}

// validateMessage applies Discord's limits to a message body.
func validateMessage(b createMessageBody) error {
	if b.Content == "" && len(b.Embeds) == 0 {
		return errEmptyMessage
	}
	if utf8.RuneCountInString(b.Content) > 2000 {
		return invalid("content must be 2000 or fewer in length")
	}
	if len(b.Embeds) > 10 {
		return invalid("embeds must be 10 or fewer")
	}
	return nil
}
