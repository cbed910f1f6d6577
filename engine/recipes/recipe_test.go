package recipes_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/engine/recipes"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

func names(s recipes.Section) []int { return []int{len(s.Create), len(s.Same), len(s.Differs)} }

// engines are the stores a recipe goes through, over one test database.
type engines struct {
	db  *postgres.DB
	led *ledger.Service
	rs  *rules.Store
	ms  *milestones.Service
	svc *recipes.Service
}

func newEngines(t *testing.T) engines {
	t.Helper()
	db, log := testenv.DB(t), testenv.Logger(t)
	comp, err := rules.NewCompiler(rules.NewRegistry(), rules.CompilerOptions{})
	require.NoError(t, err)
	e := engines{db: db, led: ledger.New(db, log), rs: rules.NewStore(db.Bun, comp)}
	e.ms = milestones.New(db, e.led, log)
	e.svc = recipes.New(db.Bun, e.led, e.rs, e.ms)
	return e
}

// A configured guild exports to YAML; the recipe previews as all the same
// in its own guild, as all to create in an empty guild of another tenant,
// and applying it there makes the second guild configured like the first
// (and a second apply creates nothing).
func TestRecipeRoundTripsBetweenGuilds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngines(t)
	db, rs, ms, svc := e.db, e.rs, e.ms, e.svc
	actor := tenants.Actor{ID: "7"}

	ta, tb := tenanttest.Tenant(ctx, t, db.Bun, nil), tenanttest.Tenant(ctx, t, db.Bun, nil)
	ga, gb := tenanttest.Guild(ctx, t, db.Bun, ta.ID, nil), tenanttest.Guild(ctx, t, db.Bun, tb.ID, nil)
	_, err := ms.ForTenant(ta.ID).InstallClassic(ctx, actor, ga.ID)
	require.NoError(t, err)
	_, err = rs.ForTenant(ta.ID).InstallPreset(ctx, actor, ga.ID, rules.Classic())
	require.NoError(t, err)
	require.NoError(t, tenants.NewStore(db.Bun).ForTenant(ta.ID).Directory().UpsertChannel(ctx, tenants.Channel{GuildID: ga.ID, ID: 555, Name: "general"}))
	_, err = rs.ForTenant(ta.ID).CreateZone(ctx, actor, rules.Zone{GuildID: ga.ID, Name: "Help desk", Channels: []rules.Snowflake{555},
		Multipliers: map[string]float64{"*": 2}})
	require.NoError(t, err)
	keyless := rules.Document{Name: "Long posts", Trigger: rules.Trigger{Events: []string{"message_create"}},
		Effects: []rules.EffectSpec{{Type: "credit", Params: []byte(`{"currency":"xp","amount":"25"}`)}}}
	_, err = rs.ForTenant(ta.ID).CreateRule(ctx, actor, ga.ID, keyless)
	require.NoError(t, err)

	_, err = tenants.NewStore(db.Bun).ForTenant(ta.ID).Guilds().SetTaxonomy(ctx, actor, ga.ID, map[string]tenants.Label{"achievement": {One: "Badge", Many: "Badges"}})
	require.NoError(t, err)

	exported, err := svc.Export(ctx, ta.ID, ga.ID, "Our setup")
	require.NoError(t, err)
	doc, err := recipes.Encode(exported, "yaml")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(doc), "synapse_recipe: 1"), string(doc[:40]))
	r, err := recipes.Decode(doc)
	require.NoError(t, err)
	require.Len(t, r.Currencies, 3)
	require.Equal(t, map[string]tenants.Label{"achievement": {One: "Badge", Many: "Badges"}}, r.Taxonomy, "only what the guild renamed")
	require.NotEmpty(t, r.Milestones)

	own, err := svc.Preview(ctx, ta.ID, ga.ID, r)
	require.NoError(t, err)
	for _, s := range []recipes.Section{own.Currencies, own.Zones, own.Rules, own.Milestones} {
		require.Empty(t, s.Create, "%+v", own)
		require.Empty(t, s.Differs, "%+v", own)
	}
	require.Contains(t, own.Rules.Same, "long-posts", "the keyless rule comes back by its name")

	other, err := svc.Preview(ctx, tb.ID, gb.ID, r)
	require.NoError(t, err)
	require.Equal(t, []int{len(r.Currencies), 0, 0}, names(other.Currencies))
	require.Equal(t, []int{len(r.Rules), 0, 0}, names(other.Rules))
	require.Equal(t, []int{len(r.Milestones), 0, 0}, names(other.Milestones))
	require.Contains(t, strings.Join(other.Warnings, "\n"), "channel 555 is not a channel of this server")
	require.Equal(t, []string{"achievement"}, other.Taxonomy.Create)

	applied, err := svc.Apply(ctx, actor, tb.ID, gb.ID, r)
	require.NoError(t, err)
	require.True(t, applied.Applied)
	after, err := svc.Preview(ctx, tb.ID, gb.ID, r)
	require.NoError(t, err)
	require.Equal(t, []int{0, len(r.Currencies), 0}, names(after.Currencies))
	require.Equal(t, []int{0, len(r.Rules), 0}, names(after.Rules), "%+v", after.Rules)
	require.Equal(t, []int{0, len(r.Milestones), 0}, names(after.Milestones), "%+v", after.Milestones)
	require.Equal(t, []int{0, len(r.Zones) - 1, 1}, names(after.Zones), "the help desk came without the other server's channel")
	require.Equal(t, []int{0, 1, 0}, names(after.Taxonomy))

	again, err := svc.Apply(ctx, actor, tb.ID, gb.ID, r)
	require.NoError(t, err)
	c, ru, m := again.Counts()
	require.Zero(t, c+ru+m, "a second apply creates nothing")
	var applies int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE tenant_id = $1 AND action = 'recipe.applied'`, tb.ID).Scan(&applies))
	require.Equal(t, 2, applies)
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE tenant_id = $1 AND action = 'recipe.applied'`, ta.ID).Scan(&applies))
	require.Zero(t, applies, "tenant A was only read")
}

// A recipe with a typo, a future format or a key twice is refused with
// the field at fault, before anything is compared.
func TestRecipeDecodeRefusesWhatItCannotApply(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ doc, field string }{
		{"synapse_recipe: 1\nname: x\ncurrencys: []\n", "recipe"},
		{`{"synapse_recipe": 2, "name": "x"}`, "synapse_recipe"},
		{"synapse_recipe: 1\nname: x\ncurrencies:\n  - {code: xp, name: XP}\n  - {code: xp, name: Again}\n", "currencies[1].code"},
		{"synapse_recipe: 1\nname: x\nrules:\n  - {name: no key, trigger: {events: [message_create]}, effects: []}\n", "rules[0].key"},
		{"   ", "recipe"},
	} {
		_, err := recipes.Decode([]byte(tc.doc))
		var ve *apperr.ValidationError
		require.ErrorAs(t, err, &ve, tc.doc)
		require.Equal(t, tc.field, ve.Field, tc.doc)
	}
}

// An item the guild would refuse is found by the preview, at its place in
// the recipe, and an apply writes nothing of the recipe then (not even the
// currencies, which are created first).
func TestRecipeRefusedItemStopsTheWholeImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngines(t)
	db, led, svc := e.db, e.led, e.svc
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tn.ID, nil)
	r, err := recipes.Decode([]byte("synapse_recipe: 1\nname: x\ncurrencies:\n  - {code: gems, name: Gems}\nzones:\n  - {name: ok}\n  - {name: greedy, multipliers: {gems: 500}}\n"))
	require.NoError(t, err)

	var ve *apperr.ValidationError
	_, err = svc.Preview(ctx, tn.ID, g.ID, r)
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "zones[1].multipliers.gems", ve.Field)
	_, err = svc.Apply(ctx, tenants.Actor{ID: "7"}, tn.ID, g.ID, r)
	require.ErrorAs(t, err, &ve)
	cs, err := led.ForTenant(tn.ID).Currencies(ctx, g.ID)
	require.NoError(t, err)
	require.Empty(t, cs, "nothing of the recipe was written")

	for doc, field := range map[string]string{
		"synapse_recipe: 1\nname: x\ntaxonomy:\n  level: {one: '@here', many: Ranks}\n": "taxonomy.level.one",
		"synapse_recipe: 1\nname: x\nmilestones:\n  - {key: rich, name: Rich, rarity: rare, scope: lifetime, requirement: {type: events, event: message_create, min: 1}, rewards: [{type: currency, currency: diamonds, amount: 5}]}\n": "milestones[0].rewards[0].currency",
	} {
		r, err := recipes.Decode([]byte(doc))
		require.NoError(t, err)
		_, err = svc.Preview(ctx, tn.ID, g.ID, r)
		require.ErrorAs(t, err, &ve, doc)
		require.Equal(t, field, ve.Field)
	}
}
