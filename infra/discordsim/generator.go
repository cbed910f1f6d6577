package discordsim

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
)

// The generator is the activity state machine behind Generate: it tracks
// what it created (recent messages, reactions, who is in voice) so that its
// next actions refer to things that exist, and draws every choice from one
// seeded PCG so runs are reproducible.

type recentMsg struct {
	channel, id, author ID
}

type reactionRef struct {
	channel, message, user ID
	emoji                  string
}

type guildState struct {
	id      ID
	members []ID
	text    []ID
	voice   []ID
	afk     ID
	emojis  []*Emoji
	roles   []ID
	inVoice map[ID]ID // user -> channel
	// voiced[i] is whether members[i] is in inVoice: pickInVoice scans it
	// instead of looking every member up in the map.
	voiced   []bool
	recent   []recentMsg
	reacted  []reactionRef
	commands []string
}

type generator struct {
	s      *Server
	rng    *rand.Rand
	guilds []*guildState
}

func (s *Server) newGenerator(o GenerateOptions) (*generator, error) {
	s.rngMu.Lock()
	seed := s.rng.Uint64()
	s.rngMu.Unlock()
	g := &generator{s: s, rng: rand.New(rand.NewPCG(s.cfg.Seed, seed))}
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	want := map[ID]bool{}
	for _, id := range o.Guilds {
		want[id] = true
	}
	for _, gid := range s.world.order {
		wg := s.world.guilds[gid]
		if (len(want) > 0 && !want[gid]) || (len(want) == 0 && !wg.BotPresent) {
			continue
		}
		gs := &guildState{id: gid, afk: wg.AFKChannelID, emojis: wg.Emojis, inVoice: map[ID]ID{}}
		for _, m := range wg.humanMembers() {
			gs.members = append(gs.members, m.User.ID)
		}
		for _, c := range wg.textChannels() {
			gs.text = append(gs.text, c.ID)
		}
		for _, c := range wg.voiceChannels() {
			if c.ID != wg.AFKChannelID {
				gs.voice = append(gs.voice, c.ID)
			}
		}
		for _, r := range wg.Roles[1:] {
			gs.roles = append(gs.roles, r.ID)
		}
		for uid, vs := range wg.Voice {
			if vs.ChannelID != nil {
				gs.inVoice[uid] = *vs.ChannelID
			}
		}
		gs.voiced = make([]bool, len(gs.members))
		for i, u := range gs.members {
			_, gs.voiced[i] = gs.inVoice[u]
		}
		for _, list := range [][]map[string]any{s.world.guildCommands[gid], s.world.globalCommands} {
			for _, c := range list {
				if n, ok := c["name"].(string); ok {
					gs.commands = append(gs.commands, n)
				}
			}
		}
		g.guilds = append(g.guilds, gs)
	}
	if len(g.guilds) == 0 {
		return nil, invalid("no guilds to generate activity for")
	}
	return g, nil
}

// step performs one random action and reports whether an event was
// dispatched; it first waits for clients that fell too far behind.
func (g *generator) step(ctx context.Context) bool {
	if g.s.awaitClients(ctx) != nil {
		return false
	}
	gs := g.guilds[g.rng.IntN(len(g.guilds))]
	if len(gs.members) == 0 || len(gs.text) == 0 {
		return false
	}
	r := g.rng.Float64()
	var err error
	switch {
	case r < 0.55:
		err = g.message(ctx, gs)
	case r < 0.71:
		err = g.react(ctx, gs)
	case r < 0.73:
		err = g.unreact(ctx, gs)
	case r < 0.77:
		err = g.edit(ctx, gs)
	case r < 0.785:
		err = g.delete(ctx, gs)
	case r < 0.792:
		err = g.thread(ctx, gs)
	case r < 0.972:
		err = g.voice(ctx, gs)
	case r < 0.982:
		err = g.join(ctx, gs)
	case r < 0.99:
		err = g.leave(ctx, gs)
	case r < 0.992:
		err = g.repeatAdd(ctx, gs)
	default:
		err = g.command(ctx, gs)
	}
	return err == nil
}

var errSkip = errors.New("nothing to do")

func (g *generator) member(gs *guildState) ID { return gs.members[g.rng.IntN(len(gs.members))] }

func (g *generator) message(ctx context.Context, gs *guildState) error {
	// general gets a third of the traffic, the rest spreads evenly.
	ch := gs.text[g.rng.IntN(len(gs.text))]
	if g.rng.IntN(3) == 0 && len(gs.text) > 1 {
		ch = gs.text[1]
	}
	q := 1
	switch r := g.rng.Float64(); {
	case r < 0.35:
		q = 0
	case r > 0.88:
		q = 2
	}
	c := contentCtx{}
	if g.rng.IntN(12) == 0 {
		c.mentionUser = g.member(gs)
	}
	if g.rng.IntN(60) == 0 && len(gs.roles) > 0 {
		c.mentionRole = gs.roles[g.rng.IntN(len(gs.roles))]
	}
	if q == 2 && len(gs.emojis) > 0 {
		c.customEmoji = gs.emojis[g.rng.IntN(len(gs.emojis))]
	}
	o := MessageOptions{ChannelID: ch, AuthorID: g.member(gs), Content: synthContent(g.rng, q, c)}
	if g.rng.IntN(20) == 0 {
		o.Attachments = []string{attachmentNames[g.rng.IntN(len(attachmentNames))]}
	}
	if g.rng.IntN(8) == 0 {
		for i := len(gs.recent) - 1; i >= 0 && i >= len(gs.recent)-20; i-- {
			if gs.recent[i].channel == ch {
				o.ReplyTo = gs.recent[i].id
				break
			}
		}
	}
	id, err := g.s.sendMessage(o, nil)
	if err != nil {
		return err
	}
	gs.recent = append(gs.recent, recentMsg{channel: ch, id: id, author: o.AuthorID})
	if len(gs.recent) > 400 {
		gs.recent = append(gs.recent[:0], gs.recent[200:]...)
	}
	return nil
}

func (g *generator) recentMsg(gs *guildState) (recentMsg, bool) {
	if len(gs.recent) == 0 {
		return recentMsg{}, false
	}
	// Recent messages attract most reactions and edits.
	n := min(len(gs.recent), 30)
	return gs.recent[len(gs.recent)-1-g.rng.IntN(n)], true
}

func (g *generator) react(ctx context.Context, gs *guildState) error {
	m, ok := g.recentMsg(gs)
	if !ok {
		return errSkip
	}
	emoji := unicodeEmoji[g.rng.IntN(len(unicodeEmoji))]
	if g.rng.IntN(4) == 0 && len(gs.emojis) > 0 {
		e := gs.emojis[g.rng.IntN(len(gs.emojis))]
		emoji = e.Name + ":" + e.ID.String()
	}
	u := g.member(gs)
	if err := g.s.AddReaction(ctx, m.channel, m.id, u, emoji); err != nil {
		return err
	}
	gs.reacted = append(gs.reacted, reactionRef{channel: m.channel, message: m.id, user: u, emoji: emoji})
	if len(gs.reacted) > 400 {
		gs.reacted = append(gs.reacted[:0], gs.reacted[200:]...)
	}
	return nil
}

func (g *generator) unreact(ctx context.Context, gs *guildState) error {
	if len(gs.reacted) == 0 {
		return errSkip
	}
	i := g.rng.IntN(len(gs.reacted))
	r := gs.reacted[i]
	gs.reacted = append(gs.reacted[:i], gs.reacted[i+1:]...)
	return g.s.RemoveReaction(ctx, r.channel, r.message, r.user, r.emoji)
}

func (g *generator) edit(ctx context.Context, gs *guildState) error {
	m, ok := g.recentMsg(gs)
	if !ok {
		return errSkip
	}
	_, err := g.s.EditMessage(ctx, m.channel, m.id, synthContent(g.rng, 1, contentCtx{suffix: " (edited)"}))
	return err
}

func (g *generator) delete(ctx context.Context, gs *guildState) error {
	if len(gs.recent) == 0 {
		return errSkip
	}
	i := len(gs.recent) - 1 - g.rng.IntN(min(len(gs.recent), 10))
	m := gs.recent[i]
	gs.recent = append(gs.recent[:i], gs.recent[i+1:]...)
	return g.s.DeleteMessage(ctx, m.channel, m.id)
}

func (g *generator) thread(ctx context.Context, gs *guildState) error {
	name := chatTopics[g.rng.IntN(len(chatTopics))]
	_, err := g.s.CreateThread(ctx, gs.text[g.rng.IntN(len(gs.text))], g.member(gs), name)
	return err
}

// voice moves one member through a voice session: join, move, self mute /
// deaf (idlers), park in AFK, leave.
func (g *generator) voice(ctx context.Context, gs *guildState) error {
	if len(gs.voice) == 0 {
		return errSkip
	}
	// Keep roughly 8% of members in voice: join when below, otherwise act on someone inside.
	target := int(math.Max(2, float64(len(gs.members))*0.08))
	if len(gs.inVoice) < target && g.rng.IntN(3) > 0 || len(gs.inVoice) == 0 {
		i := g.rng.IntN(len(gs.members)) // as g.member, keeping the index
		u := gs.members[i]
		if _, in := gs.inVoice[u]; in {
			return errSkip
		}
		ch := gs.voice[g.rng.IntN(len(gs.voice))]
		if err := g.s.VoiceJoin(ctx, gs.id, u, ch); err != nil {
			return err
		}
		gs.inVoice[u] = ch
		gs.voiced[i] = true
		return nil
	}
	u, i := g.pickInVoice(gs)
	cur := gs.inVoice[u]
	switch r := g.rng.Float64(); {
	case r < 0.40:
		delete(gs.inVoice, u)
		gs.voiced[i] = false
		return g.s.VoiceLeave(ctx, gs.id, u)
	case r < 0.55:
		ch := gs.voice[g.rng.IntN(len(gs.voice))]
		if ch == cur {
			return errSkip
		}
		gs.inVoice[u], gs.voiced[i] = ch, true
		return g.s.VoiceJoin(ctx, gs.id, u, ch)
	case r < 0.70:
		return g.s.VoiceSetSelf(ctx, gs.id, u, true, false) // idling muted
	case r < 0.80:
		return g.s.VoiceSetSelf(ctx, gs.id, u, true, true) // idling deafened
	case r < 0.90:
		return g.s.VoiceSetSelf(ctx, gs.id, u, false, false)
	default:
		if gs.afk == 0 || cur == gs.afk {
			return errSkip
		}
		gs.inVoice[u], gs.voiced[i] = gs.afk, true
		return g.s.UpdateVoice(ctx, VoiceUpdate{GuildID: gs.id, UserID: u, ChannelID: gs.afk, SelfMute: true, SelfDeaf: true})
	}
}

// pickInVoice returns a member in voice and their index in members.
func (g *generator) pickInVoice(gs *guildState) (ID, int) {
	// Deterministic choice: iterate members in order, pick the k-th in voice.
	k := g.rng.IntN(len(gs.inVoice))
	for i, in := range gs.voiced {
		if in {
			if k == 0 {
				return gs.members[i], i
			}
			k--
		}
	}
	return gs.members[0], 0
}

func (g *generator) join(ctx context.Context, gs *guildState) error {
	u, err := g.s.MemberJoin(ctx, gs.id)
	if err != nil {
		return err
	}
	gs.members = append(gs.members, u)
	gs.voiced = append(gs.voiced, false)
	return nil
}

func (g *generator) leave(ctx context.Context, gs *guildState) error {
	if len(gs.members) < 3 {
		return errSkip
	}
	i := 1 + g.rng.IntN(len(gs.members)-1) // never the owner
	u := gs.members[i]
	gs.members = append(gs.members[:i], gs.members[i+1:]...)
	gs.voiced = append(gs.voiced[:i], gs.voiced[i+1:]...)
	delete(gs.inVoice, u)
	return g.s.MemberLeave(ctx, gs.id, u)
}

func (g *generator) repeatAdd(ctx context.Context, gs *guildState) error {
	return g.s.RepeatMemberAdd(ctx, gs.id, g.member(gs))
}

func (g *generator) command(ctx context.Context, gs *guildState) error {
	if len(gs.commands) == 0 {
		return errSkip
	}
	_, err := g.s.SlashCommand(ctx, SlashCommandOptions{GuildID: gs.id, ChannelID: gs.text[g.rng.IntN(len(gs.text))],
		UserID: g.member(gs), Name: gs.commands[g.rng.IntN(len(gs.commands))]})
	return err
}
