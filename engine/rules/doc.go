// Package rules is the rules engine: per-guild rule documents (trigger →
// conditions → effects) stored as versioned JSON in Postgres, compiled once
// per rule version (CEL with a cost limit), cached per guild and reloaded on
// Postgres NOTIFY, and evaluated against lake and internal events into
// planned effects that leave the engine through small interfaces
// (LedgerPoster, DiscordActions, MilestoneChecker).
//
// Condition and effect types have stable string ids (see ConditionID and
// EffectID constants): they are stored in rule documents, so they are never
// renamed, only added.
//
// Evaluation is deterministic: time comes from the event, randomness from a
// keyed hash of (rule, version, event), and the state conditions need
// (cooldowns, caps, reaction velocity) sits behind the State interface, so a
// task that runs twice plans the same effects with the same idempotency keys.
package rules
