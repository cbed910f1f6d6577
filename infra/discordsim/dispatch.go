package discordsim

import (
	"strconv"
	"time"
)

// event is one guild dispatch, encoded once and shared by every session.
type event struct {
	guildID ID
	typ     string
	key     recKey
	intent  int // required intent; 0 means always delivered
	d       payload
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

// keyForm is how a natural key is spelled from a recKey's parts.
type keyForm uint8

const (
	keyText      keyForm = iota // s
	keyID                       // a
	keyPair                     // a:b (guild:user, message:edited ms)
	keyReaction                 // a:b:s (message:user:emoji)
	keyVoice                    // a:b:mute:deaf (user:channel, "none" for 0)
	keyInChannel                // a, of channel b (Record.ChannelID): a message, or a history read's channel
)

// recKey is an event's natural key (see doc.go) in parts: almost every
// key is made of IDs, and ground truth spells them out only when read
// instead of formatting a string per event.
type recKey struct {
	a, b       uint64
	s          string
	form       keyForm
	mute, deaf bool
}

func textKey(s string) recKey { return recKey{form: keyText, s: s} }
func idKey(id ID) recKey      { return recKey{form: keyID, a: uint64(id)} }
func pairKey(a, b ID) recKey  { return recKey{form: keyPair, a: uint64(a), b: uint64(b)} }

// messageKey is a message's key, with its channel kept for ground truth.
func messageKey(messageID, channelID ID) recKey {
	return recKey{form: keyInChannel, a: uint64(messageID), b: uint64(channelID)}
}

func (k recKey) appendTo(b []byte) []byte {
	switch k.form {
	case keyID, keyInChannel:
		return strconv.AppendUint(b, k.a, 10)
	case keyPair:
		b = strconv.AppendUint(b, k.a, 10)
		b = append(b, ':')
		return strconv.AppendUint(b, k.b, 10)
	case keyReaction:
		b = strconv.AppendUint(b, k.a, 10)
		b = append(b, ':')
		b = strconv.AppendUint(b, k.b, 10)
		b = append(b, ':')
		return append(b, k.s...)
	case keyVoice:
		b = strconv.AppendUint(b, k.a, 10)
		b = append(b, ':')
		if k.b == 0 {
			b = append(b, "none"...)
		} else {
			b = strconv.AppendUint(b, k.b, 10)
		}
		b = append(b, ':')
		b = strconv.AppendBool(b, k.mute)
		b = append(b, ':')
		return strconv.AppendBool(b, k.deaf)
	}
	return append(b, k.s...)
}

func (k recKey) String() string { return string(k.appendTo(nil)) }

// dispatch delivers ev to every live session of the guild's shard and records
// it as ground truth. The dispatch lock makes the recorded order equal to the
// sequence order inside every session.
func (s *Server) dispatch(ev event) {
	s.dispatchMu.Lock()
	defer s.dispatchMu.Unlock()
	s.dispatchLocked(ev)
}

// dispatchLocked is dispatch for a caller that holds dispatchMu (and not
// the world lock), to make a world change and its record one step.
func (s *Server) dispatchLocked(ev event) {
	if !ev.botRemoved {
		// Activity in guilds the bot is not in changes the world but is
		// never dispatched (nor recorded): Discord would not send it either.
		s.world.mu.RLock()
		g := s.world.guilds[ev.guildID]
		present := g != nil && g.BotPresent
		s.world.mu.RUnlock()
		if !present {
			return
		}
	}
	ds := s.deliveries[:0] // guarded by dispatchMu, reused
	var dNoContent payload
	s.hub.forGuild(ev.guildID, func(sess *session) {
		if ev.intent != 0 && sess.intents&ev.intent == 0 {
			return
		}
		d := ev.d
		if ev.blankable && sess.intents&IntentMessageContent == 0 {
			if dNoContent.b == nil {
				dNoContent = plain(ev.spans.blank(ev.d.bytes()))
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
		ds = append(ds, s.delivery(sess, seq))
	})
	s.deliveries = ds
	s.gt.add(&ev, ds)
	s.stats.dispatched(ev.typ, len(ds))
}

// delivery is seq of sess for ground truth; the caller holds dispatchMu.
func (s *Server) delivery(sess *session, seq int) gtDelivery {
	if !sess.recorded {
		sess.gtIndex, sess.recorded = s.gt.addSession(sess.id), true
	}
	return gtDelivery{seq: int64(seq), sess: sess.gtIndex}
}
