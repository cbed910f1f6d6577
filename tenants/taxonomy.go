package tenants

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/infra/apperr"
)

// Label is what a community calls one of Synapse's terms, in the
// singular and the plural ("Badge", "Badges" for achievement).
type Label struct {
	One  string `json:"one"`
	Many string `json:"many"`
}

// Term is one renameable term: its default and the guild's label.
type Term struct {
	Term    string `json:"term"`
	Default Label  `json:"default"`
	Label   Label  `json:"label"` // the default when the guild set none
}

// taxonomyTerms are the terms a community may rename, with their
// defaults, in the order the dashboard lists them.
var taxonomyTerms = []Term{
	{Term: "currency", Default: Label{"Currency", "Currencies"}},
	{Term: "achievement", Default: Label{"Achievement", "Achievements"}},
	{Term: "level", Default: Label{"Level", "Levels"}},
	{Term: "season", Default: Label{"Season", "Seasons"}},
	{Term: "leaderboard", Default: Label{"Leaderboard", "Leaderboards"}},
	{Term: "rule", Default: Label{"Rule", "Rules"}},
	{Term: "zone", Default: Label{"Zone", "Zones"}},
	{Term: "member", Default: Label{"Member", "Members"}},
}

// maxLabel bounds a label: it must fit a navigation entry and an embed title.
const maxLabel = 32

// Taxonomy returns every term with the guild's labels (settings.taxonomy).
func (s *GuildStore) Taxonomy(ctx context.Context, id int64) ([]Term, error) {
	g, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return taxonomyOf(g.Settings), nil
}

// TaxonomyOf reads a guild settings document's labels; anything malformed
// falls back to the default (labels are cosmetic: never an error).
func taxonomyOf(settings json.RawMessage) []Term {
	var doc struct {
		Taxonomy map[string]Label `json:"taxonomy"`
	}
	_ = json.Unmarshal(settings, &doc)
	out := make([]Term, len(taxonomyTerms))
	for i, t := range taxonomyTerms {
		t.Label = t.Default
		if l, ok := doc.Taxonomy[t.Term]; ok && validLabel(l.One) == nil && validLabel(l.Many) == nil {
			t.Label = l
		}
		out[i] = t
	}
	return out
}

// ValidateLabels checks labels as SetTaxonomy would, naming the field
// under prefix ("terms" there, "taxonomy" in a recipe).
func ValidateLabels(prefix string, labels map[string]Label) error {
	for term, l := range labels {
		if !slices.ContainsFunc(taxonomyTerms, func(t Term) bool { return t.Term == term }) {
			return apperr.Invalid(prefix+"."+term, "is not a term: use one of %s", strings.Join(termNames(), ", "))
		}
		if err := validLabel(strings.TrimSpace(l.One)); err != nil {
			return apperr.Invalid(prefix+"."+term+".one", "%v", err)
		}
		if err := validLabel(strings.TrimSpace(l.Many)); err != nil {
			return apperr.Invalid(prefix+"."+term+".many", "%v", err)
		}
	}
	return nil
}

// SetTaxonomy replaces the guild's labels (settings.taxonomy; other
// settings untouched), audited with the labels before and after. A term
// left out, or set to its default, has no label of its own.
func (s *GuildStore) SetTaxonomy(ctx context.Context, actor Actor, id int64, labels map[string]Label) ([]Term, error) {
	if err := ValidateLabels("terms", labels); err != nil {
		return nil, err
	}
	keep := map[string]Label{}
	for term, l := range labels {
		i := slices.IndexFunc(taxonomyTerms, func(t Term) bool { return t.Term == term })
		l.One, l.Many = strings.TrimSpace(l.One), strings.TrimSpace(l.Many)
		if l != taxonomyTerms[i].Default {
			keep[term] = l
		}
	}
	value, _ := json.Marshal(keep)
	var out []Term
	err := inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		var before Guild
		if err := tx.NewSelect().Model(&before).Where("tenant_id = ? AND id = ?", s.tenantID, id).For("UPDATE").Scan(ctx); err != nil {
			return notFound(err, "guild")
		}
		var settings string
		if err := tx.NewRaw(`UPDATE guilds SET settings = jsonb_set(settings, '{taxonomy}', ?::jsonb), updated_at = now()
			WHERE tenant_id = ? AND id = ? RETURNING settings`, string(value), s.tenantID, id).Scan(ctx, &settings); err != nil {
			return fmt.Errorf("set taxonomy: %w", err)
		}
		out = taxonomyOf(json.RawMessage(settings))
		b, _ := json.Marshal(labelsOf(taxonomyOf(before.Settings)))
		a, _ := json.Marshal(labelsOf(out))
		return (&AuditStore{db: tx, tenantID: s.tenantID}).Record(ctx, AuditEntry{GuildID: &id, Actor: actor.ID, RequestID: actor.RequestID,
			Action: "guild.taxonomy.update", Target: "guild:" + strconv.FormatInt(id, 10), Before: b, After: a})
	})
	return out, err
}

func labelsOf(terms []Term) map[string]Label {
	out := map[string]Label{}
	for _, t := range terms {
		out[t.Term] = t.Label
	}
	return out
}

func termNames() []string {
	out := make([]string, len(taxonomyTerms))
	for i, t := range taxonomyTerms {
		out[i] = t.Term
	}
	return out
}

// validLabel: 1 to 32 characters, printable, no markup Discord would
// render (a label lands in embeds and command replies).
func validLabel(s string) error {
	n := len([]rune(s))
	if n == 0 || n > maxLabel {
		return fmt.Errorf("must be 1 to %d characters", maxLabel)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || strings.ContainsRune("<>@#*_~`|\\", r) {
			return fmt.Errorf("must be plain text (no %q)", r)
		}
	}
	return nil
}

// TermLabel is a term's label in terms (as Taxonomy returns them), or its
// default when terms lack it.
func TermLabel(terms []Term, term string, many bool) string {
	pick := func(l Label) string {
		if many {
			return l.Many
		}
		return l.One
	}
	for _, t := range terms {
		if t.Term == term {
			return pick(t.Label)
		}
	}
	for _, t := range taxonomyTerms {
		if t.Term == term {
			return pick(t.Default)
		}
	}
	return term
}
