package discordsim

import (
	"context"
	"time"
)

// GenerateOptions selects a background activity profile.
type GenerateOptions struct {
	// Profile is ProfileSteady or ProfileServerDay.
	Profile string `json:"profile"`
	// Rate is events per real second for ProfileSteady.
	Rate float64 `json:"rate,omitempty"`
	// Acceleration is simulated seconds per real second for ProfileServerDay
	// (0: as fast as possible).
	Acceleration float64 `json:"acceleration,omitempty"`
	// MaxEvents stops after this many events (0: the profile's natural end;
	// ProfileSteady then runs until ctx is cancelled).
	MaxEvents int `json:"max_events,omitempty"`
	// Guilds restricts activity to these guilds (default: every guild with the bot).
	Guilds []ID `json:"guilds,omitempty"`
}

// GenerateResult summarises a generation run.
type GenerateResult struct {
	// Events is the number of activity steps performed.
	Events int `json:"events"`
	// Dispatches is how many dispatch records they produced (a member
	// leaving voice and then the guild is one step, two dispatches);
	// history reads meanwhile are not counted.
	Dispatches int           `json:"dispatches"`
	Simulated  time.Duration `json:"simulated"`
}

// eventsPerMemberDay calibrates ProfileServerDay: 500 members -> ~22,000 events.
const eventsPerMemberDay = 44

// hourWeights is a daily rhythm: quiet nights, a lunch bump, busy evenings.
var hourWeights = [24]float64{0.5, 0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0,
	1.2, 1.1, 1.0, 1.0, 1.1, 1.3, 1.6, 1.9, 2.1, 2.0, 1.5, 0.9}

// Generate runs an activity profile until it ends, MaxEvents is reached or
// ctx is cancelled. It is deterministic for a given seed and starting world
// when run alone.
func (s *Server) Generate(ctx context.Context, o GenerateOptions) (GenerateResult, error) {
	gen, err := s.newGenerator(o)
	if err != nil {
		return GenerateResult{}, err
	}
	before := s.gt.dispatches()
	var res GenerateResult
	switch o.Profile {
	case ProfileServerDay:
		res, err = gen.runDay(ctx, o)
	case ProfileSteady:
		res, err = gen.runSteady(ctx, o)
	default:
		return GenerateResult{}, invalid("unknown profile %q", o.Profile)
	}
	res.Dispatches = s.gt.dispatches() - before
	return res, err
}

func (g *generator) runDay(ctx context.Context, o GenerateOptions) (GenerateResult, error) {
	members := 0
	for _, gs := range g.guilds {
		members += len(gs.members)
	}
	perDay := float64(eventsPerMemberDay * members)
	var sumW float64
	for _, w := range hourWeights {
		sumW += w
	}
	simStart := g.s.clock.Now()
	// Start at midnight of the current simulated day so the rhythm lines up.
	day := simStart.Truncate(24 * time.Hour)
	if day.Before(simStart) {
		day = day.Add(24 * time.Hour)
	}
	realStart := time.Now()
	res := GenerateResult{}
	t := day
	end := day.Add(24 * time.Hour)
	for {
		lambda := perDay * hourWeights[t.Hour()] / sumW / 3600 // events per simulated second
		t = t.Add(time.Duration(g.rng.ExpFloat64() / lambda * float64(time.Second)))
		if !t.Before(end) || (o.MaxEvents > 0 && res.Events >= o.MaxEvents) {
			break
		}
		if err := g.pace(ctx, realStart, t.Sub(day), o.Acceleration); err != nil {
			return res, err
		}
		g.s.clock.AdvanceTo(t)
		if g.step(ctx) {
			res.Events++
		}
	}
	res.Simulated = g.s.clock.Now().Sub(simStart)
	return res, ctx.Err()
}

func (g *generator) runSteady(ctx context.Context, o GenerateOptions) (GenerateResult, error) {
	rate := o.Rate
	if rate <= 0 {
		rate = g.s.cfg.Rate
	}
	simStart := g.s.clock.Now()
	realStart := time.Now()
	res := GenerateResult{}
	for o.MaxEvents == 0 || res.Events < o.MaxEvents {
		elapsed := time.Duration(float64(res.Events) / rate * float64(time.Second))
		if err := g.pace(ctx, realStart, elapsed, 1); err != nil {
			return res, err
		}
		// Behind schedule (at a rate faster than the machine goes, "max"),
		// time still passes as it does for Discord: a clock that moved only
		// by schedule stood still, and a whole run's snowflakes fell in a
		// few milliseconds.
		g.s.clock.AdvanceTo(simStart.Add(max(elapsed, time.Since(realStart))))
		if g.step(ctx) {
			res.Events++
		}
	}
	res.Simulated = g.s.clock.Now().Sub(simStart)
	return res, nil
}

// pace sleeps until simElapsed/accel of real time has passed since realStart.
func (g *generator) pace(ctx context.Context, realStart time.Time, simElapsed time.Duration, accel float64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if accel <= 0 {
		return nil
	}
	wait := time.Until(realStart.Add(time.Duration(float64(simElapsed) / accel)))
	if wait < time.Millisecond {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
