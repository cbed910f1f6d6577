package discordsim

import "time"

// Channel types Discord uses inside guilds. Only these may appear in a
// guild's channel list: an unknown type makes clients drop the event.
const (
	ChannelText         = 0
	ChannelVoice        = 2
	ChannelCategory     = 4
	ChannelAnnouncement = 5
	ChannelPublicThread = 11
	ChannelStage        = 13
	ChannelForum        = 15
)

// Permission bits used by the synthetic roles.
const (
	PermCreateInvite   = 1 << 0
	PermKickMembers    = 1 << 1
	PermBanMembers     = 1 << 2
	PermAdministrator  = 1 << 3
	PermManageChannels = 1 << 4
	PermManageGuild    = 1 << 5
	PermAddReactions   = 1 << 6
	PermViewChannel    = 1 << 10
	PermSendMessages   = 1 << 11
	PermManageMessages = 1 << 13
	PermEmbedLinks     = 1 << 14
	PermAttachFiles    = 1 << 15
	PermReadHistory    = 1 << 16
	PermConnect        = 1 << 20
	PermSpeak          = 1 << 21
	PermManageRoles    = 1 << 28
	PermUseAppCommands = 1 << 31
	permAll            = (1 << 50) - 1
	permEveryone       = PermCreateInvite | PermAddReactions | PermViewChannel | PermSendMessages |
		PermEmbedLinks | PermAttachFiles | PermReadHistory | PermConnect | PermSpeak | PermUseAppCommands
)

// User is a Discord user object.
type User struct {
	ID            ID      `json:"id"`
	Username      string  `json:"username"`
	Discriminator string  `json:"discriminator"`
	GlobalName    *string `json:"global_name"`
	Avatar        *string `json:"avatar"`
	Bot           bool    `json:"bot,omitempty"`
	PublicFlags   int     `json:"public_flags"`

	// shared is the user's last encoding as a message author, shared by
	// the payloads kept for RESUME (see share).
	shared string
}

// Role is a Discord role object; Permissions is a decimal string as on Discord.
type Role struct {
	ID          ID     `json:"id"`
	Name        string `json:"name"`
	Color       int    `json:"color"`
	Hoist       bool   `json:"hoist"`
	Position    int    `json:"position"`
	Permissions string `json:"permissions"`
	Managed     bool   `json:"managed"`
	Mentionable bool   `json:"mentionable"`
	Flags       int    `json:"flags"`

	perms uint64
}

// Overwrite is a channel permission overwrite.
type Overwrite struct {
	ID    ID     `json:"id"`
	Type  int    `json:"type"`
	Allow string `json:"allow"`
	Deny  string `json:"deny"`
}

// ThreadMetadata is present on thread channels.
type ThreadMetadata struct {
	Archived            bool      `json:"archived"`
	AutoArchiveDuration int       `json:"auto_archive_duration"`
	ArchiveTimestamp    time.Time `json:"archive_timestamp"`
	Locked              bool      `json:"locked"`
	CreateTimestamp     time.Time `json:"create_timestamp"`
}

// Channel is a guild channel or thread.
type Channel struct {
	ID                   ID              `json:"id"`
	Type                 int             `json:"type"`
	GuildID              ID              `json:"guild_id"`
	Name                 string          `json:"name"`
	Position             int             `json:"position"`
	ParentID             *ID             `json:"parent_id"`
	Topic                *string         `json:"topic,omitempty"`
	NSFW                 bool            `json:"nsfw"`
	PermissionOverwrites []Overwrite     `json:"permission_overwrites"`
	RateLimitPerUser     int             `json:"rate_limit_per_user"`
	LastMessageID        *ID             `json:"last_message_id,omitempty"`
	Bitrate              int             `json:"bitrate,omitempty"`
	UserLimit            int             `json:"user_limit,omitempty"`
	Flags                int             `json:"flags"`
	OwnerID              *ID             `json:"owner_id,omitempty"`
	MessageCount         *int            `json:"message_count,omitempty"`
	MemberCount          *int            `json:"member_count,omitempty"`
	ThreadMetadata       *ThreadMetadata `json:"thread_metadata,omitempty"`
	AvailableTags        []any           `json:"available_tags,omitempty"`
}

// Emoji is a custom guild emoji.
type Emoji struct {
	ID            ID     `json:"id"`
	Name          string `json:"name"`
	Roles         []ID   `json:"roles"`
	RequireColons bool   `json:"require_colons"`
	Managed       bool   `json:"managed"`
	Animated      bool   `json:"animated"`
	Available     bool   `json:"available"`
}

// Member is a guild member. User is shared with the world's user table.
type Member struct {
	User     *User     `json:"user"`
	Nick     *string   `json:"nick"`
	Avatar   *string   `json:"avatar"`
	Roles    []ID      `json:"roles"`
	JoinedAt time.Time `json:"joined_at"`
	Deaf     bool      `json:"deaf"`
	Mute     bool      `json:"mute"`
	Flags    int       `json:"flags"`
	Pending  bool      `json:"pending"`

	// dmsClosed is the member's privacy setting for this guild: no direct
	// messages from its members, the bot included (see SetMemberDMs).
	dmsClosed bool

	// shared and sharedWire are the member's last encodings, with its
	// user and as a message's partial member, shared by the payloads
	// kept for RESUME (see share).
	shared, sharedWire string
}

// VoiceState is a member's voice connection; ChannelID nil means disconnected.
type VoiceState struct {
	GuildID    ID      `json:"guild_id"`
	ChannelID  *ID     `json:"channel_id"`
	UserID     ID      `json:"user_id"`
	Member     *Member `json:"member,omitempty"`
	SessionID  string  `json:"session_id"`
	Deaf       bool    `json:"deaf"`
	Mute       bool    `json:"mute"`
	SelfDeaf   bool    `json:"self_deaf"`
	SelfMute   bool    `json:"self_mute"`
	SelfStream bool    `json:"self_stream"`
	SelfVideo  bool    `json:"self_video"`
	Suppress   bool    `json:"suppress"`
	// RequestToSpeak is always null outside stage channels.
	RequestToSpeak *time.Time `json:"request_to_speak_timestamp"`
}

// Attachment is a message attachment (URLs point nowhere real).
type Attachment struct {
	ID          ID     `json:"id"`
	Filename    string `json:"filename"`
	Size        int    `json:"size"`
	URL         string `json:"url"`
	ProxyURL    string `json:"proxy_url"`
	ContentType string `json:"content_type,omitempty"`
	Width       *int   `json:"width,omitempty"`
	Height      *int   `json:"height,omitempty"`
}

// MessageReference points at the message a reply answers.
type MessageReference struct {
	Type      int `json:"type"`
	MessageID ID  `json:"message_id"`
	ChannelID ID  `json:"channel_id"`
	GuildID   ID  `json:"guild_id"`
}

// ReactionEmoji is a unicode (ID nil) or custom emoji in a reaction.
type ReactionEmoji struct {
	ID       *ID    `json:"id"`
	Name     string `json:"name"`
	Animated bool   `json:"animated,omitempty"`
}

// Reaction is a message's aggregated reaction count.
type Reaction struct {
	Count int           `json:"count"`
	Me    bool          `json:"me"`
	Emoji ReactionEmoji `json:"emoji"`
}

// Message is a channel message.
type Message struct {
	ID               ID                `json:"id"`
	Type             int               `json:"type"`
	ChannelID        ID                `json:"channel_id"`
	GuildID          *ID               `json:"guild_id,omitempty"`
	Author           *User             `json:"author"`
	Member           *Member           `json:"member,omitempty"`
	Content          string            `json:"content"`
	Timestamp        time.Time         `json:"timestamp"`
	EditedTimestamp  *time.Time        `json:"edited_timestamp"`
	TTS              bool              `json:"tts"`
	MentionEveryone  bool              `json:"mention_everyone"`
	Mentions         []*User           `json:"mentions"`
	MentionRoles     []ID              `json:"mention_roles"`
	Attachments      []Attachment      `json:"attachments"`
	Embeds           []map[string]any  `json:"embeds"`
	Reactions        []Reaction        `json:"reactions,omitempty"`
	Pinned           bool              `json:"pinned"`
	Flags            int               `json:"flags"`
	MessageReference *MessageReference `json:"message_reference,omitempty"`
	Referenced       *Message          `json:"referenced_message,omitempty"`
	ApplicationID    *ID               `json:"application_id,omitempty"`
	WebhookID        *ID               `json:"webhook_id,omitempty"`
	Components       []any             `json:"components"`
}

// Guild is the simulator's state for one guild.
type Guild struct {
	ID           ID
	Name         string
	OwnerID      ID
	AFKChannelID ID
	AFKTimeout   int
	CreatedAt    time.Time
	Roles        []*Role
	Emojis       []*Emoji
	Channels     []*Channel // guild channels, never threads
	Threads      []*Channel
	Members      map[ID]*Member
	MemberOrder  []ID // join order; REST pagination sorts by ID instead
	Voice        map[ID]*VoiceState
	BotPresent   bool
	BotJoinedAt  time.Time
}
