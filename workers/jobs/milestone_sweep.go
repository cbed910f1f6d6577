package jobs

import (
	"context"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/tenants"
)

// TypeMilestoneSweep re-checks every member for time-based requirements
// (membership age, streaks, windows) that no event triggers.
const TypeMilestoneSweep = "milestones:sweep"

// MilestoneSweep visits every active guild under its tenant's stores.
type MilestoneSweep struct {
	milestones *milestones.Service
	tenants    *tenants.Store
	onAwards   func(context.Context, int64, []milestones.Award) error
	// rules, when set, runs the rules on the awards (milestone.awarded)
	// and pays the rewards they did not (Evaluator.Awarded); unset, the
	// rewards are paid as they are.
	rules func(context.Context, int64, []milestones.Award) error
	log   *slog.Logger
}

// Register mounts the handler on mux.
func (s *MilestoneSweep) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeMilestoneSweep, func(ctx context.Context, _ *asynq.Task) error { _, err := s.Run(ctx); return err })
}

// Run sweeps every guild and returns how many awards it made.
func (s *MilestoneSweep) Run(ctx context.Context) (int, error) {
	guilds, err := s.tenants.ActiveGuilds(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, g := range guilds {
		ms := s.milestones.ForTenant(g.TenantID)
		for after := int64(0); ; {
			next, awards, err := ms.Sweep(ctx, g.GuildID, after, 500)
			if err != nil {
				return total, err
			}
			total += len(awards)
			if len(awards) > 0 {
				// Same as awards found through the rules: milestone.awarded
				// rules run and rewards are paid once per award, then
				// announced.
				if s.rules != nil {
					err = s.rules(ctx, g.TenantID, awards)
				} else {
					err = ms.CreditRewards(ctx, awards)
				}
				if err != nil {
					return total, err
				}
				if s.onAwards != nil {
					if err := s.onAwards(ctx, g.TenantID, awards); err != nil {
						return total, err
					}
				}
			}
			if next == 0 || next == after {
				break
			}
			after = next
		}
	}
	s.log.Info("milestone sweep done", slog.Int("guilds", len(guilds)), slog.Int("awards", total))
	return total, nil
}
