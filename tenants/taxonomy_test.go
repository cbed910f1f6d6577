package tenants_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

func labelOf(terms []tenants.Term, term string) tenants.Label {
	for _, t := range terms {
		if t.Term == term {
			return t.Label
		}
	}
	return tenants.Label{}
}

// A community renames achievements to badges: the label is kept in its
// settings beside the others (untouched), audited, and a bad label is
// refused with its field; a label equal to the default is not stored.
func TestTaxonomyRenamesTermsForOneGuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t).Bun
	tn := tenanttest.Tenant(ctx, t, db, nil)
	g := tenanttest.Guild(ctx, t, db, tn.ID, nil)
	other := tenanttest.Guild(ctx, t, db, tn.ID, nil)
	guilds := tenants.NewStore(db).ForTenant(tn.ID).Guilds()
	_, err := guilds.UpdateSettings(ctx, tenants.Actor{ID: "7"}, g.ID, json.RawMessage(`{"capture":{"retention_days":30}}`))
	require.NoError(t, err)

	terms, err := guilds.Taxonomy(ctx, g.ID)
	require.NoError(t, err)
	require.Equal(t, tenants.Label{One: "Achievement", Many: "Achievements"}, labelOf(terms, "achievement"))

	terms, err = guilds.SetTaxonomy(ctx, tenants.Actor{ID: "7"}, g.ID, map[string]tenants.Label{
		"achievement": {One: " Badge ", Many: "Badges"}, "currency": {One: "Currency", Many: "Currencies"}})
	require.NoError(t, err)
	require.Equal(t, tenants.Label{One: "Badge", Many: "Badges"}, labelOf(terms, "achievement"))
	got, err := guilds.Get(ctx, g.ID)
	require.NoError(t, err)
	require.JSONEq(t, `{"capture":{"retention_days":30},"taxonomy":{"achievement":{"one":"Badge","many":"Badges"}}}`, string(got.Settings))
	// A settings replacement that leaves taxonomy out keeps the labels.
	_, err = guilds.UpdateSettings(ctx, tenants.Actor{ID: "7"}, g.ID, json.RawMessage(`{"capture":{"retention_days":60}}`))
	require.NoError(t, err)
	terms, err = guilds.Taxonomy(ctx, g.ID)
	require.NoError(t, err)
	require.Equal(t, "Badges", labelOf(terms, "achievement").Many)
	terms, err = guilds.Taxonomy(ctx, other.ID)
	require.NoError(t, err)
	require.Equal(t, "Achievements", labelOf(terms, "achievement").Many, "another guild keeps the defaults")

	var ve *apperr.ValidationError
	_, err = guilds.SetTaxonomy(ctx, tenants.Actor{ID: "7"}, g.ID, map[string]tenants.Label{"wallet": {One: "Purse", Many: "Purses"}})
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "terms.wallet", ve.Field)
	_, err = guilds.SetTaxonomy(ctx, tenants.Actor{ID: "7"}, g.ID, map[string]tenants.Label{"level": {One: "@everyone", Many: "Ranks"}})
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "terms.level.one", ve.Field)
	_, err = guilds.SetTaxonomy(ctx, tenants.Actor{ID: "7"}, g.ID, map[string]tenants.Label{"level": {One: "Rank", Many: ""}})
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "terms.level.many", ve.Field)

	entries, err := tenants.NewStore(db).ForTenant(tn.ID).Audit().List(ctx, tenants.AuditFilter{GuildID: &g.ID, Limit: 10})
	require.NoError(t, err)
	i := slices.IndexFunc(entries, func(e tenants.AuditEntry) bool { return e.Action == "guild.taxonomy.update" })
	require.GreaterOrEqual(t, i, 0)
	var before, after map[string]tenants.Label
	require.NoError(t, json.Unmarshal(entries[i].Before, &before))
	require.NoError(t, json.Unmarshal(entries[i].After, &after))
	require.Equal(t, tenants.Label{One: "Achievement", Many: "Achievements"}, before["achievement"])
	require.Equal(t, tenants.Label{One: "Badge", Many: "Badges"}, after["achievement"])
}
