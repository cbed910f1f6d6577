// Package shardmgr spreads a bot's gateway shards over the live gateway
// workers and moves them without losing events.
//
// There is no separate coordinator to fail: every worker runs a Manager
// that heartbeats into gateway_workers and computes the same assignment
// from the same view (shard i belongs to the (i mod n)-th live worker by
// id). A worker holds a shard through a lease row in shard_sessions with a
// fencing token (fence): claiming bumps the fence, so a worker that lost
// its lease can no longer commit events or checkpoints for the shard (the
// lake writer checks the fence in the same transaction).
//
// A shard's gateway session id, resume URL and last committed sequence are
// written to the same row only after the events up to that sequence are
// committed, so the next owner RESUMEs where the last one stopped: Discord
// replays exactly the uncommitted events, and nothing is identified again.
//
// Identifies are limited fleet-wide through Redis (IdentifyLimiter): one
// per bucket (shard mod max_concurrency) per 5 s, and a daily budget.
package shardmgr
