// Package discordsim is an offline Discord: gateway v10 over real
// websockets, the REST API under /api/v10, OAuth2 ("Login with Discord" and
// "Add to server"), deterministic synthetic communities, scripted scenarios,
// ground truth of every dispatch and fault injection. Every Discord-facing
// part of Synapse is built, tested, load-tested and demoed against it; the
// real disgo client (v0.19.x) connects with nothing changed but its URLs.
//
// # Starting
//
//	cfg := discordsim.DefaultConfig()          // or Config{...}; zero fields take defaults
//	cfg.Guilds, cfg.MembersPerGuild = 10, 500
//	srv, err := discordsim.New(cfg, logger)    // generates the world from cfg.Seed
//	err = srv.Start(ctx)                       // listens on cfg.ListenAddr (127.0.0.1:0 in tests)
//	defer srv.Close()
//
// Run(ctx, cfg, logger) does the same, starts cfg.Profile and serves until
// ctx is cancelled: it is what `synapse sim` wraps. Serve(ctx, listener)
// and Handler() exist for callers that own the listener or the mux.
//
// # Endpoints (one listener)
//
//	URL()              http://127.0.0.1:PORT
//	RESTURL()          http://127.0.0.1:PORT/api/v10        (rest.WithURL)
//	GatewayURL()       ws://127.0.0.1:PORT/gateway          (gateway.WithURL; also GET /gateway[/bot])
//	ResumeGatewayURL() ws://127.0.0.1:PORT/gateway-resume   (resume_gateway_url in READY)
//	/oauth2/authorize  consent page (HTML form, ids "authorize", "deny", "login_as", "guild_id")
//	/_sim/...          JSON admin API (see adminRoutes in admin.go)
//
// Token() is a valid bot token whose first segment is base64 of AppID(), as
// disgo requires; ClientSecret() is the OAuth2 client secret.
//
// # Connecting disgo
//
//	client, err := disgo.New(srv.Token(), srv.BotOptions()...)      // bot package
//	rest.New(rest.NewClient(srv.Token(), srv.RESTClientOptions()...))
//	gateway.New(srv.Token(), handler, append(srv.GatewayOptions(), gateway.WithShardID(0), gateway.WithShardCount(2))...)
//
// A sharded bot built with bot.WithDefaultShardManager only needs the REST
// URL: disgo reads url, shards and max_concurrency from GET /gateway/bot.
//
// Compression: the simulator speaks zstd-stream (disgo v0.19's default),
// zlib-stream and none, selected by the `compress` query parameter exactly
// as Discord does; per-payload zlib (identify `compress: true`) is accepted
// and answered uncompressed, which disgo reads. The client options above
// ask for none: disgo v0.19.6's zstd transport can crash on Close (see
// Server.GatewayOptions).
//
// Note for client authors: with short test heartbeat intervals, lift disgo's
// own 120-commands-per-minute limiter
// (gateway.WithDefaultRateLimiterConfigOpts(gateway.WithCommandsPerMinute(n)))
// or it delays heartbeats; the server enforces Config.SendLimit per
// Config.SendWindow (120 / 60 s by default, close 4008).
//
// # Gateway behaviour
//
// HELLO, then IDENTIFY is validated: token (4004), intents (4013 unknown
// bits, 4014 privileged intents not enabled in Config.PrivilegedIntents),
// shard (4010 out of range, 4011 more than MaxGuildsPerShard guilds). Identify
// limits: one identify per bucket (shard_id % MaxConcurrency) per
// IdentifyInterval (5 s) and DailyIdentifyBudget per 24 h; a refused identify
// gets op 9 false and is counted in Stats().Identifies. READY carries
// session_id, resume_gateway_url, shard, application and user, followed by one
// GUILD_CREATE per guild with (guild_id >> 22) % num_shards == shard_id. Any
// shard count is accepted; several sessions of one shard may coexist and each
// gets every dispatch of its guilds with its own sequence and resume buffer.
// Intents filter dispatches; without MESSAGE_CONTENT, message content,
// embeds and attachments are blanked (except the bot's own messages and
// messages mentioning it); without GUILD_MEMBERS, GUILD_CREATE lists only the
// bot and members in voice.
//
// RESUME replays, in order, every buffered dispatch after the client's seq,
// then RESUMED (whose `s` repeats the last sequence number instead of taking
// a new one). Unknown or ended sessions, or a seq outside the buffer, get op 9
// false. Closing with 1000/1001 ends a session; other disconnects keep it
// resumable for SessionTTL while dispatches keep buffering. A client silent
// for two heartbeat intervals is closed with 4009. Malformed payloads get
// 4002 (bad JSON, missing op, over 4096 bytes, wrong `d`), unknown opcodes
// 4001, commands before identify 4003, a second identify/resume 4005.
//
// # Activity
//
// Lower-level actions dispatch to every live session of the guild's shard:
// SendMessage, EditMessage, DeleteMessage, AddReaction, RemoveReaction,
// CreateThread, VoiceJoin / VoiceLeave / VoiceSetSelf / UpdateVoice (moves,
// self mute and deaf, the AFK channel), MemberJoin, MemberLeave,
// RepeatMemberAdd (Discord's repeated GUILD_MEMBER_ADD), SetMemberRole,
// AddBot / RemoveBot (GUILD_CREATE / GUILD_DELETE), CreateChannel and
// SlashCommand (INTERACTION_CREATE; see InteractionResponses);
// SetMemberDMs dispatches nothing. Activity in
// a guild the bot is not in changes the world but is neither dispatched nor
// recorded.
//
// Generate runs a profile: ProfileServerDay (one simulated day, ~44 events per
// member, so ~22,000 for a 500-member server, with a daily rhythm and
// Acceleration simulated seconds per real second, 0 = flat out) or
// ProfileSteady (Rate events per second). Scenarios (ParseScenario /
// LoadScenario, YAML or JSON, then RunScenario) script exact steps:
//
//	name: demo
//	guild: 0                 # default guild: index in creation order, or an id
//	speed: 0                 # simulated s per real s; 0 = back to back
//	steps:
//	  - {at: 0s, do: message, channel: general, member: 3, content: "hi", ref: m1}
//	  - {at: 2s, do: react, message: m1, member: 4, emoji: "👍"}
//	  - {at: 3s, do: voice_join, member: 4, channel: General, mute: true}
//	  - {at: 5s, do: fault, fault: {kind: drop_connection, shard: 0}}
//	  - {at: 6s, do: await_ready, shard: 0}
//
// Step kinds are the Do* constants; members are indexes in join order (0 is
// the owner), "bot", ids, or refs; channels are names, ids or refs.
//
// # Direct messages
//
// POST /users/@me/channels {"recipient_id"} opens the bot's DM channel
// with a user (type 1, `recipients` holding the user): created once, the
// same channel after; an id the world does not know, or the bot's own, is
// 400 Invalid Recipient(s) (50033). POST /channels/{dm}/messages sends
// into it with the limits of any message, and is refused with 403 Cannot
// send messages to this user (50007) unless the user is a human sharing a
// guild with the bot whose member there takes DMs: SetMemberDMs (scenario
// steps dms_close / dms_open) is a member's per-guild privacy setting, as
// on Discord. GET /channels/{dm} and its messages read back. Sent DMs are
// kept (DirectMessages, GET /_sim/dms?user_id=) but not dispatched and not
// ground-truth records: DIRECT_MESSAGES is not simulated.
//
// # Ground truth
//
// Every dispatched guild event is a Record: Index (server-wide order), sim
// Time, GuildID, Shard (for Config.Shards), Type, natural Key, Repeat (a
// deliberate duplicate such as a repeated GUILD_MEMBER_ADD) and Deliveries,
// the (session_id, seq) each live session was assigned. A client that saw
// (session, seq) got the event, so lost and duplicated events can be counted
// exactly. Natural keys:
//
//	MESSAGE_CREATE, MESSAGE_DELETE     message id
//	MESSAGE_UPDATE                     message id ":" edited_timestamp unix ms
//	MESSAGE_REACTION_ADD / _REMOVE     message id ":" user id ":" emoji (unicode, or custom emoji id)
//	THREAD_CREATE, CHANNEL_CREATE      channel id
//	CHANNEL_UPDATE, CHANNEL_DELETE     channel id
//	GUILD_ROLE_CREATE/_UPDATE/_DELETE  role id
//	VOICE_STATE_UPDATE                 user id ":" channel id|none ":" self_mute ":" self_deaf (not unique)
//	GUILD_MEMBER_ADD/_REMOVE/_UPDATE   guild id ":" user id
//	GUILD_CREATE, GUILD_DELETE         guild id (bot added / removed)
//	INTERACTION_CREATE                 interaction id
//	HISTORY_READ                       channel id
//
// HISTORY_READ (RecordHistoryRead) is no dispatch: it is a GET
// /channels/{id}/messages of a guild channel, without deliveries, with the
// ids the page covered (After, Before). MESSAGE_CREATE, MESSAGE_DELETE and
// HISTORY_READ carry ChannelID. Message creates and deletes are recorded in
// one step with their change to history, as reads are, so ground truth says
// which messages each read returned: what a gap's backfill could recover.
//
// READY, the GUILD_CREATEs that follow it and RESUMED are per-session and are
// not records. GroundTruth(), GroundTruthSince(after, limit),
// GroundTruthLastIndex(), GET /_sim/groundtruth?after=N and
// Config.GroundTruthFile (NDJSON, complete) expose them; memory keeps the
// latest Config.GroundTruthLimit records.
//
// SessionLog() records each session's life: identified, resumed (from the
// seq the client named), resume_refused (the seq named, and the cause of the
// session's end) and invalidated (fault, client_close, heartbeat_timeout or
// expired). WithoutUnreplayed uses it to take away the deliveries no client
// can get any more: after the seq of a refused resume, on a session the
// server itself ended (a crashed client's session invalidated before its
// successor resumed it).
//
// # Faults
//
// Faults() (or ApplyFault with a FaultRequest, a scenario `fault` step, POST
// /_sim/faults) injects: DropConnection (no close frame), Zombie (stop ACKing
// heartbeats), Reconnect (op 7), InvalidSession(resumable), Close(code)
// (4007 and 4009 also end the session), RefuseResume(n) (the next n dials of
// resume_gateway_url get HTTP 503; 0 clears; the session stays resumable on
// GatewayURL), and REST faults (AddREST: rest_slow,
// rest_429 with Retry-After, rest_5xx), matched by method and path prefix
// for Count requests. REST responses always carry Discord's rate-limit
// headers (X-RateLimit-Bucket/Limit/Remaining/Reset/Reset-After) from a
// per-route bucket of RESTBucketLimit per RESTBucketWindow.
//
// Expected disgo v0.19 recoveries (all tested): drop, zombie, op 7, op 9
// true, close 4000/4008 → RESUME with exact replay; op 9 false, 4007, 4009 →
// new IDENTIFY; 4004/4010-4014 → no reconnect, close handler called; refused
// resume URL → disgo retries the same URL with backoff until it is accepted
// (it never falls back to identify on its own).
package discordsim
