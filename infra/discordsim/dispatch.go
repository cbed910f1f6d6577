package discordsim

import "time"

// event is one guild dispatch, encoded once and shared by every session.
type event struct {
	guildID ID
	typ     string
	key     string
	intent  int // required intent; 0 means always delivered
	d       []byte
	// blankable marks a message payload that sessions without
	// MESSAGE_CONTENT get with spans blanked; the copy is made at most
	// once, only if such a session exists.
	blankable bool
	spans     contentSpans
	repeat    bool
	at        time.Time
	// botRemoved marks GUILD_DELETE for a guild the bot just left: the only
	// event dispatched for a guild without the bot.
	botRemoved bool
}

// dispatch delivers ev to every live session of the guild's shard and records
// it as ground truth. The dispatch lock makes the recorded order equal to the
// sequence order inside every session.
func (s *Server) dispatch(ev event) Record {
	s.dispatchMu.Lock()
	defer s.dispatchMu.Unlock()
	if !ev.botRemoved {
		// Activity in guilds the bot is not in changes the world but is
		// never dispatched (nor recorded): Discord would not send it either.
		s.world.mu.RLock()
		g := s.world.guilds[ev.guildID]
		present := g != nil && g.BotPresent
		s.world.mu.RUnlock()
		if !present {
			return Record{}
		}
	}
	var deliveries []Delivery
	var dNoContent []byte
	s.hub.forGuild(ev.guildID, func(sess *session) {
		if ev.intent != 0 && sess.intents&ev.intent == 0 {
			return
		}
		d := ev.d
		if ev.blankable && sess.intents&IntentMessageContent == 0 {
			if dNoContent == nil {
				dNoContent = ev.spans.blank(ev.d)
			}
			d = dNoContent
		}
		sess.mu.Lock()
		if sess.dead {
			sess.mu.Unlock()
			return
		}
		seq := sess.pushLocked(ev.typ, d)
		sess.mu.Unlock()
		deliveries = append(deliveries, Delivery{SessionID: sess.id, Seq: seq})
	})
	if deliveries == nil {
		deliveries = []Delivery{}
	}
	rec := Record{
		Time: ev.at, GuildID: ev.guildID, Shard: ShardFor(ev.guildID, s.cfg.Shards),
		Type: ev.typ, Key: ev.key, Repeat: ev.repeat, Deliveries: deliveries,
	}
	s.gt.add(rec)
	s.stats.dispatched(ev.typ, len(deliveries))
	return rec
}
