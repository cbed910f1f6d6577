package discordsim

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"unicode/utf8"
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
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	c, err := s.botChannelLocked(r)
	if err != nil {
		return err
	}
	h := s.world.history[c.ID] // ascending by ID
	var page []*Message
	switch {
	case around != 0:
		i := sort.Search(len(h), func(i int) bool { return h[i].ID >= around })
		lo := max(0, i-limit/2)
		hi := min(len(h), lo+limit)
		page = h[lo:hi]
	case after != 0:
		i := sort.Search(len(h), func(i int) bool { return h[i].ID > after })
		page = h[i:min(len(h), i+limit)]
	default:
		end := len(h)
		if before != 0 {
			end = sort.Search(len(h), func(i int) bool { return h[i].ID >= before })
		}
		page = h[max(0, end-limit):end]
	}
	out := slices.Clone(page)
	slices.Reverse(out)
	writeJSON(w, http.StatusOK, out)
	return nil
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
	if b.Content == "" && len(b.Embeds) == 0 {
		return errEmptyMessage
	}
	if utf8.RuneCountInString(b.Content) > 2000 {
		return invalid("content must be 2000 or fewer in length")
	}
	if len(b.Embeds) > 10 {
		return invalid("embeds must be 10 or fewer")
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
