package api

import (
	"fmt"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/engine/recipes"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/engine/rules/backtests"
)

// engines are the domain services the dashboard routes call. They are
// stores over the same database, built once per API process.
type engines struct {
	ledger     *ledger.Service
	milestones *milestones.Service
	registry   *rules.Registry
	compiler   *rules.Compiler
	rules      *rules.Store
	// dryRun evaluates drafts with in-memory state; facts come from
	// Deps.RuleFacts so a dry run sees the member as the workers would.
	dryRun *rules.Engine
	// backtests queues draft rules over lake history (run by the workers).
	backtests *backtests.Runs
	recipes   *recipes.Service
}

func newEngines(d Deps) (engines, error) {
	reg := rules.NewRegistry()
	comp, err := rules.NewCompiler(reg, rules.CompilerOptions{})
	if err != nil {
		return engines{}, fmt.Errorf("rules compiler: %w", err)
	}
	facts := d.RuleFacts
	if facts == nil {
		facts = rules.StaticFacts{}
	}
	eng, err := rules.NewEngine(rules.Options{State: rules.NewMemoryState(), Facts: facts, Logger: d.Log})
	if err != nil {
		return engines{}, fmt.Errorf("rules engine: %w", err)
	}
	led := ledger.New(d.DB, d.Log)
	store := rules.NewStore(d.DB.Bun, comp)
	ms := milestones.New(d.DB, led, d.Log)
	return engines{
		ledger:     led,
		milestones: ms,
		registry:   reg,
		compiler:   comp,
		rules:      store,
		dryRun:     eng,
		backtests:  backtests.New(d.Redis, d.DB.Pool, comp, store, eng, d.Log),
		recipes:    recipes.New(d.DB.Bun, led, store, ms),
	}, nil
}
