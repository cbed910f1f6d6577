package discordsim

import (
	"context"
)

// VoiceUpdate changes a member's voice state. ChannelID 0 disconnects;
// a different channel than the current one is a move.
type VoiceUpdate struct {
	GuildID   ID
	UserID    ID
	ChannelID ID
	SelfMute  bool
	SelfDeaf  bool
}

// VoiceJoin connects (or moves) a member to a voice channel, unmuted.
func (s *Server) VoiceJoin(ctx context.Context, guildID, userID, channelID ID) error {
	return s.UpdateVoice(ctx, VoiceUpdate{GuildID: guildID, UserID: userID, ChannelID: channelID})
}

// VoiceLeave disconnects a member from voice.
func (s *Server) VoiceLeave(ctx context.Context, guildID, userID ID) error {
	return s.UpdateVoice(ctx, VoiceUpdate{GuildID: guildID, UserID: userID})
}

// VoiceSetSelf changes self_mute/self_deaf for a member already in voice.
func (s *Server) VoiceSetSelf(ctx context.Context, guildID, userID ID, mute, deaf bool) error {
	s.world.mu.RLock()
	var ch ID
	if g := s.world.guilds[guildID]; g != nil {
		if vs := g.Voice[userID]; vs != nil && vs.ChannelID != nil {
			ch = *vs.ChannelID
		}
	}
	s.world.mu.RUnlock()
	if ch == 0 {
		return invalid("user %s is not in voice in guild %s", userID, guildID)
	}
	return s.UpdateVoice(ctx, VoiceUpdate{GuildID: guildID, UserID: userID, ChannelID: ch, SelfMute: mute, SelfDeaf: deaf})
}

// UpdateVoice applies u and dispatches VOICE_STATE_UPDATE, in one step
// under the dispatch lock: a session identified between the change and its
// dispatch got the change in its GUILD_CREATE's voice states and then the
// update too, which capture rightly saw as no change while the ground
// truth expected a join (the chaos load test lost one now and then, more
// often on a busy machine).
func (s *Server) UpdateVoice(ctx context.Context, u VoiceUpdate) error {
	now := s.clock.Now()
	s.dispatchMu.Lock()
	defer s.dispatchMu.Unlock()
	s.world.mu.Lock()
	g := s.world.guilds[u.GuildID]
	if g == nil {
		s.world.mu.Unlock()
		return notFound("guild", u.GuildID)
	}
	mem := g.Members[u.UserID]
	if mem == nil {
		s.world.mu.Unlock()
		return notFound("member", u.UserID)
	}
	if u.ChannelID != 0 {
		c := s.world.channels[u.ChannelID]
		if c == nil || c.GuildID != g.ID || (c.Type != ChannelVoice && c.Type != ChannelStage) {
			s.world.mu.Unlock()
			return notFound("voice channel", u.ChannelID)
		}
	}
	vs := g.Voice[u.UserID]
	if vs == nil {
		if u.ChannelID == 0 {
			s.world.mu.Unlock()
			return invalid("user %s is not in voice", u.UserID)
		}
		vs = &VoiceState{GuildID: g.ID, UserID: u.UserID, SessionID: hex32(uint64(s.clock.Snowflake()))}
	}
	state := *vs
	state.Member = mem
	state.SelfMute, state.SelfDeaf = u.SelfMute, u.SelfDeaf
	if u.ChannelID == 0 {
		state.ChannelID = nil
		delete(g.Voice, u.UserID)
	} else {
		ch := u.ChannelID
		state.ChannelID = &ch
		stored := state
		stored.Member = nil
		g.Voice[u.UserID] = &stored
	}
	d := s.encodeVoiceState(&state)
	s.world.mu.Unlock()
	key := voiceKey(u)
	s.dispatchLocked(event{guildID: u.GuildID, typ: "VOICE_STATE_UPDATE", key: key, intent: IntentGuildVoiceStates, d: d, at: now})
	return nil
}

// voiceKey is a VOICE_STATE_UPDATE's natural key:
// user:channel|none:self_mute:self_deaf.
func voiceKey(u VoiceUpdate) recKey {
	return recKey{form: keyVoice, a: uint64(u.UserID), b: uint64(u.ChannelID), mute: u.SelfMute, deaf: u.SelfDeaf}
}

// hex32 is fmt.Sprintf("%032x", v).
func hex32(v uint64) string {
	var buf [32]byte
	for i := range buf {
		buf[i] = '0'
	}
	for i := len(buf) - 1; v != 0; i-- {
		buf[i] = hexDigits[v&0xF]
		v >>= 4
	}
	return string(buf[:])
}
