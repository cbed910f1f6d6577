// Package milestones is Milestones v2: per-guild achievement templates whose
// requirement trees read wallets (engine/ledger) and the Event Lake's daily
// counters (engine/lake), and the awards members earn.
//
//	svc := milestones.New(db, ledger.New(db, log), log)
//	ms := svc.ForTenant(tenantID)
//	ms.Create / Update / Delete / Get / GetByKey / List   templates, audited
//	ms.Check(ctx, guild, user, key) / CheckMany(ctx, reqs) awards what is due
//	ms.Progress(ctx, guild, user)                          "7/10 days" per template
//	ms.Grant / Revoke                                      admin, audited
//	ms.InstallClassic(ctx, actor, guild)                   idempotent seed
//	ms.Sweep(ctx, guild, after, limit)                     periodic job (time-based requirements)
//	&milestones.Adapter{Service: svc}                      rules.MilestoneChecker
//	milestones.PlanAnnouncements(notices, throttle, now)   embeds, digest, opt-outs
//
// # A check
//
// A check reads one member in one round trip: a pgx batch of a single-row
// statement (the guild's template stamp, the member, the running season,
// the guild's settings, the member's counter cache) and one multi-row
// statement (the live days' counters, award slots, wallets and, when a
// template reads one, live ranks counted no further than the places it
// needs). Every template of the guild is then evaluated in memory: the
// compiled templates are cached per guild and revalidated by the stamp
// (the guild's template revision, bumped by every template change, plus
// its zones and currencies).
//
// Counters are never aggregated over a member's whole history per check:
// milestone_counter_cache holds the member's closed days (before
// yesterday), by day from the earliest day a window, streak or season
// needs and summed before it, with their guild-local active days. It is
// rebuilt on a member's first check of each UTC day, or when the templates
// need other days; today's and yesterday's counters (and one more day of
// active days) are read live. A counter of an older day changed
// after the rebuild (a backfill, the weekly reconciliation) is seen the
// next day. A process also keeps the decoded cache of recently checked
// members, so the row's bytes travel only when they changed.
//
// # Exactly once
//
// Each (template, member, season or none, award number) is a unique slot,
// inserted with ON CONFLICT DO NOTHING: of concurrent checks that find a
// member due, exactly one gets the award back. Repeatable templates earn
// one award per multiple of their thresholds (optionally capped); seasonal
// templates earn again in each season, their event counts starting with
// the season's first (UTC) day. A revoked award keeps its slot, so the
// checker does not hand it back; Grant reinstates it.
//
// # Rewards
//
// Rewards are planned, not applied by Check: an Award lists its template's
// rewards (currency amounts, a role, an announcement). CheckMany with a
// Source (the rules engine's effect key) also returns the awards an
// earlier run of the same source made, marked Replayed, so a retried task
// can still apply them. The Adapter can credit currency rewards through
// the ledger's ApplyBatch keyed by award (Award.RewardKey "ms.a<id>.r<i>"),
// paying each once however often it is reported; leave that off where the
// guild's rules pay from milestone.awarded events instead (AwardedEvent
// builds one; the Classic rules' "Stars for milestones" reads
// event.data.stars), or Stars are paid twice. Roles and announcements are
// for the caller: OnAwards receives every award, RoleRewards turns their
// role rewards into GrantRole actions keyed by award (the worker's
// announcer queues them with the announcements).
//
// # Known approximations
//
//   - Streak days are dates of the guild's calendar (settings.milestones.
//     timezone, else settings.timezone, else UTC): the lake writer records
//     each member's events per type on their guild-local date
//     (member_active_days), in the zone the guild had when the events were
//     written (the weekly reconciliation restates the last week after a
//     change). A streak holds while the last active day is today or
//     yesterday there. History from before migration 0007 is in UTC days.
//   - Event windows (window_days) and a season's first day are counted
//     in UTC days, the days of event_counters.
//   - Non-AFK voice minutes sum the voice_active counter: the seconds of
//     voice stretches the gateway did not flag AFK (the guild's AFK
//     channel, settings.capture.afk_channels, or self-muted and
//     self-deafened throughout), minus channels excluded since.
//   - Roles are those stored on the member's row by the gateway
//     (GUILD_CREATE, GUILD_MEMBER_ADD/UPDATE, GUILD_ROLE_DELETE); a member
//     of a large guild not listed in GUILD_CREATE is known from their
//     first update on.
//   - Live ranks break ties by user id.
package milestones
