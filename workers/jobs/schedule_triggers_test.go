package jobs

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// schedule.daily and schedule.weekly fire once per guild with rules on
// them and per period, with no actor: a message to a named channel is
// queued once however often the task runs; a credit to the actor does
// nothing.
func TestScheduleTriggersFireOncePerPeriod(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64                                          // read by the worker's handler
	clock.Store(time.Date(2026, 3, 2, 0, 0, 1, 0, time.UTC).Unix()) // a Monday, just after midnight
	b := startPipeline(t, func(p *RulesPipeline) { p.Schedule.now = func() time.Time { return time.Unix(clock.Load(), 0) } })
	b.rule(t, `{"name":"good morning","trigger":{"events":["schedule.daily"]},
		"effects":[{"type":"send_message","channel":"700000000000000001","content":"Good morning"},
		           {"type":"credit","currency":"xp","base":5,"amount":"base"}]}`)
	b.rule(t, `{"name":"weekly digest","trigger":{"events":["schedule.weekly"]},
		"conditions":[{"type":"cel","expr":"event.data.period == '2026-03-02'"}],
		"effects":[{"type":"send_message","channel":"700000000000000002","content":"New week"}]}`)
	other := tenanttest.Guild(b.ctx, t, b.db.Bun, b.tenant, nil) // no rules: no event

	sent := func() map[int64]int {
		t.Helper()
		tasks, err := b.inspect.ListPendingTasks(QueueDiscord)
		require.NoError(t, err)
		out := map[int64]int{}
		for _, task := range tasks {
			var p actionPayload
			require.NoError(t, json.Unmarshal(task.Payload, &p))
			var msg rules.SendMessage
			require.NoError(t, json.Unmarshal(p.Action, &msg))
			require.Equal(t, b.guild.ID, msg.GuildID)
			require.NotEqual(t, other.ID, msg.GuildID)
			out[msg.ChannelID]++
		}
		return out
	}
	processed := 0
	run := func(typ string) {
		processed++
		b.enqueue(t, asynq.NewTask(typ, nil), QueueMaintenance, processed)
	}
	run(TypeScheduleDaily)
	run(TypeScheduleWeekly)
	require.Equal(t, map[int64]int{700000000000000001: 1, 700000000000000002: 1}, sent())

	// A retried task, or the same task from a second worker's scheduler.
	run(TypeScheduleDaily)
	run(TypeScheduleWeekly)
	require.Equal(t, map[int64]int{700000000000000001: 1, 700000000000000002: 1}, sent())

	// The next day is a new daily period, in the same week.
	clock.Add(24 * 3600)
	run(TypeScheduleDaily)
	run(TypeScheduleWeekly)
	require.Equal(t, map[int64]int{700000000000000001: 2, 700000000000000002: 1}, sent())
}
