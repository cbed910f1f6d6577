package discordsim

import (
	"fmt"
	"time"
)

// Profile names accepted by Config.Profile and Server.Generate.
const (
	// ProfileNone generates no background activity.
	ProfileNone = "none"
	// ProfileSteady emits a uniform mix of events at Config.Rate events/s.
	ProfileSteady = "steady"
	// ProfileServerDay simulates one day of a 500-member server
	// (~22,000 events) compressed by Config.TimeAcceleration.
	ProfileServerDay = "server-500-day"
)

// ProfileNames lists the valid Config.Profile values (for flag help).
func ProfileNames() []string { return []string{ProfileNone, ProfileSteady, ProfileServerDay} }

// Intent bits the simulator understands (Discord gateway v10).
const (
	IntentGuilds                = 1 << 0
	IntentGuildMembers          = 1 << 1
	IntentGuildVoiceStates      = 1 << 7
	IntentGuildPresences        = 1 << 8
	IntentGuildMessages         = 1 << 9
	IntentGuildMessageReactions = 1 << 10
	IntentMessageContent        = 1 << 15

	// PrivilegedIntents must be enabled for the application (Config.PrivilegedIntents).
	PrivilegedIntents = IntentGuildMembers | IntentGuildPresences | IntentMessageContent
	// knownIntents is every bit Discord defines up to 1<<25; anything else is 4013.
	knownIntents = (1 << 26) - 1
)

// Config describes one simulated Discord deployment. Zero values are
// replaced by DefaultConfig's values in New, except where noted.
type Config struct {
	// ListenAddr is the TCP address to serve on; "127.0.0.1:0" picks a free port.
	ListenAddr string
	// Seed makes the synthetic communities and activity deterministic.
	Seed uint64
	// Guilds is how many guilds the bot is in; MembersPerGuild how many humans each has.
	Guilds          int
	MembersPerGuild int
	// PendingGuilds exist (with owners and members) but do not have the bot
	// yet: they are the targets of the OAuth2 bot-invite flow.
	PendingGuilds int
	// Shards is the recommended shard count served by GET /gateway/bot.
	Shards int
	// MaxConcurrency is session_start_limit.max_concurrency (identify buckets).
	MaxConcurrency int
	// DailyIdentifyBudget is session_start_limit.total (1000 on Discord).
	DailyIdentifyBudget int
	// IdentifyInterval is the per-bucket identify window (5 s on Discord).
	IdentifyInterval time.Duration
	// PrivilegedIntents lists the privileged intents enabled for the
	// application; identifying with any other privileged intent closes 4014.
	PrivilegedIntents int
	// MaxGuildsPerShard triggers 4011 when a shard would hold more (2500 on Discord).
	MaxGuildsPerShard int
	// HeartbeatInterval is sent in HELLO (41.25 s on Discord).
	HeartbeatInterval time.Duration
	// HeartbeatACKDelay is how long after a heartbeat its ACK goes out:
	// the round trip of a real network, tens of milliseconds to Discord.
	// Answered at once, over loopback, an ACK can reach disgo v0.19.6
	// before its heartbeat goroutine stamps the beat as sent (it does so
	// after the write returns): the beat then reads as unanswered, and the
	// next tick closes a healthy connection as a zombie and resumes it a
	// second later. No bot talking to Discord over a network sees that.
	// Negative: no delay (tests of the race itself).
	HeartbeatACKDelay time.Duration
	// SendLimit payloads per SendWindow per connection, else close 4008 (120 / 60 s).
	SendLimit  int
	SendWindow time.Duration
	// ResumeBufferSize is how many dispatches a session keeps for RESUME.
	ResumeBufferSize int
	// MaxHistoryPerChannel bounds memory on long runs: between this and
	// twice this many recent messages are kept per channel, and older ones
	// are gone from history as they never are on Discord. Negative: all of
	// them (load tests, whose gap backfills must find every message).
	MaxHistoryPerChannel int
	// SessionTTL is how long a disconnected session stays resumable.
	SessionTTL time.Duration
	// GenerateMaxBacklog bounds how far Generate runs ahead of a client:
	// it waits while a connection holds this many dispatches not yet
	// written to its socket, or while a resumable session whose
	// connection is gone (and whose shard has no other session connected)
	// has this many to replay. Discord would drop a client that far
	// behind; a load generator waits instead, so "as fast as possible" is
	// as fast as the slowest client takes (and a heartbeat ACK never
	// queues behind minutes of dispatches, nor a resume finds its replay
	// trimmed).
	GenerateMaxBacklog int
	// Profile is the background activity started by Run (see Profile* constants).
	Profile string
	// Rate is events/s for ProfileSteady.
	Rate float64
	// TimeAcceleration is simulated seconds per real second for profiles and
	// scenarios; 0 means as fast as possible.
	TimeAcceleration float64
	// SimStart is the simulated wall clock at start (snowflakes derive from it).
	SimStart time.Time
	// OAuthAutoApprove skips the consent page in /oauth2/authorize.
	OAuthAutoApprove bool
	// ClientSecret is the OAuth2 client secret of the simulated application.
	ClientSecret string
	// RESTBucketLimit requests per RESTBucketWindow per route bucket before 429.
	RESTBucketLimit  int
	RESTBucketWindow time.Duration
	// GroundTruthFile, when set, receives one JSON line per record
	// (dispatches and history reads).
	GroundTruthFile string
	// GroundTruthLimit bounds the records kept in memory (oldest dropped,
	// indexes keep counting); the file, if any, keeps everything.
	GroundTruthLimit int
}

// DefaultConfig returns a small, Discord-faithful deployment.
func DefaultConfig() Config {
	return Config{
		ListenAddr:           "127.0.0.1:0",
		Seed:                 1,
		Guilds:               4,
		MembersPerGuild:      50,
		PendingGuilds:        2,
		Shards:               2,
		MaxConcurrency:       1,
		DailyIdentifyBudget:  1000,
		IdentifyInterval:     5 * time.Second,
		PrivilegedIntents:    IntentGuildMembers | IntentMessageContent,
		MaxGuildsPerShard:    2500,
		HeartbeatInterval:    41250 * time.Millisecond,
		HeartbeatACKDelay:    20 * time.Millisecond,
		SendLimit:            120,
		SendWindow:           60 * time.Second,
		ResumeBufferSize:     10000,
		MaxHistoryPerChannel: 5000,
		GenerateMaxBacklog:   4096,
		SessionTTL:           5 * time.Minute,
		Profile:              ProfileNone,
		Rate:                 10,
		TimeAcceleration:     1,
		SimStart:             time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC),
		ClientSecret:         "sim-client-secret",
		RESTBucketLimit:      50,
		RESTBucketWindow:     time.Second,
		GroundTruthLimit:     2_000_000,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.ListenAddr == "" {
		c.ListenAddr = d.ListenAddr
	}
	if c.Guilds == 0 {
		c.Guilds = d.Guilds
	}
	if c.MembersPerGuild == 0 {
		c.MembersPerGuild = d.MembersPerGuild
	}
	if c.Shards == 0 {
		c.Shards = d.Shards
	}
	if c.MaxConcurrency == 0 {
		c.MaxConcurrency = d.MaxConcurrency
	}
	if c.DailyIdentifyBudget == 0 {
		c.DailyIdentifyBudget = d.DailyIdentifyBudget
	}
	if c.IdentifyInterval == 0 {
		c.IdentifyInterval = d.IdentifyInterval
	}
	if c.MaxGuildsPerShard == 0 {
		c.MaxGuildsPerShard = d.MaxGuildsPerShard
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = d.HeartbeatInterval
	}
	if c.HeartbeatACKDelay == 0 {
		c.HeartbeatACKDelay = min(d.HeartbeatACKDelay, c.HeartbeatInterval/10)
	}
	if c.SendLimit == 0 {
		c.SendLimit = d.SendLimit
	}
	if c.SendWindow == 0 {
		c.SendWindow = d.SendWindow
	}
	if c.GenerateMaxBacklog == 0 {
		c.GenerateMaxBacklog = d.GenerateMaxBacklog
	}
	if c.ResumeBufferSize == 0 {
		c.ResumeBufferSize = d.ResumeBufferSize
	}
	if c.MaxHistoryPerChannel == 0 {
		c.MaxHistoryPerChannel = d.MaxHistoryPerChannel
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = d.SessionTTL
	}
	if c.Profile == "" {
		c.Profile = d.Profile
	}
	if c.Rate == 0 {
		c.Rate = d.Rate
	}
	if c.SimStart.IsZero() {
		c.SimStart = d.SimStart
	}
	if c.ClientSecret == "" {
		c.ClientSecret = d.ClientSecret
	}
	if c.RESTBucketLimit == 0 {
		c.RESTBucketLimit = d.RESTBucketLimit
	}
	if c.RESTBucketWindow == 0 {
		c.RESTBucketWindow = d.RESTBucketWindow
	}
	if c.GroundTruthLimit == 0 {
		c.GroundTruthLimit = d.GroundTruthLimit
	}
	return c
}

// ConfigError reports an invalid Config field.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("discordsim: invalid config %s: %s", e.Field, e.Reason)
}

func (c Config) validate() error {
	switch {
	case c.Guilds < 0:
		return &ConfigError{"Guilds", "must be >= 0"}
	case c.MembersPerGuild < 1:
		return &ConfigError{"MembersPerGuild", "must be >= 1"}
	case c.PendingGuilds < 0:
		return &ConfigError{"PendingGuilds", "must be >= 0"}
	case c.Shards < 1:
		return &ConfigError{"Shards", "must be >= 1"}
	case c.MaxConcurrency < 1:
		return &ConfigError{"MaxConcurrency", "must be >= 1"}
	case c.PrivilegedIntents&^PrivilegedIntents != 0:
		return &ConfigError{"PrivilegedIntents", "only privileged intent bits allowed"}
	case c.TimeAcceleration < 0:
		return &ConfigError{"TimeAcceleration", "must be >= 0"}
	}
	switch c.Profile {
	case ProfileNone, ProfileSteady, ProfileServerDay:
	default:
		return &ConfigError{"Profile", fmt.Sprintf("unknown profile %q", c.Profile)}
	}
	return nil
}
