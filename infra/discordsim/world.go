package discordsim

import (
	"slices"
	"strconv"
	"sync"
	"time"
)

// world is the simulated Discord state. All access holds mu.
type world struct {
	mu sync.RWMutex

	// maxHistory bounds memory on long runs: between this and twice this
	// many recent messages are kept per channel (0: all of them).
	maxHistory int

	appID    ID
	botUser  *User
	users    map[ID]*User
	guilds   map[ID]*Guild
	order    []ID // guild creation order (stable indexes for scenarios)
	channels map[ID]*Channel
	history  map[ID]*channelHistory // guild channel -> its messages
	// DM channels the bot opened, by channel id and by recipient (see dms.go).
	dmChannels map[ID]*DMChannel
	dmByUser   map[ID]*DMChannel

	globalCommands []map[string]any
	guildCommands  map[ID][]map[string]any
}

func newWorld(maxHistory int) *world {
	return &world{
		maxHistory:    maxHistory,
		users:         map[ID]*User{},
		guilds:        map[ID]*Guild{},
		channels:      map[ID]*Channel{},
		history:       map[ID]*channelHistory{},
		dmChannels:    map[ID]*DMChannel{},
		dmByUser:      map[ID]*DMChannel{},
		guildCommands: map[ID][]map[string]any{},
	}
}

func (w *world) addChannelLocked(g *Guild, c *Channel) {
	c.GuildID = g.ID
	if c.PermissionOverwrites == nil {
		c.PermissionOverwrites = []Overwrite{}
	}
	if c.Type == ChannelPublicThread {
		g.Threads = append(g.Threads, c)
	} else {
		g.Channels = append(g.Channels, c)
	}
	w.channels[c.ID] = c
}

// memberPermissions ORs @everyone and the member's roles; owner and
// administrators get everything, as Discord computes base permissions.
func (g *Guild) memberPermissions(uid ID) uint64 {
	if uid == g.OwnerID {
		return permAll
	}
	m := g.Members[uid]
	if m == nil {
		return 0
	}
	var p uint64
	for _, r := range g.Roles {
		if r.ID == g.ID || slices.Contains(m.Roles, r.ID) {
			p |= r.perms
		}
	}
	if p&PermAdministrator != 0 {
		return permAll
	}
	return p
}

func (g *Guild) role(id ID) *Role {
	for _, r := range g.Roles {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func (g *Guild) channelByName(name string) *Channel {
	for _, c := range g.Channels {
		if c.Name == name {
			return c
		}
	}
	for _, c := range g.Threads {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// textChannels lists channels that accept messages (text and announcement).
func (g *Guild) textChannels() []*Channel {
	var out []*Channel
	for _, c := range g.Channels {
		if c.Type == ChannelText || c.Type == ChannelAnnouncement {
			out = append(out, c)
		}
	}
	return out
}

func (g *Guild) voiceChannels() []*Channel {
	var out []*Channel
	for _, c := range g.Channels {
		if c.Type == ChannelVoice {
			out = append(out, c)
		}
	}
	return out
}

// humanMembers returns members that are not bots, in join order.
func (g *Guild) humanMembers() []*Member {
	out := make([]*Member, 0, len(g.MemberOrder))
	for _, id := range g.MemberOrder {
		if m := g.Members[id]; m != nil && !m.User.Bot {
			out = append(out, m)
		}
	}
	return out
}

func (g *Guild) removeMemberLocked(uid ID) {
	delete(g.Members, uid)
	delete(g.Voice, uid)
	if i := slices.Index(g.MemberOrder, uid); i >= 0 {
		g.MemberOrder = slices.Delete(g.MemberOrder, i, i+1)
	}
}

func permString(p uint64) string { return strconv.FormatUint(p, 10) }

// guildPayload is the GUILD_CREATE / GET guild shape.
type guildPayload struct {
	ID                          ID            `json:"id"`
	Name                        string        `json:"name"`
	Icon                        *string       `json:"icon"`
	Splash                      *string       `json:"splash"`
	DiscoverySplash             *string       `json:"discovery_splash"`
	OwnerID                     ID            `json:"owner_id"`
	AFKChannelID                *ID           `json:"afk_channel_id"`
	AFKTimeout                  int           `json:"afk_timeout"`
	VerificationLevel           int           `json:"verification_level"`
	DefaultMessageNotifications int           `json:"default_message_notifications"`
	ExplicitContentFilter       int           `json:"explicit_content_filter"`
	Roles                       []*Role       `json:"roles"`
	Emojis                      []*Emoji      `json:"emojis"`
	Features                    []string      `json:"features"`
	MFALevel                    int           `json:"mfa_level"`
	SystemChannelID             *ID           `json:"system_channel_id"`
	SystemChannelFlags          int           `json:"system_channel_flags"`
	RulesChannelID              *ID           `json:"rules_channel_id"`
	VanityURLCode               *string       `json:"vanity_url_code"`
	Description                 *string       `json:"description"`
	Banner                      *string       `json:"banner"`
	PremiumTier                 int           `json:"premium_tier"`
	PreferredLocale             string        `json:"preferred_locale"`
	PublicUpdatesChannelID      *ID           `json:"public_updates_channel_id"`
	NSFWLevel                   int           `json:"nsfw_level"`
	Stickers                    []any         `json:"stickers"`
	PremiumProgressBarEnabled   bool          `json:"premium_progress_bar_enabled"`
	ApproximateMemberCount      *int          `json:"approximate_member_count,omitempty"`
	JoinedAt                    *time.Time    `json:"joined_at,omitempty"`
	Large                       *bool         `json:"large,omitempty"`
	Unavailable                 *bool         `json:"unavailable,omitempty"`
	MemberCount                 *int          `json:"member_count,omitempty"`
	VoiceStates                 []*VoiceState `json:"voice_states,omitempty"`
	Members                     []*Member     `json:"members,omitempty"`
	Channels                    []*Channel    `json:"channels,omitempty"`
	Threads                     []*Channel    `json:"threads,omitempty"`
	Presences                   []any         `json:"presences,omitempty"`
	StageInstances              []any         `json:"stage_instances,omitempty"`
	ScheduledEvents             []any         `json:"guild_scheduled_events,omitempty"`
	SoundboardSounds            []any         `json:"soundboard_sounds,omitempty"`
}

// restGuildLocked is the GET /guilds/{id} shape.
func (g *Guild) restGuildLocked() *guildPayload {
	p := &guildPayload{
		ID: g.ID, Name: g.Name, OwnerID: g.OwnerID, AFKTimeout: g.AFKTimeout,
		Roles: g.Roles, Emojis: g.Emojis, Features: []string{"COMMUNITY"},
		PreferredLocale: "en-US", Stickers: []any{},
	}
	if g.AFKChannelID != 0 {
		afk := g.AFKChannelID
		p.AFKChannelID = &afk
	}
	return p
}

// gatewayGuildLocked is the GUILD_CREATE shape for a session. Without the
// GUILD_MEMBERS intent Discord only includes the bot and members in voice.
func (g *Guild) gatewayGuildLocked(intents int, largeThreshold int) *guildPayload {
	p := g.restGuildLocked()
	count := len(g.Members)
	large := count > largeThreshold
	unavailable := false
	joined := g.BotJoinedAt
	p.MemberCount, p.Large, p.Unavailable, p.JoinedAt = &count, &large, &unavailable, &joined
	p.Channels = g.Channels
	p.Threads = g.Threads
	if p.Threads == nil {
		p.Threads = []*Channel{}
	}
	p.VoiceStates = make([]*VoiceState, 0, len(g.Voice))
	for _, id := range g.MemberOrder {
		if vs := g.Voice[id]; vs != nil {
			c := *vs
			c.Member = nil // Discord omits member inside GUILD_CREATE voice states
			p.VoiceStates = append(p.VoiceStates, &c)
		}
	}
	p.Members = make([]*Member, 0, len(g.Members))
	for _, id := range g.MemberOrder {
		m := g.Members[id]
		if intents&IntentGuildMembers != 0 || m.User.Bot || g.Voice[id] != nil {
			p.Members = append(p.Members, m)
		}
	}
	p.Presences, p.StageInstances, p.ScheduledEvents, p.SoundboardSounds = []any{}, []any{}, []any{}, []any{}
	return p
}
