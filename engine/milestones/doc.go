// Package milestones is Milestones v2: per-guild achievement templates whose
// requirement trees read wallets (engine/ledger) and the Event Lake's daily
// counters (engine/lake), and the awards members earn.
//
// A check loads one member's state in two round trips (a pgx batch for the
// counters, member, awards, season and guild settings, and the ledger's
// wallets), then evaluates every template of the guild in memory: the
// compiled templates are cached per guild and revalidated by a stamp read in
// the same batch. Nothing scans the lake.
//
// Awards are exactly once: each (template, member, season, award number) is
// a unique slot, inserted with ON CONFLICT DO NOTHING, so of concurrent
// checks that find the same member due exactly one gets the award back.
//
// Rewards are planned, not applied: an Award lists its template's rewards
// (currency amounts, a role, an announcement). The Adapter that implements
// rules.MilestoneChecker can credit the currency rewards through the
// ledger's ApplyBatch with keys derived from the award id ("ms.a<id>.r<i>"),
// so a retried check pays once; roles and announcements are left to the
// caller (PlanAnnouncements turns awards into throttled messages).
//
// Known approximations, on purpose:
//   - Counters are per UTC day, so "active days" for streaks are UTC days;
//     the guild's time zone decides which day is "today" (a streak is kept
//     while the last active day is today or yesterday in that zone).
//   - Non-AFK voice minutes sum voice_leave and voice_move magnitudes
//     outside the guild's AFK channels (afk_channel_id and
//     settings.capture.afk_channels); counters do not keep the AFK flag of
//     self-muted-and-deafened stretches, which are therefore counted.
//   - Counters key on the acting member, so "reactions received" cannot be
//     counted without scanning the lake; no requirement offers it yet.
package milestones
