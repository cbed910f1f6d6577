package lake

// eachCount calls fn for every counter an event adds: its own (type, user,
// channel, magnitude), then the derived ones (DerivedTypes). The writer,
// the naive writer and the reconciliation (workers/jobs) must agree on
// this; the reconciliation restates it in SQL.
func eachCount(e Event, fn func(typ Type, user, channel int64, magnitude int32)) {
	fn(e.Type, e.UserID, e.ChannelID, e.Magnitude)
	switch e.Type {
	case ReactionAdd:
		if e.TargetID != 0 && e.TargetID != e.UserID {
			fn(ReactionReceived, e.TargetID, e.ChannelID, 0)
		}
	case VoiceLeave, VoiceMove:
		if e.Flags&FlagAFK == 0 {
			fn(VoiceActive, e.UserID, voiceStretchChannel(e), e.Magnitude)
		}
	}
}

// voiceStretchChannel is the channel the stretch a voice_leave or
// voice_move ends was spent in (a move's Channel is where it goes next).
func voiceStretchChannel(e Event) int64 {
	if e.Type == VoiceMove {
		return e.TargetID
	}
	return e.ChannelID
}
