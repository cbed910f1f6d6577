package api

import (
	"fmt"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/engine/rules"
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
	return engines{
		ledger:     led,
		milestones: milestones.New(d.DB, led, d.Log),
		registry:   reg,
		compiler:   comp,
		rules:      rules.NewStore(d.DB.Bun, comp),
		dryRun:     eng,
	}, nil
}
