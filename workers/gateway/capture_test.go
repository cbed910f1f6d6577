package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/disgoorg/disgo/rest"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/workers/gateway"
	"github.com/synapsehq/synapse/workers/gateway/gatewaytest"
)

type bundle struct {
	sim    *discordsim.Server
	db     *postgres.DB
	worker *gateway.Worker
	pipe   *gateway.Pipeline
}

func setup(t *testing.T, cfg discordsim.Config) bundle {
	t.Helper()
	return setupOpts(t, cfg, false)
}

func setupWithREST(t *testing.T, cfg discordsim.Config) bundle {
	t.Helper()
	return setupOpts(t, cfg, true)
}

func setupOpts(t *testing.T, cfg discordsim.Config, withREST bool) bundle {
	t.Helper()
	db := testenv.DB(t)
	sim := gatewaytest.Sim(t, cfg)
	var gcfg gateway.Config
	if withREST {
		gcfg.REST = rest.New(rest.NewClient(sim.Token(), sim.RESTClientOptions()...))
	}
	w, pipe := gatewaytest.Capture(t, db, sim, gcfg)
	return bundle{sim: sim, db: db, worker: w, pipe: pipe}
}

func simConfig() discordsim.Config {
	cfg := discordsim.DefaultConfig()
	cfg.Guilds, cfg.MembersPerGuild, cfg.Shards = 3, 30, 2
	cfg.IdentifyInterval = 10 * time.Millisecond
	cfg.SimStart = time.Now().UTC().Add(-time.Hour)
	return cfg
}

func lakeCounts(t *testing.T, db *postgres.DB) map[lake.Type]int {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), "SELECT event_type, count(*) FROM event_lake GROUP BY 1")
	require.NoError(t, err)
	defer rows.Close()
	out := map[lake.Type]int{}
	for rows.Next() {
		var typ int16
		var n int
		require.NoError(t, rows.Scan(&typ, &n))
		out[lake.Type(typ)] = n
	}
	require.NoError(t, rows.Err())
	return out
}

// Every qualifying dispatch of a simulated day lands in the lake exactly
// once, on the right tenant, with counters in step.
func TestCaptureMatchesGroundTruth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, simConfig())
	for shard := 0; shard < 2; shard++ {
		require.NoError(t, b.worker.StartShard(ctx, shard, 2, 0, nil))
	}
	_, err := b.sim.Generate(ctx, discordsim.GenerateOptions{Profile: discordsim.ProfileServerDay, Acceleration: 0, MaxEvents: 1500})
	require.NoError(t, err)

	exp := gateway.ExpectFromGroundTruth(b.sim.GroundTruth())
	require.Greater(t, exp.ByType[lake.MessageCreate], 100)
	require.Eventually(t, func() bool {
		got := lakeCounts(t, b.db)
		total := 0
		for _, n := range got {
			total += n
		}
		return total >= exp.Total()
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, exp.ByType, lakeCounts(t, b.db))

	var counted int
	require.NoError(t, b.db.Pool.QueryRow(ctx, "SELECT sum(events) FROM event_counters WHERE event_type NOT IN ($1, $2)", int16(lake.ReactionReceived), int16(lake.VoiceActive)).Scan(&counted))
	require.Equal(t, exp.Total(), counted, "counters agree with lake rows")
	var received, givenToOthers int
	require.NoError(t, b.db.Pool.QueryRow(ctx, "SELECT COALESCE(sum(events), 0) FROM event_counters WHERE event_type = $1", int16(lake.ReactionReceived)).Scan(&received))
	require.NoError(t, b.db.Pool.QueryRow(ctx, "SELECT count(*) FROM event_lake WHERE event_type = $1 AND target_id <> 0 AND target_id <> user_id", int16(lake.ReactionAdd)).Scan(&givenToOthers))
	require.Equal(t, givenToOthers, received, "each reaction on someone else's message counts as received by its author")

	// Reactions reach the rules (the outbox) with the message reacted to,
	// which the lake table does not keep: a message the lake holds.
	rows, err := b.db.Pool.Query(ctx, "SELECT events FROM lake_outbox")
	require.NoError(t, err)
	reactions := 0
	for rows.Next() {
		var raw []byte
		require.NoError(t, rows.Scan(&raw))
		evs, err := lake.DecodeEvents(raw)
		require.NoError(t, err)
		for _, e := range evs {
			if e.Type != lake.ReactionAdd && e.Type != lake.ReactionRemove {
				continue
			}
			reactions++
			var known bool
			require.NoError(t, b.db.Pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM event_lake WHERE event_type = $1 AND source_id = $2)",
				int16(lake.MessageCreate), e.MessageID).Scan(&known))
			require.True(t, known, "reaction %d names message %d", e.SourceID, e.MessageID)
		}
	}
	require.NoError(t, rows.Err())
	require.Positive(t, reactions)
	require.Equal(t, exp.ByType[lake.ReactionAdd]+exp.ByType[lake.ReactionRemove], reactions)

	// Every guild got a tenant of its own (no operator claimed them yet).
	var tenantsN, guildsN int
	require.NoError(t, b.db.Pool.QueryRow(ctx, "SELECT count(*) FROM tenants WHERE status = 'unclaimed'").Scan(&tenantsN))
	require.NoError(t, b.db.Pool.QueryRow(ctx, "SELECT count(*) FROM guilds").Scan(&guildsN))
	require.Equal(t, 3, guildsN)
	require.Equal(t, 3, tenantsN)
	var mismatched int
	require.NoError(t, b.db.Pool.QueryRow(ctx, "SELECT count(*) FROM event_lake l JOIN guilds g ON g.id = l.guild_id WHERE g.tenant_id <> l.tenant_id").Scan(&mismatched))
	require.Zero(t, mismatched, "every row carries its guild's tenant")

	// The members table follows GUILD_CREATE member lists, joins and leaves.
	var left int
	for _, r := range b.sim.GroundTruth() {
		if r.Type == "GUILD_MEMBER_REMOVE" {
			left++
		}
	}
	require.Eventually(t, func() bool {
		var present, gone int
		require.NoError(t, b.db.Pool.QueryRow(ctx, "SELECT count(*) FILTER (WHERE left_at IS NULL), count(*) FILTER (WHERE left_at IS NOT NULL) FROM members").Scan(&present, &gone))
		return present >= 3*30-left && gone >= 1 && gone <= left
	}, 10*time.Second, 20*time.Millisecond, "members synced (%d leaves dispatched)", left)

	// Message text is never stored: only lengths and counts.
	var msgIDs []int64
	rows, err = b.db.Pool.Query(ctx, "SELECT source_id FROM event_lake WHERE event_type = $1", int16(lake.MessageCreate))
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		msgIDs = append(msgIDs, id)
	}
	require.Len(t, msgIDs, len(exp.Messages))
	for _, id := range msgIDs {
		require.True(t, exp.Messages[id], "message %d was dispatched", id)
	}
}

// Messages sent while the session cannot be resumed (op 9 false, so
// Discord will not replay them) are recovered from channel history.
func TestMessagesOfAnUnresumableGapAreBackfilled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := simConfig()
	cfg.Guilds, cfg.Shards = 1, 1
	b := setupWithREST(t, cfg)
	require.NoError(t, b.worker.StartShard(ctx, 0, 1, 0, nil))
	guild := b.sim.Guilds()[0]
	var channel discordsim.ID
	for name, id := range guild.Channels {
		if name == "general" {
			channel = id
		}
	}
	require.NotZero(t, channel, "the synthetic guild has a #general")
	send := func(n int) {
		for i := 0; i < n; i++ {
			_, err := b.sim.SendMessage(ctx, discordsim.MessageOptions{ChannelID: channel, AuthorID: guild.Members[1+i%5], Content: "hello there"})
			require.NoError(t, err)
		}
	}
	send(5)
	require.Eventually(t, func() bool { return lakeCounts(t, b.db)[lake.MessageCreate] == 5 }, 10*time.Second, 20*time.Millisecond)

	require.Equal(t, 1, b.sim.Faults().InvalidSession(0, false))
	send(7) // no session exists until the client identifies again
	send(3) // after, or during, the new session
	exp := gateway.ExpectFromGroundTruth(b.sim.GroundTruth())
	require.Equal(t, 15, exp.ByType[lake.MessageCreate])
	require.Eventually(t, func() bool { return lakeCounts(t, b.db)[lake.MessageCreate] == 15 }, 20*time.Second, 50*time.Millisecond)
	var backfilled int
	require.NoError(t, b.db.Pool.QueryRow(ctx, "SELECT count(*) FROM event_lake WHERE flags & $1 <> 0", int16(lake.FlagBackfilled)).Scan(&backfilled))
	require.Positive(t, backfilled, "some messages came from channel history")
}

// A channel busier than 5,000 messages between the backfill's start and
// the gap is still backfilled up to the gap's end (the backfill used to
// stop after 50 pages, before reaching the gap).
func TestBackfillReachesTheGapInABusyChannel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := simConfig()
	cfg.Guilds, cfg.Shards = 1, 1
	b := setupWithREST(t, cfg)
	require.NoError(t, b.worker.StartShard(ctx, 0, 1, 0, nil))
	guild := b.sim.Guilds()[0]
	channel := guild.Channels["general"]
	require.NotZero(t, channel, "the synthetic guild has a #general")
	send := func(n int) {
		for i := 0; i < n; i++ {
			_, err := b.sim.SendMessage(ctx, discordsim.MessageOptions{ChannelID: channel, AuthorID: guild.Members[1+i%5], Content: "hello there"})
			require.NoError(t, err)
		}
	}
	const busy = 5100 // more than 50 pages, all inside the 30 s margin
	send(busy)
	require.Eventually(t, func() bool { return lakeCounts(t, b.db)[lake.MessageCreate] == busy }, 60*time.Second, 50*time.Millisecond)

	require.Equal(t, 1, b.sim.Faults().InvalidSession(0, false))
	send(7) // no session exists until the client identifies again
	require.Eventually(t, func() bool { return lakeCounts(t, b.db)[lake.MessageCreate] == busy+7 }, 60*time.Second, 50*time.Millisecond)
}

// Voice events carry no id: they are minted from the time and what they
// say. A member leaving and rejoining the same channel within one
// millisecond of the capture clock (common while a resume replays a
// backlog) minted the same id twice, and the lake kept one join.
func TestVoiceEventsAlikeInTheSameMillisecondAreKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := simConfig()
	cfg.Guilds, cfg.Shards = 1, 1
	db := testenv.DB(t)
	sim := gatewaytest.Sim(t, cfg)
	frozen := time.Now().UTC().Truncate(time.Second)
	w, _ := gatewaytest.Capture(t, db, sim, gateway.Config{Now: func() time.Time { return frozen }})
	require.NoError(t, w.StartShard(ctx, 0, 1, 0, nil))
	guild := sim.Guilds()[0]
	user, channel := guild.Members[2], guild.Channels["General"]
	require.NotZero(t, channel)
	require.NoError(t, sim.VoiceJoin(ctx, guild.ID, user, channel))
	require.NoError(t, sim.VoiceLeave(ctx, guild.ID, user))
	require.NoError(t, sim.VoiceJoin(ctx, guild.ID, user, channel))
	require.NoError(t, sim.VoiceLeave(ctx, guild.ID, user))
	require.Eventually(t, func() bool {
		c := lakeCounts(t, db)
		return c[lake.VoiceJoin] == 2 && c[lake.VoiceLeave] == 2
	}, 10*time.Second, 20*time.Millisecond, "two joins and two leaves, though alike and in one millisecond")
}

// oneGuild is a simulated Discord with one guild on one shard, and a
// database to capture it into.
type oneGuild struct {
	db      *postgres.DB
	sim     *discordsim.Server
	guild   discordsim.GuildInfo
	channel discordsim.ID // its #general
}

func newOneGuild(t *testing.T) oneGuild {
	t.Helper()
	cfg := simConfig()
	cfg.Guilds, cfg.Shards = 1, 1
	g := oneGuild{db: testenv.DB(t), sim: gatewaytest.Sim(t, cfg)}
	g.guild = g.sim.Guilds()[0]
	g.channel = g.guild.Channels["general"]
	require.NotZero(t, g.channel, "the synthetic guild has a #general")
	return g
}

// post sends n messages to #general from the first members in turn and
// returns the last.
func (g oneGuild) post(t *testing.T, n int) *discordsim.Message {
	t.Helper()
	var m *discordsim.Message
	for i := 0; i < n; i++ {
		var err error
		m, err = g.sim.SendMessage(context.Background(), discordsim.MessageOptions{ChannelID: g.channel, AuthorID: g.guild.Members[1+i%5], Content: "hello there"})
		require.NoError(t, err)
	}
	return m
}

// Events in a thread reach the rules with the thread's parent channel (a
// thread is in its parent's zone), which the lake does not store either.
func TestThreadEventsCarryTheirParentToTheRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := newOneGuild(t)
	w, _ := gatewaytest.Capture(t, g.db, g.sim, gateway.Config{})
	require.NoError(t, w.StartShard(ctx, 0, 1, 0, nil))
	thread, err := g.sim.CreateThread(ctx, g.channel, g.guild.Members[1], "help me")
	require.NoError(t, err)
	m, err := g.sim.SendMessage(ctx, discordsim.MessageOptions{ChannelID: thread.ID, AuthorID: g.guild.Members[2], Content: "in the thread"})
	require.NoError(t, err)
	require.NoError(t, g.sim.AddReaction(ctx, thread.ID, m.ID, g.guild.Members[3], "👍"))
	outbox := func() (all []lake.Event) {
		rows, err := g.db.Pool.Query(ctx, "SELECT events FROM lake_outbox ORDER BY id")
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var raw []byte
			require.NoError(t, rows.Scan(&raw))
			evs, err := lake.DecodeEvents(raw)
			require.NoError(t, err)
			all = append(all, evs...)
		}
		require.NoError(t, rows.Err())
		return all
	}
	var got map[lake.Type]lake.Event
	require.Eventually(t, func() bool {
		got = map[lake.Type]lake.Event{}
		for _, e := range outbox() {
			got[e.Type] = e
		}
		return len(got) >= 3
	}, 10*time.Second, 20*time.Millisecond)
	msg, react := got[lake.MessageCreate], got[lake.ReactionAdd]
	require.Equal(t, int64(thread.ID), msg.ChannelID)
	require.NotZero(t, msg.Flags&lake.FlagInThread)
	require.Equal(t, int64(g.channel), msg.ParentID)
	require.Equal(t, int64(thread.ID), react.ChannelID)
	require.Equal(t, int64(g.channel), react.ParentID)
	require.Equal(t, int64(m.ID), react.MessageID)
	require.Equal(t, int64(g.channel), got[lake.ThreadCreate].ChannelID, "thread_create is on the parent already")
}
