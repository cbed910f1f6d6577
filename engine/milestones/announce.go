package milestones

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/tenants"
)

// RarityStyle is how a rarity looks in an announcement.
type RarityStyle struct {
	Color int
	Emoji string
	Label string
}

// Styles by rarity: grey, green, blue, purple, gold.
var Styles = map[string]RarityStyle{
	Common:    {Color: 0x9E9E9E, Emoji: "⚪", Label: "Common"},
	Uncommon:  {Color: 0x2ECC71, Emoji: "🟢", Label: "Uncommon"},
	Rare:      {Color: 0x3498DB, Emoji: "🔵", Label: "Rare"},
	Epic:      {Color: 0x9B59B6, Emoji: "🟣", Label: "Epic"},
	Legendary: {Color: 0xF1C40F, Emoji: "🟡", Label: "Legendary"},
}

// Notice is an award to announce, with what the message needs.
type Notice struct {
	Award       Award
	Template    Template
	MemberFlags int32 // tenants.Member flags: announce and DM opt-outs
	ChannelID   int64 // the guild's announcement channel (0: none)
}

// Throttle limits embeds per announcement channel: at most PerChannel
// messages in any Window. Recent holds the times of messages already sent
// per channel (the caller's state, e.g. from Redis).
type Throttle struct {
	PerChannel int
	Window     time.Duration
	Recent     map[int64][]time.Time
}

// AnnouncementPlan is what to send: messages and DMs as rules effects (so
// the Discord action queue applies them idempotently), and the notices
// that could not be sent yet because their channel is at its limit.
type AnnouncementPlan struct {
	Messages []rules.SendMessage
	DMs      []rules.DM
	Deferred []Notice
}

// PlanAnnouncements turns awards into messages. Only awards whose template
// has an announce reward are announced; members who opted out of
// announcements are not announced in the channel, and DMs go only to
// members who did not opt out of DMs. Per channel, rarer awards go first:
// one embed each while the throttle allows, and when more are due than it
// allows, the last allowed message is a digest listing the rest.
func PlanAnnouncements(notices []Notice, th Throttle, now time.Time) AnnouncementPlan {
	var plan AnnouncementPlan
	byChannel := map[int64][]Notice{}
	var channels []int64
	for _, n := range notices {
		ann, ok := announceReward(n.Template)
		if !ok {
			continue
		}
		if ann.DM && n.MemberFlags&tenants.MemberDMOptOut == 0 {
			plan.DMs = append(plan.DMs, rules.DM{Origin: origin(n.Award, "dm"), UserID: n.Award.UserID, Embed: embedFor(n, true)})
		}
		if n.ChannelID == 0 || n.MemberFlags&tenants.MemberAnnounceOptOut != 0 {
			continue
		}
		if _, seen := byChannel[n.ChannelID]; !seen {
			channels = append(channels, n.ChannelID)
		}
		byChannel[n.ChannelID] = append(byChannel[n.ChannelID], n)
	}
	for _, ch := range channels {
		ns := byChannel[ch]
		slices.SortStableFunc(ns, func(a, b Notice) int {
			if d := rarityRank(b.Template.Rarity) - rarityRank(a.Template.Rarity); d != 0 {
				return d
			}
			return int(a.Award.ID - b.Award.ID)
		})
		room := len(ns)
		if th.PerChannel > 0 {
			used := 0
			for _, t := range th.Recent[ch] {
				if now.Sub(t) < th.Window {
					used++
				}
			}
			room = th.PerChannel - used
		}
		switch {
		case room <= 0:
			plan.Deferred = append(plan.Deferred, ns...)
		case len(ns) <= room:
			for _, n := range ns {
				plan.Messages = append(plan.Messages, rules.SendMessage{Origin: origin(n.Award, "announce"), ChannelID: ch, Embed: embedFor(n, false)})
			}
		default:
			single := ns[:room-1]
			for _, n := range single {
				plan.Messages = append(plan.Messages, rules.SendMessage{Origin: origin(n.Award, "announce"), ChannelID: ch, Embed: embedFor(n, false)})
			}
			plan.Messages = append(plan.Messages, digest(ch, ns[room-1:]))
		}
	}
	return plan
}

func announceReward(t Template) (Reward, bool) {
	for _, r := range t.Rewards {
		if r.Type == RewardAnnounce {
			return r, true
		}
	}
	return Reward{}, false
}

func origin(a Award, what string) rules.Origin {
	return rules.Origin{GuildID: a.GuildID, FixedKey: fmt.Sprintf("ms.a%d.%s", a.ID, what)}
}

func embedFor(n Notice, dm bool) *rules.Embed {
	st := Styles[n.Template.Rarity]
	title := strings.TrimSpace(n.Template.Emoji + " Achievement unlocked: " + n.Template.Name)
	var b strings.Builder
	if dm {
		fmt.Fprintf(&b, "You earned **%s**", n.Template.Name)
	} else {
		fmt.Fprintf(&b, "<@%d> earned **%s**", n.Award.UserID, n.Template.Name)
	}
	if n.Award.AwardNo > 1 {
		fmt.Fprintf(&b, " (×%d)", n.Award.AwardNo)
	}
	if n.Template.Description != "" {
		b.WriteString(" — " + n.Template.Description)
	}
	fmt.Fprintf(&b, "\n%s %s", st.Emoji, st.Label)
	return &rules.Embed{Title: title, Description: b.String(), Color: st.Color}
}

// digest folds several awards into one message, styled by the rarest.
func digest(ch int64, ns []Notice) rules.SendMessage {
	var b strings.Builder
	for _, n := range ns {
		st := Styles[n.Template.Rarity]
		fmt.Fprintf(&b, "%s <@%d> — %s %s\n", st.Emoji, n.Award.UserID, n.Template.Emoji, n.Template.Name)
	}
	first, last := ns[0].Award.ID, ns[0].Award.ID
	for _, n := range ns {
		first, last = min(first, n.Award.ID), max(last, n.Award.ID)
	}
	o := rules.Origin{GuildID: ns[0].Award.GuildID, FixedKey: fmt.Sprintf("ms.digest.%d.%d-%d.n%d", ch, first, last, len(ns))}
	return rules.SendMessage{Origin: o, ChannelID: ch, Embed: &rules.Embed{
		Title:       fmt.Sprintf("🏅 %d more achievements unlocked", len(ns)),
		Description: strings.TrimSuffix(b.String(), "\n"),
		Color:       Styles[ns[0].Template.Rarity].Color,
	}}
}
