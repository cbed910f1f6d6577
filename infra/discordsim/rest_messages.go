package discordsim

import (
	"net/http"
	"slices"
	"strconv"
)

// restGetMessages returns channel history newest first, with Discord's
// limit (1..100, default 50) and before/after/around cursors.
func (s *Server) restGetMessages(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return invalid("limit must be 1..100")
		}
		limit = n
	}
	cursor := func(name string) (ID, error) {
		if v := q.Get(name); v != "" {
			id, err := ParseID(v)
			if err != nil {
				return 0, invalid("%s must be a snowflake", name)
			}
			return id, nil
		}
		return 0, nil
	}
	before, err := cursor("before")
	if err != nil {
		return err
	}
	after, err := cursor("after")
	if err != nil {
		return err
	}
	around, err := cursor("around")
	if err != nil {
		return err
	}
	// The dispatch lock orders the read against message creates and
	// deletes, which change history and are recorded under it: ground
	// truth then tells which messages the read returned (Record.Covers).
	// It is released before the answer is written; the world lock, whose
	// users and reactions the answer shares, is not.
	s.dispatchMu.Lock()
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	out, err := s.historyLocked(r, limit, before, after, around)
	s.dispatchMu.Unlock()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// historyLocked is a page of the request's channel history, newest first;
// a guild channel's read is recorded as ground truth. The caller holds the
// dispatch lock and the world's read lock.
func (s *Server) historyLocked(r *http.Request, limit int, before, after, around ID) ([]*Message, error) {
	if dm := s.dmChannelLocked(r); dm != nil {
		lo, hi := historyPage(dm.history, limit, before, after, around, func(m **Message) ID { return (*m).ID })
		out := append(make([]*Message, 0, hi-lo), dm.history[lo:hi]...)
		slices.Reverse(out)
		return out, nil
	}
	c, err := s.botChannelLocked(r)
	if err != nil {
		return nil, err
	}
	out := make([]*Message, 0, limit) // [] for a channel never written to, as Discord answers
	var sp gtSpan                     // no history: the read covers every id
	if h := s.world.history[c.ID]; h != nil {
		id := func(m *storedMsg) ID { return m.id }
		lo, hi := historyPage(h.msgs, limit, before, after, around, id)
		for i := hi - 1; i >= lo; i-- {
			out = append(out, h.msgs[i].message(c.ID, h.guild))
		}
		sp = pageSpan(h.msgs, lo, hi, id)
	}
	s.gt.addRead(s.clock.Now(), c.GuildID, c.ID, sp)
	return out, nil
}

type createMessageBody struct {
	Content          string           `json:"content"`
	Embeds           []map[string]any `json:"embeds"`
	MessageReference *struct {
		MessageID ID `json:"message_id"`
	} `json:"message_reference"`
}

func (s *Server) restCreateMessage(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	var b createMessageBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if err := validateMessage(b); err != nil {
		return err
	}
	s.world.mu.RLock()
	dm := s.dmChannelLocked(r)
	s.world.mu.RUnlock()
	if dm != nil {
		m, err := s.sendDM(dm, b)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, m)
		return nil
	}
	s.world.mu.RLock()
	c, err := s.botChannelLocked(r)
	s.world.mu.RUnlock()
	if err != nil {
		return err
	}
	o := MessageOptions{ChannelID: c.ID, AuthorID: s.AppID(), Content: b.Content, Embeds: normalizeEmbeds(b.Embeds)}
	if b.MessageReference != nil {
		o.ReplyTo = b.MessageReference.MessageID
	}
	m, err := s.SendMessage(r.Context(), o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// normalizeEmbeds fills the fields Discord adds to every rich embed.
func normalizeEmbeds(in []map[string]any) []map[string]any {
	for _, e := range in {
		if _, ok := e["type"]; !ok {
			e["type"] = "rich"
		}
	}
	return in
}
