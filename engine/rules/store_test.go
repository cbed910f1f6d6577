package rules_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

type storeBundle struct {
	db      *bun.DB
	pg      *postgres.DB
	store   *rules.Store
	tenant  int64
	guild   int64
	rules   *rules.TenantStore
	actor   tenants.Actor
	compile *rules.Compiler
}

func setupStore(t *testing.T) storeBundle {
	t.Helper()
	ctx := context.Background()
	pg := testenv.DB(t)
	db := pg.Bun
	tn := tenanttest.Tenant(ctx, t, db, nil)
	g := guild(t, db, tn.ID)
	c := compiler(t)
	s := rules.NewStore(db, c)
	return storeBundle{db: db, pg: pg, store: s, tenant: tn.ID, guild: g, rules: s.ForTenant(tn.ID), actor: tenants.Actor{ID: "77", RequestID: "req-1"}, compile: c}
}

var guildSeq atomic.Int64

// noActor is a change made by the system.
var noActor = tenants.Actor{}

// guild inserts a guild with only the columns the rules engine relies on
// (independent of the guilds model, which other packages extend).
func guild(t *testing.T, db bun.IDB, tenantID int64) int64 {
	t.Helper()
	id := (time.Now().UnixMilli()-1420070400000)<<22 | (guildSeq.Add(1) & 0x3fffff)
	_, err := db.ExecContext(context.Background(), "INSERT INTO guilds (tenant_id, id, name) VALUES (?, ?, ?)", tenantID, id, "g")
	require.NoError(t, err)
	return id
}

const xpRule = `{"name":"xp","module":"custom","priority":5,"trigger":{"events":["message_create"]},
	"effects":[{"type":"credit","currency":"xp","base":10,"amount":"base * quality"}]}`

func audit(t *testing.T, b storeBundle) []tenants.AuditEntry {
	t.Helper()
	es, err := tenants.NewStore(b.db).ForTenant(b.tenant).Audit().List(context.Background(), tenants.AuditFilter{GuildID: &b.guild, Limit: 200})
	require.NoError(t, err)
	return es
}

func TestRuleVersionsAndAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupStore(t)

	r, err := b.rules.CreateRule(ctx, b.actor, b.guild, doc(t, xpRule))
	require.NoError(t, err)
	require.Equal(t, 1, r.Version)
	require.True(t, r.Enabled)
	require.Equal(t, "custom", r.Module)

	d2 := doc(t, xpRule)
	d2.Name = "xp v2"
	r2, err := b.rules.UpdateRule(ctx, b.actor, b.guild, r.ID, d2, 1)
	require.NoError(t, err)
	require.Equal(t, 2, r2.Version)
	require.Equal(t, "xp v2", r2.Name)

	_, err = b.rules.UpdateRule(ctx, b.actor, b.guild, r.ID, d2, 1)
	require.ErrorIs(t, err, apperr.ErrConflict, "a stale expected version is refused")

	keyed := doc(t, xpRule)
	keyed.Key = "custom.xp"
	_, err = b.rules.CreateRule(ctx, b.actor, b.guild, keyed)
	require.NoError(t, err)
	_, err = b.rules.CreateRule(ctx, b.actor, b.guild, keyed)
	require.ErrorIs(t, err, apperr.ErrConflict, "a key is unique in the guild")

	off, err := b.rules.SetRuleEnabled(ctx, b.actor, b.guild, r.ID, false)
	require.NoError(t, err)
	require.False(t, off.Enabled)
	require.Equal(t, 2, off.Version, "toggling does not make a version")

	vs, err := b.rules.RuleVersions(ctx, b.guild, r.ID)
	require.NoError(t, err)
	require.Len(t, vs, 2)
	require.Equal(t, []int{2, 1}, []int{vs[0].Version, vs[1].Version})
	require.Equal(t, "xp", vs[1].Document.Name)
	require.Equal(t, "77", vs[0].CreatedBy)

	require.NoError(t, b.rules.DeleteRule(ctx, b.actor, b.guild, r.ID))
	_, err = b.rules.GetRule(ctx, b.guild, r.ID)
	require.ErrorIs(t, err, apperr.ErrNotFound)

	es := audit(t, b)
	var actions []string
	for _, e := range es {
		actions = append(actions, e.Action)
		require.Equal(t, "77", e.Actor)
		require.Equal(t, "req-1", e.RequestID)
	}
	require.Equal(t, []string{"rule.delete", "rule.disable", "rule.create", "rule.update", "rule.create"}, actions)
	var before, after rules.Rule
	require.NoError(t, json.Unmarshal(es[3].Before, &before))
	require.NoError(t, json.Unmarshal(es[3].After, &after))
	require.Equal(t, "xp", before.Name)
	require.Equal(t, "xp v2", after.Name)
	require.True(t, isNull(es[0].After), "a delete has no after")
	require.True(t, isNull(es[4].Before), "a create has no before")
}

func TestInvalidRuleIsNeverSaved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupStore(t)
	bad := doc(t, `{"name":"bad","trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"xp","amount":"base *"}]}`)

	_, err := b.rules.CreateRule(ctx, b.actor, b.guild, bad)
	var ve *apperr.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "effects[0].amount", ve.Field)

	r, err := b.rules.CreateRule(ctx, b.actor, b.guild, doc(t, xpRule))
	require.NoError(t, err)
	_, err = b.rules.UpdateRule(ctx, b.actor, b.guild, r.ID, bad, 0)
	require.ErrorAs(t, err, &ve)

	got, err := b.rules.ListRules(ctx, b.guild)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, 1, got[0].Version)
	require.Len(t, audit(t, b), 1, "only the valid create is audited")
}

func TestRuleMustNameExistingZones(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupStore(t)
	d := doc(t, `{"name":"help xp","trigger":{"events":["message_create"]},
		"conditions":[{"type":"channel_in_zone","zones":["general","help"]}],
		"effects":[{"type":"credit","currency":"xp","amount":"base * zone.multiplier","base":5}]}`)
	_, err := b.rules.CreateZone(ctx, b.actor, rules.Zone{GuildID: b.guild, Name: "general"})
	require.NoError(t, err)

	_, err = b.rules.CreateRule(ctx, b.actor, b.guild, d)
	var ve *apperr.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "conditions[0].zones[1]", ve.Field)
	require.Contains(t, ve.Message, `"help"`)

	_, err = b.rules.CreateZone(ctx, b.actor, rules.Zone{GuildID: b.guild, Name: "help"})
	require.NoError(t, err)
	_, err = b.rules.CreateRule(ctx, b.actor, b.guild, d)
	require.NoError(t, err)
}

func TestRuleStoreTenantIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupStore(t)
	other := tenanttest.Tenant(ctx, t, b.db, nil)
	otherGuild := struct{ ID int64 }{guild(t, b.db, other.ID)}
	theirs, err := b.store.ForTenant(other.ID).CreateRule(ctx, b.actor, otherGuild.ID, doc(t, xpRule))
	require.NoError(t, err)
	mine := b.rules

	tests := []struct {
		name string
		call func() error
	}{
		{"get", func() error { _, err := mine.GetRule(ctx, otherGuild.ID, theirs.ID); return err }},
		{"update", func() error {
			_, err := mine.UpdateRule(ctx, b.actor, otherGuild.ID, theirs.ID, doc(t, xpRule), 0)
			return err
		}},
		{"enable", func() error { _, err := mine.SetRuleEnabled(ctx, b.actor, otherGuild.ID, theirs.ID, false); return err }},
		{"delete", func() error { return mine.DeleteRule(ctx, b.actor, otherGuild.ID, theirs.ID) }},
		{"versions", func() error { _, err := mine.RuleVersions(ctx, otherGuild.ID, theirs.ID); return err }},
		{"create in their guild", func() error { _, err := mine.CreateRule(ctx, b.actor, otherGuild.ID, doc(t, xpRule)); return err }},
		{"zone in their guild", func() error {
			_, err := mine.CreateZone(ctx, b.actor, rules.Zone{GuildID: otherGuild.ID, Name: "z"})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, tc.call(), apperr.ErrNotFound)
		})
	}
	list, err := mine.ListRules(ctx, otherGuild.ID)
	require.NoError(t, err)
	require.Empty(t, list)
	still, err := b.store.ForTenant(other.ID).GetRule(ctx, otherGuild.ID, theirs.ID)
	require.NoError(t, err)
	require.True(t, still.Enabled)
	require.Equal(t, 1, still.Version)
}

func TestZones(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupStore(t)
	help, err := b.rules.CreateZone(ctx, b.actor, rules.Zone{GuildID: b.guild, Name: "help", Channels: []rules.Snowflake{1, 2}, Multipliers: map[string]float64{"xp": 1.5}})
	require.NoError(t, err)

	invalid := []struct {
		name  string
		zone  rules.Zone
		field string
	}{
		{"duplicate name", rules.Zone{GuildID: b.guild, Name: "help"}, "name"},
		{"channel already zoned", rules.Zone{GuildID: b.guild, Name: "chat", Channels: []rules.Snowflake{3, 2}}, "channels[1]"},
		{"bad multiplier", rules.Zone{GuildID: b.guild, Name: "chat", Multipliers: map[string]float64{"xp": -1}}, "multipliers.xp"},
		{"bad currency", rules.Zone{GuildID: b.guild, Name: "chat", Multipliers: map[string]float64{"X P": 1}}, "multipliers.X P"},
		{"empty name", rules.Zone{GuildID: b.guild}, "name"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.rules.CreateZone(ctx, b.actor, tc.zone)
			var ve *apperr.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.field, ve.Field)
		})
	}

	help.Channels = append(help.Channels, 3)
	help.Multipliers["gold"] = 2
	_, err = b.rules.UpdateZone(ctx, b.actor, help)
	require.NoError(t, err)
	zs, err := b.rules.ListZones(ctx, b.guild)
	require.NoError(t, err)
	require.Len(t, zs, 1)
	require.Equal(t, []rules.Snowflake{1, 2, 3}, zs[0].Channels)
	require.Equal(t, 2.0, zs[0].Multiplier("gold"))
	require.Equal(t, 1.0, zs[0].Multiplier("stars"))

	require.NoError(t, b.rules.DeleteZone(ctx, b.actor, b.guild, help.ID))
	zs, err = b.rules.ListZones(ctx, b.guild)
	require.NoError(t, err)
	require.Empty(t, zs)
	require.Len(t, audit(t, b), 3)
}

// A zone that rules name can be neither deleted nor renamed: their
// channel_in_zone conditions would silently never match again.
func TestZoneNamedByRulesIsKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupStore(t)
	help, err := b.rules.CreateZone(ctx, b.actor, rules.Zone{GuildID: b.guild, Name: "help", Channels: []rules.Snowflake{1}})
	require.NoError(t, err)
	spare, err := b.rules.CreateZone(ctx, b.actor, rules.Zone{GuildID: b.guild, Name: "spare"})
	require.NoError(t, err)
	inHelp := func(name string) rules.Document {
		return doc(t, `{"name":"`+name+`","trigger":{"events":["message_create"]},
			"conditions":[{"type":"channel_in_zone","zones":["spare","help"]}],"effects":[{"type":"milestone_check"}]}`)
	}
	on, err := b.rules.CreateRule(ctx, b.actor, b.guild, inHelp("Help XP"))
	require.NoError(t, err)
	off, err := b.rules.CreateRule(ctx, b.actor, b.guild, inHelp("Help gold"))
	require.NoError(t, err)
	_, err = b.rules.SetRuleEnabled(ctx, b.actor, b.guild, off.ID, false)
	require.NoError(t, err)
	auditBefore := len(audit(t, b))

	err = b.rules.DeleteZone(ctx, b.actor, b.guild, help.ID)
	var inUse *rules.ZoneInUseError
	require.ErrorAs(t, err, &inUse)
	require.ErrorIs(t, err, apperr.ErrConflict)
	require.Equal(t, []rules.RuleRef{{ID: on.ID, Name: "Help XP"}, {ID: off.ID, Name: "Help gold"}}, inUse.Rules, "disabled rules count too")
	require.Contains(t, err.Error(), `cannot delete zone "help"`)
	require.Contains(t, err.Error(), `"Help gold"`)

	renamed := help
	renamed.Name = "support"
	_, err = b.rules.UpdateZone(ctx, b.actor, renamed)
	require.ErrorAs(t, err, &inUse)
	require.Equal(t, "rename", inUse.Action)
	zs, err := b.rules.ListZones(ctx, b.guild)
	require.NoError(t, err)
	require.Equal(t, "help", zs[0].Name, "nothing changed")
	require.Len(t, audit(t, b), auditBefore, "a refused change is not audited")

	// Changing its channels keeps the name: allowed.
	help.Channels = []rules.Snowflake{1, 2}
	_, err = b.rules.UpdateZone(ctx, b.actor, help)
	require.NoError(t, err)

	// Once no rule names it, it goes.
	require.NoError(t, b.rules.DeleteRule(ctx, b.actor, b.guild, off.ID))
	_, err = b.rules.UpdateRule(ctx, b.actor, b.guild, on.ID, doc(t, `{"name":"Spare XP","trigger":{"events":["message_create"]},
		"conditions":[{"type":"channel_in_zone","zones":["spare"]}],"effects":[{"type":"milestone_check"}]}`), 0)
	require.NoError(t, err)
	require.NoError(t, b.rules.DeleteZone(ctx, b.actor, b.guild, help.ID))
	err = b.rules.DeleteZone(ctx, b.actor, b.guild, spare.ID)
	require.ErrorAs(t, err, &inUse)
	require.Equal(t, []rules.RuleRef{{ID: on.ID, Name: "Spare XP"}}, inUse.Rules)
}

func TestInstallClassicIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupStore(t)

	// Without its currencies the preset is refused, and nothing is written:
	// its rules would fail at every event.
	_, err := b.rules.InstallPreset(ctx, b.actor, b.guild, rules.Classic())
	var missing *rules.MissingCurrenciesError
	require.ErrorAs(t, err, &missing)
	require.ErrorIs(t, err, apperr.ErrConflict)
	require.Equal(t, []string{"xp", "gold", "stars"}, missing.Currencies)
	require.Contains(t, err.Error(), "xp, gold, stars")
	zs, err := b.rules.ListZones(ctx, b.guild)
	require.NoError(t, err)
	require.Empty(t, zs)
	_, err = ledger.New(b.pg, testenv.Logger(t)).ForTenant(b.tenant).InstallPreset(ctx, b.actor, b.guild, ledger.PresetClassic)
	require.NoError(t, err)

	rep, err := b.rules.InstallPreset(ctx, b.actor, b.guild, rules.Classic())
	require.NoError(t, err)
	require.Len(t, rep.ZonesCreated, 4)
	require.Len(t, rep.RulesCreated, len(rules.Classic().Rules))

	// An operator tunes one rule; installing again keeps it.
	list, err := b.rules.ListRules(ctx, b.guild)
	require.NoError(t, err)
	tuned := list[0]
	tuned.Document.Priority = 999 - 1000
	_, err = b.rules.UpdateRule(ctx, b.actor, b.guild, tuned.ID, tuned.Document, 0)
	require.NoError(t, err)

	rep, err = b.rules.InstallPreset(ctx, b.actor, b.guild, rules.Classic())
	require.NoError(t, err)
	require.Empty(t, rep.ZonesCreated)
	require.Empty(t, rep.RulesCreated)
	require.Len(t, rep.RulesKept, len(rules.Classic().Rules))

	list, err = b.rules.ListRules(ctx, b.guild)
	require.NoError(t, err)
	require.Len(t, list, len(rules.Classic().Rules))
	got, err := b.rules.GetRule(ctx, b.guild, tuned.ID)
	require.NoError(t, err)
	require.Equal(t, -1, got.Priority)
	require.Equal(t, 2, got.Version)

	// What was installed compiles and runs.
	rs, zs, err := b.store.LoadGuild(ctx, b.tenant, b.guild)
	require.NoError(t, err)
	require.Len(t, zs, 4)
	var crs []*rules.CompiledRule
	for _, r := range rs {
		cr, err := b.compile.Compile(r)
		require.NoError(t, err)
		crs = append(crs, cr)
	}
	set := rules.NewRuleSet(b.tenant, b.guild, crs, zs)
	res := eval(t, engine(t, rules.StaticFacts{}, nil), set, msg(1, t0, 50))
	require.Len(t, res.Effects, 1)
	require.Equal(t, int64(10), res.Effects[0].(*rules.Credit).Amount)
}

func TestAutoDisableThroughTheStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupStore(t)
	broken, err := b.rules.CreateRule(ctx, b.actor, b.guild, doc(t, `{"name":"broken","trigger":{"events":["message_create"]},
		"effects":[{"type":"credit","currency":"xp","amount":"1.0 / wallet['gems']"}]}`))
	require.NoError(t, err)
	fine, err := b.rules.CreateRule(ctx, b.actor, b.guild, doc(t, xpRule))
	require.NoError(t, err)

	cache := rules.NewCache(b.store, b.compile, testenv.Logger(t))
	e := engine(t, rules.StaticFacts{}, func(o *rules.Options) { o.Disabler = b.store; o.FailureThreshold = 2; o.Logger = testenv.Logger(t) })
	for i := 0; i < 2; i++ {
		set, err := cache.Get(ctx, b.tenant, b.guild)
		require.NoError(t, err)
		res := eval(t, e, set, msg(1, t0.Add(0), 50))
		require.Len(t, res.Fired, 1, "the fine rule keeps firing")
		require.Equal(t, fine.ID, res.Fired[0].RuleID)
	}
	got, err := b.rules.GetRule(ctx, b.guild, broken.ID)
	require.NoError(t, err)
	require.False(t, got.Enabled)
	require.Contains(t, got.DisabledReason, "2 consecutive failures")
	es := audit(t, b)
	require.Equal(t, "rule.auto_disable", es[0].Action)
	require.Equal(t, "system", es[0].Actor)

	// Auto-disable of a rule an operator changed since is a no-op.
	require.NoError(t, b.store.AutoDisable(ctx, b.tenant, b.guild, fine.ID, 7, "stale"))
	got, err = b.rules.GetRule(ctx, b.guild, fine.ID)
	require.NoError(t, err)
	require.True(t, got.Enabled)
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }
