package jobs

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"
	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/testenv"
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

// fakeRoles records the role calls the action handler makes.
type fakeRoles struct {
	rest.Rest
	mu      sync.Mutex
	removed map[int64]int // by role
}

func (f *fakeRoles) AddMemberRole(snowflake.ID, snowflake.ID, snowflake.ID, ...rest.RequestOpt) error {
	return nil
}

func (f *fakeRoles) RemoveMemberRole(_, _ snowflake.ID, role snowflake.ID, _ ...rest.RequestOpt) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed[int64(role)]++
	return nil
}

func (f *fakeRoles) removals(role int64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.removed[role]
}

// A timed role is removed when the latest grant of it says so: a grant
// made since for longer, or for good, outlasts an earlier grant's
// scheduled removal, whatever order the grants were queued in. Removals
// run through a real asynq server, brought forward from their schedule.
func TestTimedRoleRemovalHonoursLatestGrant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := testenv.Redis(t)
	log := testenv.Logger(t)
	q := NewActionQueue(asynq.NewClientFromRedisClient(rdb), rdb)
	roles := &fakeRoles{removed: map[int64]int{}}
	mux := asynq.NewServeMux()
	NewActionHandler(roles, rdb, log, ops.NewRegistry()).Register(mux)
	cfg := ServerConfig(log)
	cfg.Queues = map[string]int{QueueDiscord: 1}
	srv := asynq.NewServerFromRedisClient(rdb, cfg)
	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)
	insp := asynq.NewInspectorFromRedisClient(rdb)

	const tenantID, guildID, userID = int64(1), int64(10), int64(100)
	base := time.Now().UTC()
	// A step grants the role for hours (0: for good), or removes it (-1).
	for i, tc := range []struct {
		name  string
		steps []int
		runs  []int // the grants whose scheduled removal runs, in order
		want  []int // removals the handler made after each
	}{
		{"renewed", []int{24, 36}, []int{0, 1}, []int{0, 1}},
		{"renewal queued first", []int{36, 24}, []int{1, 0}, []int{0, 1}},
		{"made permanent", []int{24, 0}, []int{0}, []int{0}},
		{"permanent with nothing pending, then timed", []int{0, 24}, []int{1}, []int{1}},
		{"removed by a rule, then granted for less", []int{36, 0, -1, 24}, []int{3}, []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			role := int64(1000 + i)
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
			}
			require.Eventually(t, func() bool { // the grants (and a rule's removal) done
				info, err := insp.GetQueueInfo(QueueDiscord)
				return err == nil && info.Pending == 0 && info.Active == 0
			}, 10*time.Second, 10*time.Millisecond)
			before := roles.removals(role)
			for k, g := range tc.runs {
				id := fmt.Sprintf("discord:%s.%d.expire", name, g)
				require.NoError(t, insp.RunTask(QueueDiscord, id))
				require.Eventually(t, func() bool {
					info, err := insp.GetTaskInfo(QueueDiscord, id)
					return err == nil && info.State == asynq.TaskStateCompleted
				}, 10*time.Second, 10*time.Millisecond)
				require.Equal(t, tc.want[k], roles.removals(role)-before, "after the removal grant %d scheduled", g)
			}
		})
	}
}
