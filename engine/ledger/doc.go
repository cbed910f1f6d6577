// Package ledger is Synapse's double-entry ledger: the currencies each
// guild defines (XP, Gold, Stars, Volunteer Hours…), member wallets, an
// append-only journal, seasons, leaderboards, levels and a shop.
//
// Use: ledger.New(db, logger).ForTenant(tenantID) returns a *Ledger bound
// to one tenant; every query it runs filters on that tenant, and another
// tenant's guilds, currencies, items and transactions are simply not found.
//
// Guarantees:
//
//   - Double entry. Every change of value is a transaction whose postings
//     sum to zero per currency. Members' accounts are their Discord user
//     ids; the issuer, the shop sink and the season reserve are system
//     accounts (negative ids) whose balances are derived from their
//     postings, so no batch ever locks a shared row for them. A statement
//     trigger refuses unbalanced postings whatever code writes them.
//   - Append-only. Transactions and postings are never updated or deleted
//     (a trigger refuses it); a mistake is undone by Reverse, a compensating
//     transaction. Wallets cache each member's balance: balance = Σ of the
//     member's postings, and lifetime_earned = Σ of mints to them net of
//     reversed mints, both kept in the same database transaction.
//   - Idempotent. Every op carries a key unique per tenant. Applying a key
//     again returns the first result (Replayed); the same key with other
//     content is ErrIdempotencyConflict. An op that fails does not use up
//     its key. Concurrent retries of one key produce one transaction.
//   - No forbidden overdraft. A debit, transfer, spend or reversal that would
//     take a member below zero is ErrInsufficientFunds, unless the currency
//     allows negative balances.
//   - Batched and deadlock-free. ApplyBatch applies up to MaxBatchOps ops in
//     one database transaction with a fixed number of statements; each op
//     succeeds or fails on its own (Result.Err). Wallets are locked in
//     (guild, currency, user) order, keys inserted in key order.
//   - Audited. Currency changes, awards, deductions, reversals, season start
//     and end, shop changes and preset installs are written to the tenant's
//     audit log (tenants.AuditStore) in the same transaction, with state or
//     balances before and after.
//
// Reading: Balance, Wallets, History, Transaction, Profile (every currency
// with balance, rank and level, for /profile and /balance), Leaderboard
// and Rank (live, or a past season's snapshot), SystemBalance. A live rank
// does not count the whole guild: per-currency rank buckets, kept in the
// same transaction as the balances, reduce it to a sum over bucket counts
// and a short index scan inside one bucket (rank.go).
//
// Command mapping for the slash commands: /balance and /profile → Profile;
// /leaderboard → Leaderboard + Rank; /give → Transfer; /award, /deduct →
// Award, Deduct; /shop → ShopItems; /buy, /buy-coffee → Buy.
//
// Errors wrap the apperr classes so the API maps them in one place: see
// errors.go. Amounts are int64 minor units; Currency.Format and
// Currency.ParseAmount convert for display and input. Levels come from the
// currency's curve (package levels).
package ledger
