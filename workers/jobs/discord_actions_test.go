package jobs

import (
	"context"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/testenv"
)

// An action without an idempotency key is refused with a clear error
// instead of taking the task id "discord:" (and shadowing every other such
// action); the keyed actions beside it are queued all the same.
func TestEnqueueRefusesActionWithoutKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := testenv.Redis(t)
	q := NewActionQueue(asynq.NewClientFromRedisClient(rdb))

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
