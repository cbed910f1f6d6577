package discordsim

import (
	"encoding/json"
	"slices"
	"strings"
)

// chunkSize is Discord's GUILD_MEMBERS_CHUNK size.
const chunkSize = 1000

type requestMembers struct {
	GuildID json.RawMessage `json:"guild_id"`
	Query   *string         `json:"query"`
	Limit   int             `json:"limit"`
	UserIDs json.RawMessage `json:"user_ids"`
	Nonce   string          `json:"nonce"`
}

// decodeIDs accepts one snowflake or an array of them, as Discord does.
func decodeIDs(raw json.RawMessage) ([]ID, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '[' {
		var ids []ID
		err := json.Unmarshal(raw, &ids)
		return ids, err
	}
	var id ID
	err := json.Unmarshal(raw, &id)
	return []ID{id}, err
}

// handleRequestMembers answers op 8 with GUILD_MEMBERS_CHUNK dispatches on
// the requesting session. Listing members by query needs GUILD_MEMBERS.
func (s *Server) handleRequestMembers(c *gwConn, raw json.RawMessage) {
	var req requestMembers
	guilds, err1 := []ID(nil), json.Unmarshal(raw, &req)
	var err2, err3 error
	var users []ID
	if err1 == nil {
		guilds, err2 = decodeIDs(req.GuildID)
		users, err3 = decodeIDs(req.UserIDs)
	}
	if err1 != nil || err2 != nil || err3 != nil || len(guilds) == 0 || (req.Query == nil && users == nil) {
		c.closeWith(CloseDecodeError, "Error while decoding payload")
		return
	}
	sess := c.sess.Load()
	if sess == nil {
		return
	}
	if users == nil && sess.intents&IntentGuildMembers == 0 {
		c.closeWith(CloseDisallowedIntents, "Disallowed intent(s)")
		return
	}
	for _, gid := range guilds {
		if !sess.ownsGuild(gid) {
			continue // Discord ignores guilds of other shards
		}
		for _, chunk := range s.memberChunks(gid, req, users) {
			sess.mu.Lock()
			if !sess.dead {
				sess.pushLocked("GUILD_MEMBERS_CHUNK", plain(chunk))
			}
			sess.mu.Unlock()
		}
	}
}

func (s *Server) memberChunks(gid ID, req requestMembers, users []ID) [][]byte {
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	g := s.world.guilds[gid]
	if g == nil || !g.BotPresent {
		return nil
	}
	var members []*Member
	notFound := []ID{}
	if users != nil {
		for _, u := range users {
			if m := g.Members[u]; m != nil {
				members = append(members, m)
			} else {
				notFound = append(notFound, u)
			}
		}
	} else {
		q := strings.ToLower(*req.Query)
		for _, id := range g.MemberOrder {
			m := g.Members[id]
			if q == "" || strings.HasPrefix(strings.ToLower(m.User.Username), q) {
				members = append(members, m)
			}
			if req.Limit > 0 && len(members) >= req.Limit {
				break
			}
		}
	}
	count := max(1, (len(members)+chunkSize-1)/chunkSize)
	out := make([][]byte, 0, count)
	for i := 0; i < count; i++ {
		part := members[min(i*chunkSize, len(members)):min((i+1)*chunkSize, len(members))]
		payload := map[string]any{"guild_id": gid, "members": slices.Clip(part), "chunk_index": i, "chunk_count": count}
		if part == nil {
			payload["members"] = []*Member{}
		}
		if i == 0 && len(notFound) > 0 {
			payload["not_found"] = notFound
		}
		if req.Nonce != "" {
			payload["nonce"] = req.Nonce
		}
		out = append(out, mustJSON(payload))
	}
	return out
}
