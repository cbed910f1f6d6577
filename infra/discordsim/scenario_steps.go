package discordsim

import (
	"context"
	"time"
)

// resolve looks up the step's guild and, when named, channel and member.
func (s *Server) resolveStep(st Step, refs map[string]ID, needChannel, needMember bool) (g *Guild, ch, member ID, err error) {
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	rv := resolver{s: s, refs: refs}
	if g, err = rv.guild(st.Guild); err != nil {
		return
	}
	if needChannel {
		if ch, err = rv.channel(g, st.Channel); err != nil {
			return
		}
	}
	if needMember {
		member, err = rv.member(g, st.Member)
	}
	return
}

func (s *Server) runStep(ctx context.Context, st Step, refs map[string]ID) error {
	rv := resolver{s: s, refs: refs}
	save := func(id ID) {
		if st.Ref != "" {
			refs[st.Ref] = id
		}
	}
	switch st.Do {
	case DoMessage:
		g, ch, author, err := s.resolveStep(st, refs, true, true)
		if err != nil {
			return err
		}
		_ = g
		o := MessageOptions{ChannelID: ch, AuthorID: author, Content: st.Content, Attachments: st.Attachments, Embeds: st.Embeds}
		if st.ReplyTo != "" {
			if o.ReplyTo, err = rv.id(st.ReplyTo); err != nil {
				return err
			}
		}
		m, err := s.SendMessage(ctx, o)
		if err != nil {
			return err
		}
		save(m.ID)
	case DoEdit, DoDelete, DoReact, DoUnreact:
		mid, err := rv.id(st.Message)
		if err != nil {
			return err
		}
		s.world.mu.RLock()
		ch, m, _ := s.world.messageAnywhereLocked(mid)
		s.world.mu.RUnlock()
		if m == nil {
			return notFound("message", mid)
		}
		switch st.Do {
		case DoEdit:
			_, err = s.EditMessage(ctx, ch, mid, st.Content)
		case DoDelete:
			err = s.DeleteMessage(ctx, ch, mid)
		default:
			var u ID
			if _, _, u, err = s.resolveStep(st, refs, false, true); err != nil {
				return err
			}
			if st.Do == DoReact {
				err = s.AddReaction(ctx, ch, mid, u, st.Emoji)
			} else {
				err = s.RemoveReaction(ctx, ch, mid, u, st.Emoji)
			}
		}
		return err
	case DoThread:
		_, ch, owner, err := s.resolveStep(st, refs, true, true)
		if err != nil {
			return err
		}
		t, err := s.CreateThread(ctx, ch, owner, st.Name)
		if err != nil {
			return err
		}
		save(t.ID)
	case DoVoiceJoin, DoVoiceLeave, DoVoiceSelf, DoAFK:
		g, _, u, err := s.resolveStep(st, refs, false, true)
		if err != nil {
			return err
		}
		switch st.Do {
		case DoVoiceJoin:
			s.world.mu.RLock()
			ch, err := rv.channel(g, st.Channel)
			s.world.mu.RUnlock()
			if err != nil {
				return err
			}
			return s.UpdateVoice(ctx, VoiceUpdate{GuildID: g.ID, UserID: u, ChannelID: ch, SelfMute: st.Mute, SelfDeaf: st.Deaf})
		case DoVoiceLeave:
			return s.VoiceLeave(ctx, g.ID, u)
		case DoVoiceSelf:
			return s.VoiceSetSelf(ctx, g.ID, u, st.Mute, st.Deaf)
		default:
			return s.UpdateVoice(ctx, VoiceUpdate{GuildID: g.ID, UserID: u, ChannelID: g.AFKChannelID, SelfMute: true, SelfDeaf: true})
		}
	case DoMemberJoin, DoMemberLeave, DoMemberRepeat, DoBotAdd, DoBotRemove:
		g, _, _, err := s.resolveStep(st, refs, false, false)
		if err != nil {
			return err
		}
		switch st.Do {
		case DoMemberJoin:
			u, err := s.MemberJoin(ctx, g.ID)
			if err != nil {
				return err
			}
			save(u)
		case DoBotAdd:
			return s.AddBot(ctx, g.ID)
		case DoBotRemove:
			return s.RemoveBot(ctx, g.ID)
		default:
			_, _, u, err := s.resolveStep(st, refs, false, true)
			if err != nil {
				return err
			}
			if st.Do == DoMemberLeave {
				return s.MemberLeave(ctx, g.ID, u)
			}
			return s.RepeatMemberAdd(ctx, g.ID, u)
		}
	case DoRoleAdd, DoRoleRemove:
		g, _, u, err := s.resolveStep(st, refs, false, true)
		if err != nil {
			return err
		}
		s.world.mu.RLock()
		rid, err := rv.role(g, st.Role)
		s.world.mu.RUnlock()
		if err != nil {
			return err
		}
		return s.SetMemberRole(ctx, g.ID, u, rid, st.Do == DoRoleAdd)
	case DoDMsClose, DoDMsOpen:
		g, _, u, err := s.resolveStep(st, refs, false, true)
		if err != nil {
			return err
		}
		return s.SetMemberDMs(ctx, g.ID, u, st.Do == DoDMsOpen)
	case DoChannel:
		g, _, _, err := s.resolveStep(st, refs, false, false)
		if err != nil {
			return err
		}
		c, err := s.CreateChannel(ctx, g.ID, st.Name, st.ChannelType, 0)
		if err != nil {
			return err
		}
		save(c.ID)
	case DoSlash:
		g, ch, u, err := s.resolveStep(st, refs, true, true)
		if err != nil {
			return err
		}
		in, err := s.SlashCommand(ctx, SlashCommandOptions{GuildID: g.ID, ChannelID: ch, UserID: u, Name: st.Name, Options: st.Options})
		if err != nil {
			return err
		}
		save(in.ID)
	case DoFault:
		if st.Fault == nil {
			return invalid("fault step needs fault")
		}
		_, err := s.ApplyFault(ctx, *st.Fault)
		return err
	case DoAwaitReady:
		timeout := time.Duration(st.Timeout)
		if timeout == 0 {
			timeout = 30 * time.Second
		}
		return s.AwaitReady(ctx, st.Shard, timeout)
	default:
		return invalid("unknown step %q", st.Do)
	}
	return nil
}

// AwaitReady waits until some live session on shard has an open, identified
// or resumed connection.
func (s *Server) AwaitReady(ctx context.Context, shard int, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		ready := false
		s.hub.forShard(shard, func(sess *session) {
			sess.mu.Lock()
			if !sess.dead && sess.conn != nil && !sess.conn.isClosing() {
				ready = true
			}
			sess.mu.Unlock()
		})
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return invalid("shard %d not ready after %s", shard, timeout)
		case <-tick.C:
		}
	}
}
