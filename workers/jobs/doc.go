// Package jobs holds the background work of `synapse worker`: asynq task
// handlers and the periodic schedule (lake partitions, retention, counter
// reconciliation), and the outbox relay that hands committed lake events
// to the rules workers in batches.
package jobs
