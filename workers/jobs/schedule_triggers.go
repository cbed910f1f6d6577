package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/synapsehq/synapse/engine/rules"
)

// Schedule trigger tasks, registered in Schedule (00:00 UTC daily, Monday
// 00:00 UTC weekly).
const (
	TypeScheduleDaily  = "rules:schedule_daily"
	TypeScheduleWeekly = "rules:schedule_weekly"
)

// scheduleLead is added to the clock before taking the period: a task the
// scheduler enqueued at midnight, run by a worker whose clock is a little
// behind, still belongs to the new day.
const scheduleLead = time.Minute

// scheduleBatch bounds the guilds evaluated in one rules round.
const scheduleBatch = 500

// ScheduleTriggers produces the schedule.daily and schedule.weekly events:
// one per guild with an enabled rule on the trigger, with no actor, for the
// period the task runs in (rules.SchedulePeriod), evaluated in rounds like
// lake events. Their source ids derive from (trigger, guild, period), so a
// retried task, or the same task enqueued by every worker's scheduler,
// applies each effect once.
type ScheduleTriggers struct {
	rules *rules.Store
	eval  *Evaluator
	log   *slog.Logger
	now   func() time.Time
}

// Register mounts the handlers on mux.
func (s *ScheduleTriggers) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeScheduleDaily, func(ctx context.Context, _ *asynq.Task) error {
		_, err := s.Run(ctx, rules.EventScheduleDaily)
		return err
	})
	mux.HandleFunc(TypeScheduleWeekly, func(ctx context.Context, _ *asynq.Task) error {
		_, err := s.Run(ctx, rules.EventScheduleWeekly)
		return err
	})
}

// Run evaluates trigger's event of the current period for every guild
// with rules on it and returns how many guilds it visited. A tenant whose
// rules fail does not stop the others; the task is retried for it.
func (s *ScheduleTriggers) Run(ctx context.Context, trigger string) (int, error) {
	start, err := rules.SchedulePeriod(trigger, s.now().Add(scheduleLead))
	if err != nil {
		return 0, fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	guilds, err := s.rules.GuildsTriggeredBy(ctx, trigger)
	if err != nil {
		return 0, err
	}
	var errs []error
	// Guilds come ordered by tenant: one batch per tenant (and per
	// scheduleBatch guilds).
	for i := 0; i < len(guilds); {
		tenantID := guilds[i].TenantID
		var evs []rules.Event
		for ; i < len(guilds) && guilds[i].TenantID == tenantID && len(evs) < scheduleBatch; i++ {
			evs = append(evs, rules.ScheduleEvent(trigger, tenantID, guilds[i].GuildID, start))
		}
		if err := s.eval.rounds(ctx, tenantID, evs, nil); err != nil {
			errs = append(errs, fmt.Errorf("%s for tenant %d: %w", trigger, tenantID, err))
		}
	}
	s.log.Info("schedule trigger done", slog.String("trigger", trigger), slog.String("period", start.Format(time.DateOnly)),
		slog.Int("guilds", len(guilds)), slog.Int("failed", len(errs)))
	return len(guilds), errors.Join(errs...)
}
