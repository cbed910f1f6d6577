// Package rules is the rules engine: per-guild rule documents (trigger →
// conditions → effects) stored as versioned JSON in Postgres, compiled once
// per rule version (CEL, cost-limited), cached per guild and reloaded on
// Postgres NOTIFY, and evaluated against lake and internal events into
// planned effects that leave the engine through small interfaces.
//
// # Documents
//
// A rule is a Document: name, module, group, priority, a trigger (lake event
// types such as "message_create", internal events such as
// "ledger.credited", or "custom.<name>"), conditions and effects. Conditions
// and effects are written flat, their params beside their type:
//
//	{"name": "XP for messages", "trigger": {"events": ["message_create"]},
//	 "conditions": [{"type": "not_bot"}, {"type": "cooldown", "seconds": 60}],
//	 "effects": [{"type": "credit", "currency": "xp", "base": 10,
//	              "amount": "base * zone.multiplier * quality"}]}
//
// Condition and effect type ids (CondCooldown, EffectCredit, ...) are stored
// in documents: they are never renamed (Registry.Alias keeps a retired id
// working). Validation is compilation: Compiler.Validate returns an
// *apperr.ValidationError whose Field is the JSON path of the problem
// ("effects[0].amount", "conditions[2].zones[1]"), and the store refuses such
// a document before writing anything.
//
// # Wiring (for the pipeline)
//
//	comp, _ := rules.NewCompiler(rules.NewRegistry(), rules.CompilerOptions{})
//	store := rules.NewStore(db.Bun, comp)            // per tenant: store.ForTenant(id)
//	cache := rules.NewCache(store, comp, logger)
//	go cache.Listen(ctx, db.Pool, rules.ListenOptions{}) // hot reload on NOTIFY synapse_rules
//	eng, _ := rules.NewEngine(rules.Options{
//		State: rules.NewRedisState(rdb, nil), Facts: memberFacts, // Facts: yours, batch-loaded
//		Disabler: store, Metrics: metrics, Logger: logger,
//	})
//	runner := &rules.Runner{Sets: cache, Engine: eng, Ledger: ledgerAdapter,
//		Discord: actionQueue, Milestones: milestoneAdapter}
//	report, err := runner.Process(ctx, tenantID, batch) // one asynq task = one batch
//
// The pipeline implements Facts (member roles, bot flag, join time, DM
// opt-out, wallet balances, counters), LedgerPoster, DiscordActions and
// MilestoneChecker. Every effect has an IdempotencyKey derived from
// (rule id, rule version, event name, source id, effect index): sinks must
// apply a key once, which makes at-least-once task delivery safe. Credits
// that come back from the ledger are fed in again with CreditedEvent, which
// carries the chain so credit loops stop.
//
// With RedisState, an event's state calls (cooldowns, velocity, caps) go to
// Redis in one script call, and a Runner shard's events in one pipeline,
// decided as they would be one call at a time (see evaluateInOrder).
//
// A Runner batch loads each member's facts once (prefetched side by side,
// or in one call per guild when Facts is a BatchFacts), and only for events
// some rule of which reads them: a rule whose conditions and CEL never
// touch member, wallet or counters evaluates without facts.
//
// # Determinism
//
// Time comes from the event (cooldowns, caps, windows, ages), randomness from
// Chance (by default a keyed hash of rule, version and event, so a retried
// event rolls the same), and the state anti-gaming conditions keep (cooldowns,
// caps, reaction velocity) sits behind State, whose writes are keyed by the
// event: a task that runs twice plans the same effects.
//
// # Failures
//
// A rule that fails at run time (a CEL error, an amount out of range) is
// reported in Result.Failures and counted; after FailureThreshold consecutive
// failures in a process the Disabler switches it off with an audit entry. The
// other rules of the event run regardless. Errors from Facts or State abort
// the event so the task is retried. A sink's permanent refusal of a rule's
// effects (a credit to a currency deleted since) counts the same way when
// the sink reports it through EffectOutcomes; a transient sink error is
// retried and never counts.
//
// # Dry runs, backtests, presets
//
// Engine.DryRun evaluates pasted or sampled events against a live or draft
// set (RuleSet.With) with a trace and no side effects; Engine.Backtest runs a
// draft over lake history with progress and a Summary. Classic() is the v3
// reward pipeline as rules, installed idempotently by
// TenantStore.InstallPreset and pinned by the golden files in
// testdata/classic (go test -run TestClassicGolden -update regenerates them).
package rules
