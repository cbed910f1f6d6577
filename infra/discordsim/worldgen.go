package discordsim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

var (
	guildNames = []string{"Pixel Forge", "Night Owls", "Study Hall", "Raid Night", "Lo-Fi Lounge",
		"Code Cafe", "Speedrunners", "Book Nook", "Synth Lab", "Chess Club", "Indie Devs", "Trail Mix"}
	firstNames = []string{"ada", "bo", "cy", "dee", "eli", "fay", "gus", "hal", "ivy", "jo", "kai", "lu",
		"max", "nia", "oli", "pax", "quin", "ray", "sol", "tess", "uma", "vic", "wren", "xan", "yui", "zed"}
	nameSuffixes = []string{"", "_", "x", "99", "dev", "cat", "fox", "owl", "gg", "77"}
	textChannels = []string{"general", "random", "memes", "help", "showcase", "off-topic"}
	voiceNames   = []string{"General", "Gaming", "Study Room"}
	emojiNames   = []string{"pog", "kekw", "catjam", "blobwave", "partyparrot"}
)

// generateWorld builds cfg.Guilds guilds with the bot and cfg.PendingGuilds
// without it. Everything derives from cfg.Seed.
func generateWorld(cfg Config, clock *simClock) *world {
	w := newWorld(max(cfg.MaxHistoryPerChannel, 0))
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	start := cfg.SimStart

	w.appID = clock.SnowflakeAt(start.Add(-900 * 24 * time.Hour))
	botName := "Synapse"
	w.botUser = &User{ID: w.appID, Username: "synapse", Discriminator: "0", GlobalName: &botName, Bot: true}
	w.users[w.appID] = w.botUser

	for i := 0; i < cfg.Guilds+cfg.PendingGuilds; i++ {
		g := generateGuild(w, rng, clock, start, i, cfg.MembersPerGuild)
		if i < cfg.Guilds {
			joinBotLocked(w, g, start.Add(-time.Duration(1+rng.IntN(300))*24*time.Hour))
		}
	}
	return w
}

func generateGuild(w *world, rng *rand.Rand, clock *simClock, start time.Time, idx, members int) *Guild {
	created := start.Add(-time.Duration(400+rng.IntN(1500)) * 24 * time.Hour).Add(time.Duration(rng.IntN(86400000)) * time.Millisecond)
	name := guildNames[idx%len(guildNames)]
	if idx >= len(guildNames) {
		name = fmt.Sprintf("%s %d", name, idx/len(guildNames)+1)
	}
	g := &Guild{
		ID: clock.SnowflakeAt(created), Name: name, CreatedAt: created, AFKTimeout: 300,
		Members: map[ID]*Member{}, Voice: map[ID]*VoiceState{},
	}
	at := func() ID { return clock.SnowflakeAt(created.Add(time.Duration(rng.IntN(3600000)) * time.Millisecond)) }

	// Roles: @everyone shares the guild ID, as on Discord.
	g.Roles = []*Role{
		{ID: g.ID, Name: "@everyone", perms: permEveryone},
		{ID: at(), Name: "Member", Color: 0x95a5a6, perms: permEveryone, Position: 1},
		{ID: at(), Name: "Regular", Color: 0x2ecc71, Hoist: true, perms: permEveryone, Position: 2, Mentionable: true},
		{ID: at(), Name: "Moderator", Color: 0x3498db, Hoist: true, Position: 3, Mentionable: true,
			perms: permEveryone | PermKickMembers | PermBanMembers | PermManageMessages | PermManageRoles | PermManageGuild},
		{ID: at(), Name: "Admin", Color: 0xe74c3c, Hoist: true, Position: 4, perms: PermAdministrator},
	}
	for _, r := range g.Roles {
		r.Permissions = permString(r.perms)
	}
	for _, n := range emojiNames {
		g.Emojis = append(g.Emojis, &Emoji{ID: at(), Name: n, Roles: []ID{}, RequireColons: true, Available: true})
	}

	w.guilds[g.ID] = g
	w.order = append(w.order, g.ID)

	textCat := &Channel{ID: at(), Type: ChannelCategory, Name: "Text Channels"}
	voiceCat := &Channel{ID: at(), Type: ChannelCategory, Name: "Voice Channels", Position: 1}
	w.addChannelLocked(g, textCat)
	w.addChannelLocked(g, voiceCat)
	ann := &Channel{ID: at(), Type: ChannelAnnouncement, Name: "announcements", ParentID: &textCat.ID}
	w.addChannelLocked(g, ann)
	for i, n := range textChannels {
		topic := "Talk about " + n
		w.addChannelLocked(g, &Channel{ID: at(), Type: ChannelText, Name: n, Position: i + 1, ParentID: &textCat.ID, Topic: &topic})
	}
	w.addChannelLocked(g, &Channel{ID: at(), Type: ChannelForum, Name: "ideas", Position: len(textChannels) + 1,
		ParentID: &textCat.ID, AvailableTags: []any{}})
	for i, n := range voiceNames {
		w.addChannelLocked(g, &Channel{ID: at(), Type: ChannelVoice, Name: n, Position: i, ParentID: &voiceCat.ID, Bitrate: 64000})
	}
	afk := &Channel{ID: at(), Type: ChannelVoice, Name: "AFK", Position: len(voiceNames), ParentID: &voiceCat.ID, Bitrate: 8000}
	w.addChannelLocked(g, afk)
	g.AFKChannelID = afk.ID

	// Members join over the guild's life; the first is the owner and admin.
	span := start.Sub(created)
	for i := 0; i < members; i++ {
		joined := created.Add(time.Duration(float64(span) * float64(i) / float64(members+1)))
		u := newSyntheticUser(w, rng, clock, joined.Add(-time.Duration(rng.IntN(700))*24*time.Hour))
		m := &Member{User: u, JoinedAt: joined, Roles: []ID{g.Roles[1].ID}}
		switch {
		case i == 0:
			g.OwnerID = u.ID
			m.Roles = append(m.Roles, g.Roles[4].ID)
		case i%25 == 1:
			m.Roles = append(m.Roles, g.Roles[3].ID)
		case rng.IntN(4) == 0:
			m.Roles = append(m.Roles, g.Roles[2].ID)
		}
		if rng.IntN(5) == 0 {
			nick := u.Username + " 🌙"
			m.Nick = &nick
		}
		g.Members[u.ID] = m
		g.MemberOrder = append(g.MemberOrder, u.ID)
	}
	return g
}

func newSyntheticUser(w *world, rng *rand.Rand, clock *simClock, created time.Time) *User {
	base := firstNames[rng.IntN(len(firstNames))]
	name := fmt.Sprintf("%s%s%d", base, nameSuffixes[rng.IntN(len(nameSuffixes))], rng.IntN(1000))
	global := string(base[0]-32) + base[1:]
	u := &User{ID: clock.SnowflakeAt(created), Username: name, Discriminator: "0", GlobalName: &global}
	if rng.IntN(3) > 0 {
		h := fmt.Sprintf("%032x", rng.Uint64())
		u.Avatar = &h
	}
	w.users[u.ID] = u
	return u
}

// joinBotLocked adds the bot as a member with a managed role, as an invite does.
func joinBotLocked(w *world, g *Guild, at time.Time) {
	g.BotPresent = true
	g.BotJoinedAt = at
	if _, ok := g.Members[w.appID]; ok {
		return
	}
	g.Members[w.appID] = &Member{User: w.botUser, JoinedAt: at, Roles: []ID{}}
	g.MemberOrder = append(g.MemberOrder, w.appID)
}
