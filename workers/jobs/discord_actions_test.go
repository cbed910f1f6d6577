package jobs

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"
	"github.com/hibiken/asynq"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/workers/gateway/gatewaytest"
)

// An action without an idempotency key is refused with a clear error
// instead of taking the task id "discord:" (and shadowing every other such
// action); the keyed actions beside it are queued all the same.
func TestEnqueueRefusesActionWithoutKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := testenv.Redis(t)
	q := NewActionQueue(asynq.NewClientFromRedisClient(rdb), rdb)

	err := q.Enqueue(ctx, 1, []rules.DiscordAction{
		rules.SendMessage{Origin: rules.Origin{GuildID: 10}, ChannelID: 5, Content: "no key"},
		rules.SendMessage{Origin: rules.Origin{GuildID: 10, FixedKey: "announce.1"}, ChannelID: 5, Content: "keyed"},
		rules.SendMessage{Origin: rules.Origin{GuildID: 10}, ChannelID: 5, Content: "no key either"},
	})
	require.ErrorIs(t, err, ErrNoIdempotencyKey)
	require.ErrorContains(t, err, "send_message in guild 10")

	queued, err := asynq.NewInspectorFromRedisClient(rdb).ListPendingTasks(QueueDiscord)
	require.NoError(t, err)
	require.Len(t, queued, 1)
	require.Equal(t, "discord:announce.1", queued[0].ID)
}

// A timed role is removed when the latest grant of it says so: a grant
// made since for longer, or for good, outlasts an earlier grant's
// scheduled removal, whatever order the grants were queued in. Removals
// run through a real asynq server, brought forward from their schedule,
// against discordsim: the test reads the member's roles from the guild.
func TestTimedRoleRemovalHonoursLatestGrant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := testenv.Redis(t)
	log := testenv.Logger(t)
	sim, discordAPI, g := dmSim(t)
	q := NewActionQueue(asynq.NewClientFromRedisClient(rdb), rdb)
	mux := asynq.NewServeMux()
	NewActionHandler(discordAPI, rdb, nil, log, ops.NewRegistry()).Register(mux) // no DMs: no member reads
	cfg := ServerConfig(log)
	cfg.Queues = map[string]int{QueueDiscord: 1}
	srv := asynq.NewServerFromRedisClient(rdb, cfg)
	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)
	insp := asynq.NewInspectorFromRedisClient(rdb)

	const tenantID = int64(1)
	guildID, userID := int64(g.ID), int64(g.Members[1])
	holds := func(role int64) bool {
		t.Helper()
		m, err := discordAPI.GetMember(snowflake.ID(guildID), snowflake.ID(userID))
		require.NoError(t, err)
		return slices.Contains(m.RoleIDs, snowflake.ID(role))
	}
	base := time.Now().UTC()
	// A step grants the role for hours (0: for good), or removes it (-1).
	for i, tc := range []struct {
		name  string
		steps []int
		runs  []int  // the grants whose scheduled removal runs, in order
		want  []bool // whether the member holds the role after each
	}{
		{"renewed", []int{24, 36}, []int{0, 1}, []bool{true, false}},
		{"renewal queued first", []int{36, 24}, []int{1, 0}, []bool{true, false}},
		{"made permanent", []int{24, 0}, []int{0}, []bool{true}},
		{"permanent with nothing pending, then timed", []int{0, 24}, []int{1}, []bool{false}},
		{"removed by a rule, then granted for less", []int{36, 0, -1, 24}, []int{3}, []bool{false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := sim.CreateRole(ctx, g.ID, discordsim.RoleOptions{Name: tc.name})
			require.NoError(t, err)
			role := int64(r.ID)
			name := fmt.Sprintf("grant%d", i)
			for j, h := range tc.steps {
				o := rules.Origin{GuildID: guildID, FixedKey: fmt.Sprintf("%s.%d", name, j)}
				var a rules.DiscordAction
				switch {
				case h < 0:
					a = rules.RemoveRole{Origin: o, UserID: userID, RoleID: role}
				case h == 0:
					a = rules.GrantRole{Origin: o, UserID: userID, RoleID: role}
				default:
					at := base.Add(time.Duration(h) * time.Hour)
					a = rules.GrantRole{Origin: o, UserID: userID, RoleID: role, ExpiresAt: &at}
				}
				// Twice, as a retried rules task queues it: no change.
				for range 2 {
					require.NoError(t, q.Enqueue(ctx, tenantID, []rules.DiscordAction{a}))
				}
				require.Eventually(t, func() bool { // in order: a rule's removal, then the grant after it
					info, err := insp.GetQueueInfo(QueueDiscord)
					return err == nil && info.Pending == 0 && info.Active == 0
				}, 10*time.Second, 10*time.Millisecond)
			}
			require.True(t, holds(role), "the last step grants the role")
			for k, grant := range tc.runs {
				id := fmt.Sprintf("discord:%s.%d.expire", name, grant)
				require.NoError(t, insp.RunTask(QueueDiscord, id))
				require.Eventually(t, func() bool {
					info, err := insp.GetTaskInfo(QueueDiscord, id)
					return err == nil && info.State == asynq.TaskStateCompleted
				}, 10*time.Second, 10*time.Millisecond)
				require.Equal(t, tc.want[k], holds(role), "after the removal grant %d scheduled", grant)
			}
		})
	}
}

// dmSim is a discordsim with one guild of 12 human members and a REST
// client on it, as the worker builds one.
func dmSim(t *testing.T) (*discordsim.Server, rest.Rest, discordsim.GuildInfo) {
	t.Helper()
	cfg := discordsim.DefaultConfig()
	cfg.Guilds, cfg.MembersPerGuild, cfg.Shards = 1, 12, 1
	sim := gatewaytest.Sim(t, cfg)
	r := rest.New(rest.NewClient(sim.Token(), append(sim.RESTClientOptions(), rest.WithLogger(testenv.Logger(t)))...))
	return sim, r, sim.Guilds()[0]
}

// dmRecipients lists, sorted, the users the bot sent a DM with content.
func dmRecipients(t *testing.T, sim *discordsim.Server, content string) []int64 {
	t.Helper()
	var out []int64
	for _, dm := range sim.DirectMessages() {
		require.Equal(t, content, dm.Message.Content)
		out = append(out, int64(dm.RecipientID))
	}
	slices.Sort(out)
	return out
}

// actionResults reads synapse_discord_actions_total by "kind/result".
func actionResults(t *testing.T, reg interface {
	Gather() ([]*dto.MetricFamily, error)
}) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "synapse_discord_actions_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[labels["kind"]+"/"+labels["result"]] = m.GetCounter().GetValue()
		}
	}
	return out
}

// A rule's DM is planned when its member takes DMs, but sent later by the
// action queue: a member who opts out of DMs in between, or turns out to
// be a bot, is not sent it. The DM is skipped, counted as such and not as
// the rule's failure: more skips than it takes to auto-disable a rule
// leave the rule enabled, and the member who still takes DMs gets theirs.
func TestDMSkippedWhenTheMemberOptedOutSinceItWasPlanned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupRuleSinks(t)
	rule := b.create(t, `{"name":"thanks","trigger":{"events":["message_create"]},"effects":[{"type":"dm","content":"thanks for posting"}]}`)
	rdb := testenv.Redis(t)
	reg := ops.NewRegistry()
	sim, discordAPI, g := dmSim(t)
	pipe, err := NewRulesPipeline(b.db, rdb, discordAPI, testenv.Logger(t), reg)
	require.NoError(t, err)

	members := tenants.NewStore(b.db.Bun).ForTenant(b.tenantID).Members()
	stays, turnsBot := int64(g.Members[1]), int64(g.Members[2])
	optsOut := make([]int64, rules.DefaultFailureThreshold)
	for i := range optsOut {
		optsOut[i] = int64(g.Members[3+i])
	}
	everyone := append([]int64{stays, turnsBot}, optsOut...)
	at := time.Now().UTC()
	for i, u := range everyone {
		_, err := members.SetFlags(ctx, b.guild.ID, u, 0, 0) // known, taking DMs
		require.NoError(t, err)
		ev := rules.Event{Name: "message_create", TenantID: b.tenantID, GuildID: b.guild.ID, SourceID: at.UnixNano() + int64(i),
			OccurredAt: at, UserID: u, ChannelID: 5, Magnitude: 50}
		require.NoError(t, pipe.Evaluator.rounds(ctx, b.tenantID, []rules.Event{ev}, nil))
	}
	queued, err := asynq.NewInspectorFromRedisClient(rdb).ListPendingTasks(QueueDiscord)
	require.NoError(t, err)
	require.Len(t, queued, len(everyone), "a DM planned for every member: none had opted out")

	// Before the queue gets to them, members opt out and one is found a bot.
	for _, u := range optsOut {
		_, err := members.SetFlags(ctx, b.guild.ID, u, tenants.MemberDMOptOut, 0)
		require.NoError(t, err)
	}
	_, err = members.SetFlags(ctx, b.guild.ID, turnsBot, tenants.MemberBot, 0)
	require.NoError(t, err)

	for _, tk := range queued {
		require.NoError(t, pipe.Actions.handle(ctx, asynq.NewTask(tk.Type, tk.Payload)), "a skipped DM is no task error")
	}
	require.Equal(t, []int64{stays}, dmRecipients(t, sim, "thanks for posting"), "only the member who still takes DMs got one")
	require.Equal(t, map[string]float64{"dm/ok": 1, "dm/skipped": float64(len(optsOut) + 1)}, actionResults(t, reg))
	r := b.rule(t, rule.ID)
	require.True(t, r.Enabled, "skips are not failures: %s", r.DisabledReason)
}

// A member Synapse believes takes DMs may have closed them on Discord
// (their privacy setting for the guild, which no event reports): Discord
// refuses the DM with 50007. That is the member's choice, not the rule's
// fault: the refusal is counted and the task not retried, but it is no
// step towards auto-disable, so more refusals than the threshold leave
// the rule enabled, and the member who takes DMs still gets theirs.
func TestDMRefusedByDiscordIsNotTheRulesFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupRuleSinks(t)
	rule := b.create(t, `{"name":"welcome","trigger":{"events":["message_create"]},"effects":[{"type":"dm","content":"welcome aboard"}]}`)
	rdb := testenv.Redis(t)
	reg := ops.NewRegistry()
	sim, discordAPI, g := dmSim(t)
	pipe, err := NewRulesPipeline(b.db, rdb, discordAPI, testenv.Logger(t), reg)
	require.NoError(t, err)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	members := tenants.NewStore(b.db.Bun).ForTenant(b.tenantID).Members()

	at := time.Now().UTC()
	n := int64(0)
	sendDMs := func(users []int64) []error {
		t.Helper()
		for _, u := range users {
			_, err := members.SetFlags(ctx, b.guild.ID, u, 0, 0) // known to Synapse, taking DMs
			require.NoError(t, err)
			n++
			ev := rules.Event{Name: "message_create", TenantID: b.tenantID, GuildID: b.guild.ID, SourceID: at.UnixNano() + n,
				OccurredAt: at, UserID: u, ChannelID: 5, Magnitude: 50}
			require.NoError(t, pipe.Evaluator.rounds(ctx, b.tenantID, []rules.Event{ev}, nil))
		}
		queued, err := insp.ListPendingTasks(QueueDiscord)
		require.NoError(t, err)
		require.Len(t, queued, len(users), "a DM planned for every member")
		var errs []error
		for _, tk := range queued {
			errs = append(errs, pipe.Actions.handle(ctx, asynq.NewTask(tk.Type, tk.Payload)))
			require.NoError(t, insp.DeleteTask(QueueDiscord, tk.ID))
		}
		return errs
	}

	// More members than it takes to disable a rule closed their DMs on
	// Discord; their DMs are refused one after the other.
	closed := make([]int64, rules.DefaultFailureThreshold+1)
	for i := range closed {
		closed[i] = int64(g.Members[1+i])
		require.NoError(t, sim.SetMemberDMs(ctx, g.ID, discordsim.ID(closed[i]), false))
	}
	for _, err := range sendDMs(closed) {
		require.NoError(t, err, "the member's choice: the task is done, neither retried nor archived as failed")
	}
	r := b.rule(t, rule.ID)
	require.True(t, r.Enabled, "a member's closed DMs are not the rule's failure: %s", r.DisabledReason)
	require.Empty(t, sim.DirectMessages())

	open := int64(g.Members[len(closed)+1])
	for _, err := range sendDMs([]int64{open}) {
		require.NoError(t, err)
	}
	require.Equal(t, []int64{open}, dmRecipients(t, sim, "welcome aboard"))
	require.Equal(t, map[string]float64{"dm/ok": 1, "dm/refused": float64(len(closed))}, actionResults(t, reg))
	require.True(t, b.rule(t, rule.ID).Enabled)
}
