package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/api/auth"
	"github.com/synapsehq/synapse/billing"
	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/engine/recipes"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
)

func (s *Server) guildRules(c *gin.Context) (*rules.TenantStore, int64) {
	return s.eng.rules.ForTenant(c.GetInt64(ctxTenant)), c.GetInt64(ctxGuild)
}

func (s *Server) getRuleCatalog(c *gin.Context) {
	c.JSON(http.StatusOK, s.eng.registry.Catalog())
}

func (s *Server) listRules(c *gin.Context) {
	st, guildID := s.guildRules(c)
	rs, err := st.ListRules(c.Request.Context(), guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	if rs == nil {
		rs = []rules.Rule{}
	}
	c.JSON(http.StatusOK, gin.H{"items": rs})
}

func (s *Server) getRule(c *gin.Context) {
	id, ok := pathID(c, "rule")
	if !ok {
		return
	}
	st, guildID := s.guildRules(c)
	r, err := st.GetRule(c.Request.Context(), guildID, id)
	if err != nil {
		writeError(c, err)
		return
	}
	versions, err := st.RuleVersions(c.Request.Context(), guildID, id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"rule": r, "versions": versions})
}

// RuleRequest carries a rule document; version, on update, is the version
// the editor started from (optimistic locking: 409 if it moved on).
type RuleRequest struct {
	Document *rules.Document `json:"document"`
	Version  int             `json:"version"`
}

func (r RuleRequest) doc() (rules.Document, error) {
	if r.Document == nil {
		return rules.Document{}, apperr.Invalid("document", "is required")
	}
	return *r.Document, nil
}

// checkDocument validates a document against the guild: its zones and its
// currencies (a rule crediting a currency the guild lacks would fail at
// every event). The store checks zones again in its transaction.
func (s *Server) checkDocument(c *gin.Context, doc rules.Document) ([]rules.Zone, error) {
	ctx := c.Request.Context()
	st, guildID := s.guildRules(c)
	zones, err := st.ListZones(ctx, guildID)
	if err != nil {
		return nil, err
	}
	l, _ := s.guildLedger(c)
	cs, err := l.Currencies(ctx, guildID)
	if err != nil {
		return nil, err
	}
	codes := make([]string, len(cs))
	for i, cur := range cs {
		codes[i] = cur.Code
	}
	if err := s.eng.compiler.ValidateInGuild(doc, zones, codes); err != nil {
		return nil, documentError(err)
	}
	return zones, nil
}

// bindDocumentJSON reads a request that configures rules: one carrying a
// rule document, or a zone's body. Unlike bindJSON it refuses unknown
// fields anywhere, at their JSON path ("document.condtions", with the
// field probably meant), and names a mistyped value at its path too
// ("channels[1]", "multipliers.xp"): dropping a misspelt "conditions"
// would save a rule that pays on every event, a misspelt "multipliers" a
// zone that pays x1.
func bindDocumentJSON(c *gin.Context, dst any) bool {
	body, err := io.ReadAll(c.Request.Body)
	if err == nil {
		err = rules.DecodeStrict(body, dst)
	} else {
		err = apperr.Invalid("", "request body could not be read: %v", err)
	}
	if err != nil {
		writeError(c, err)
		return false
	}
	return true
}

// bindRule reads a RuleRequest and checks its document against the guild,
// answering the error itself when there is one.
func (s *Server) bindRule(c *gin.Context) (RuleRequest, bool) {
	var req RuleRequest
	if !bindDocumentJSON(c, &req) {
		return req, false
	}
	doc, err := req.doc()
	if err == nil {
		_, err = s.checkDocument(c, doc)
	}
	if err != nil {
		writeError(c, err)
		return req, false
	}
	return req, true
}

func (s *Server) createRule(c *gin.Context) {
	req, ok := s.bindRule(c)
	if !ok || !s.withinPlan(c, billing.Rules) {
		return
	}
	st, guildID := s.guildRules(c)
	r, err := st.CreateRule(c.Request.Context(), principalOf(c).actor(c), guildID, *req.Document)
	respond(c, http.StatusCreated, r, documentError(err))
}

func (s *Server) putRule(c *gin.Context) {
	id, ok := pathID(c, "rule")
	if !ok {
		return
	}
	req, ok := s.bindRule(c)
	if !ok {
		return
	}
	st, guildID := s.guildRules(c)
	r, err := st.UpdateRule(c.Request.Context(), principalOf(c).actor(c), guildID, id, *req.Document, req.Version)
	respond(c, http.StatusOK, r, documentError(err))
}

func (s *Server) deleteRule(c *gin.Context) {
	id, ok := pathID(c, "rule")
	if !ok {
		return
	}
	st, guildID := s.guildRules(c)
	respond(c, http.StatusNoContent, nil, st.DeleteRule(c.Request.Context(), principalOf(c).actor(c), guildID, id))
}

// EnabledRequest turns a rule on or off without a new version.
type EnabledRequest struct {
	Enabled *bool `json:"enabled"`
}

func (s *Server) putRuleEnabled(c *gin.Context) {
	id, ok := pathID(c, "rule")
	if !ok {
		return
	}
	var req EnabledRequest
	if !bindJSON(c, &req) {
		return
	}
	if req.Enabled == nil {
		writeError(c, apperr.Invalid("enabled", "is required (true or false)"))
		return
	}
	st, guildID := s.guildRules(c)
	r, err := st.SetRuleEnabled(c.Request.Context(), principalOf(c).actor(c), guildID, id, *req.Enabled)
	respond(c, http.StatusOK, r, err)
}

// DryRunRequest says which rule set to evaluate and on which events.
//
// Against picks the set:
//   - "draft" (the default): the document alone;
//   - "live": the guild's stored rules as the workers run them (enabled
//     ones), with no document;
//   - "live+draft": the stored rules plus the document, which replaces the
//     stored rule rule_id names (an edit tried among the rules it runs
//     with) or, without rule_id, is added to them.
//
// Without events the guild's latest events (up to sample, default 50) are
// replayed.
type DryRunRequest struct {
	Document *rules.Document   `json:"document"`
	Against  string            `json:"against"`
	RuleID   int64             `json:"rule_id,string"`
	Events   []rules.EventJSON `json:"events"`
	Sample   int               `json:"sample"`
}

// Dry run sets.
const (
	againstDraft     = "draft"
	againstLive      = "live"
	againstLiveDraft = "live+draft"
)

// maxDryRunEvents bounds a dry run's work per request.
const maxDryRunEvents = 500

// postDryRun evaluates a draft, the live rules, or both against events
// with no side effects and returns what each event would do, with a trace
// of each rule's decision.
func (s *Server) postDryRun(c *gin.Context) {
	var req DryRunRequest
	if !bindDocumentJSON(c, &req) {
		return
	}
	if req.Against == "" {
		req.Against = againstDraft
	}
	switch req.Against {
	case againstDraft, againstLiveDraft:
		if req.Document == nil {
			writeError(c, apperr.Invalid("document", "is required against %q", req.Against))
			return
		}
	case againstLive:
		if req.Document != nil {
			writeError(c, apperr.Invalid("document", "is not used against %q (use %q to add it)", againstLive, againstLiveDraft))
			return
		}
	default:
		writeError(c, apperr.Invalid("against", "must be %q, %q or %q", againstDraft, againstLive, againstLiveDraft))
		return
	}
	if req.RuleID != 0 && req.Against != againstLiveDraft {
		writeError(c, apperr.Invalid("rule_id", "only applies against %q", againstLiveDraft))
		return
	}
	if len(req.Events) > maxDryRunEvents || req.Sample < 0 || req.Sample > maxDryRunEvents {
		writeError(c, apperr.Invalid("events", "at most %d events per dry run", maxDryRunEvents))
		return
	}
	ctx := c.Request.Context()
	tenantID := c.GetInt64(ctxTenant)
	st, guildID := s.guildRules(c)
	set, leftOut, err := s.dryRunSet(c, st, req)
	if err != nil {
		writeError(c, err)
		return
	}
	events := make([]rules.Event, 0, len(req.Events))
	source := "pasted"
	now := time.Now().UTC()
	for i, j := range req.Events {
		if j.OccurredAt.IsZero() {
			j.OccurredAt = now // a pasted event happens now unless it says otherwise
		}
		ev, err := j.Event(tenantID, guildID)
		if err != nil {
			writeError(c, apperr.Invalid(fieldIndex("events", i), "%v", err))
			return
		}
		events = append(events, ev)
	}
	if len(events) == 0 {
		source = "recent"
		n := req.Sample
		if n == 0 {
			n = 50
		}
		recent, err := lake.NewStats(s.deps.DB.Pool, tenantID).Recent(ctx, guildID, n)
		if err != nil {
			writeError(c, err)
			return
		}
		for _, e := range recent {
			events = append(events, rules.FromLake(e))
		}
	}
	results, err := s.eng.dryRun.DryRun(ctx, set, events)
	if err != nil {
		writeError(c, err)
		return
	}
	fired := 0
	for _, r := range results {
		if len(r.Fired) > 0 {
			fired++
		}
	}
	out := gin.H{"against": req.Against, "source": source, "events": len(events), "fired": fired, "results": results}
	if len(leftOut) > 0 {
		out["left_out"] = leftOut // stored rules that no longer compile: the workers skip them too
	}
	c.JSON(http.StatusOK, out)
}

// dryRunSet builds the rule set a dry run evaluates (see DryRunRequest).
// The draft is compiled as an enabled rule: with rule_id it takes that
// rule's id and its next version, else id 0.
func (s *Server) dryRunSet(c *gin.Context, st *rules.TenantStore, req DryRunRequest) (*rules.RuleSet, []rules.RuleRef, error) {
	ctx := c.Request.Context()
	guildID := c.GetInt64(ctxGuild)
	var set *rules.RuleSet
	var leftOut []rules.RuleRef
	if req.Against != againstDraft {
		var err error
		if set, leftOut, err = st.LiveSet(ctx, guildID); err != nil {
			return nil, nil, err
		}
	}
	if req.Document == nil {
		return set, leftOut, nil
	}
	zones, err := s.checkDocument(c, *req.Document)
	if err != nil {
		return nil, nil, err
	}
	draft := rules.Rule{GuildID: guildID, Version: 1, Enabled: true, Name: req.Document.Name, Document: *req.Document}
	if req.RuleID != 0 {
		cur, err := st.GetRule(ctx, guildID, req.RuleID)
		if err != nil {
			return nil, nil, err
		}
		draft.ID, draft.Version = cur.ID, cur.Version+1
	}
	cr, err := s.eng.compiler.Compile(draft)
	if err != nil {
		return nil, nil, documentError(err)
	}
	if set == nil {
		return rules.NewRuleSet(c.GetInt64(ctxTenant), guildID, []*rules.CompiledRule{cr}, zones), nil, nil
	}
	return set.With(cr), leftOut, nil
}

// documentError prefixes a validation error's field with "document." so
// the editor can point at the offending part of what it sent.
func documentError(err error) error {
	var ve *apperr.ValidationError
	if errors.As(err, &ve) && ve.Field != "" {
		return apperr.Invalid("document."+ve.Field, "%s", ve.Message)
	}
	return err
}

func fieldIndex(name string, i int) string {
	return name + "[" + itoa(i) + "]"
}

func (s *Server) listZones(c *gin.Context) {
	st, guildID := s.guildRules(c)
	zs, err := st.ListZones(c.Request.Context(), guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	if zs == nil {
		zs = []rules.Zone{}
	}
	c.JSON(http.StatusOK, gin.H{"items": zs})
}

// ZoneRequest creates or replaces a zone.
type ZoneRequest struct {
	Name        string             `json:"name"`
	Channels    []rules.Snowflake  `json:"channels"`
	Multipliers map[string]float64 `json:"multipliers"`
}

func (r ZoneRequest) zone(guildID int64) rules.Zone {
	z := rules.Zone{GuildID: guildID, Name: r.Name, Channels: r.Channels, Multipliers: r.Multipliers}
	if z.Channels == nil {
		z.Channels = []rules.Snowflake{}
	}
	if z.Multipliers == nil {
		z.Multipliers = map[string]float64{}
	}
	return z
}

func (s *Server) createZone(c *gin.Context) {
	var req ZoneRequest
	if !bindDocumentJSON(c, &req) {
		return
	}
	st, guildID := s.guildRules(c)
	z, err := st.CreateZone(c.Request.Context(), principalOf(c).actor(c), req.zone(guildID))
	respond(c, http.StatusCreated, z, err)
}

func (s *Server) putZone(c *gin.Context) {
	id, ok := pathID(c, "zone")
	if !ok {
		return
	}
	var req ZoneRequest
	if !bindDocumentJSON(c, &req) {
		return
	}
	st, guildID := s.guildRules(c)
	z := req.zone(guildID)
	z.ID = id
	out, err := st.UpdateZone(c.Request.Context(), principalOf(c).actor(c), z)
	respond(c, http.StatusOK, out, err)
}

func (s *Server) deleteZone(c *gin.Context) {
	id, ok := pathID(c, "zone")
	if !ok {
		return
	}
	st, guildID := s.guildRules(c)
	respond(c, http.StatusNoContent, nil, st.DeleteZone(c.Request.Context(), principalOf(c).actor(c), guildID, id))
}

// BacktestRequest runs a draft rule over the guild's last days of history.
type BacktestRequest struct {
	Document *rules.Document `json:"document"`
	Days     int             `json:"days"`
}

// postBacktest queues a backtest; the workers run it and the caller polls
// GET backtests/:backtest for progress and the outcome.
func (s *Server) postBacktest(c *gin.Context) {
	var req BacktestRequest
	if !bindDocumentJSON(c, &req) {
		return
	}
	if req.Document == nil {
		writeError(c, apperr.Invalid("document", "is required"))
		return
	}
	if req.Days == 0 {
		req.Days = 30
	}
	if _, err := s.checkDocument(c, *req.Document); err != nil {
		writeError(c, err)
		return
	}
	run, err := s.eng.backtests.Start(c.Request.Context(), c.GetInt64(ctxTenant), c.GetInt64(ctxGuild), *req.Document, req.Days)
	respond(c, http.StatusAccepted, run, documentError(err))
}

func (s *Server) getBacktest(c *gin.Context) {
	run, err := s.eng.backtests.Get(c.Request.Context(), c.GetInt64(ctxTenant), c.GetInt64(ctxGuild), c.Param("backtest"))
	respond(c, http.StatusOK, run, err)
}

// PresetInstall says what installing a preset created; Changed is false
// when the guild had everything already.
type PresetInstall struct {
	Preset            string   `json:"preset"`
	Changed           bool     `json:"changed"`
	CurrenciesCreated []string `json:"currencies_created"`
	MilestonesCreated []string `json:"milestones_created"`
	ZonesCreated      []string `json:"zones_created"`
	RulesCreated      []string `json:"rules_created"`
	RulesKept         []string `json:"rules_kept"`
}

// postClassicPreset installs the Classic Gamification preset in one call:
// its currencies (XP, Gold, Stars) and milestones, then its zones and
// rules. Each step keeps what the guild has (by code, key or name) and
// audits what it creates, so a second call changes nothing and says so.
// The steps commit one by one (they belong to three stores): after a
// failure, calling again completes the install.
func (s *Server) postClassicPreset(c *gin.Context) {
	// Beyond the route's guild.rules, it writes currencies and milestones.
	if err := s.authorizeAlso(c, actWrite, objGuildEconomy, objGuildMilesto); err != nil {
		writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	actor := principalOf(c).actor(c)
	tenantID := c.GetInt64(ctxTenant)
	l, guildID := s.guildLedger(c)
	before, err := l.Currencies(ctx, guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	if err := s.classicFits(c, tenantID, guildID); err != nil {
		writeError(c, err)
		return
	}
	made, err := s.eng.milestones.ForTenant(tenantID).InstallClassic(ctx, actor, guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	after, err := l.Currencies(ctx, guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	st, _ := s.guildRules(c)
	rep, err := st.InstallPreset(ctx, actor, guildID, rules.Classic())
	if err != nil {
		writeError(c, err)
		return
	}
	out := PresetInstall{Preset: rules.ClassicKey, CurrenciesCreated: []string{}, MilestonesCreated: []string{},
		ZonesCreated: nonNil(rep.ZonesCreated), RulesCreated: nonNil(rep.RulesCreated), RulesKept: nonNil(rep.RulesKept)}
	had := map[string]bool{}
	for _, cur := range before {
		had[cur.Code] = true
	}
	for _, cur := range after {
		if !had[cur.Code] {
			out.CurrenciesCreated = append(out.CurrenciesCreated, cur.Code)
		}
	}
	for _, m := range made {
		out.MilestonesCreated = append(out.MilestonesCreated, m.Key)
	}
	out.Changed = len(out.CurrenciesCreated)+len(out.MilestonesCreated) > 0 || rep.Changed()
	c.JSON(http.StatusOK, out)
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// authorizeAlso checks permissions a handler needs beyond its route's, as
// authorize does: the token's scopes, then the caller's roles in the
// route's domains.
func (s *Server) authorizeAlso(c *gin.Context, act string, objs ...string) error {
	p := principalOf(c)
	doms, _, err := s.domains(c)
	if err != nil {
		return err
	}
	az, err := s.authz()
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if p.kind == kindToken && !scopesAllow(p.token.Scopes, obj, act) {
			return fmt.Errorf("token scopes do not cover %s:%s: %w", obj, act, apperr.ErrForbidden)
		}
		d, err := az.Check(p.subject(), doms, obj, act)
		if err != nil {
			return err
		}
		if d != auth.Allowed {
			return fmt.Errorf("this also needs %s:%s: %w", obj, act, apperr.ErrForbidden)
		}
	}
	return nil
}

// classicFits refuses (402) a Classic install the plan has no room for:
// what it would add (what the guild lacks of the preset) counts as it
// does for a recipe import.
func (s *Server) classicFits(c *gin.Context, tenantID, guildID int64) error {
	classic := recipes.FromPreset(rules.ClassicKey, ledger.Presets()[ledger.PresetClassic].Currencies, rules.Classic().Rules, milestones.Classic())
	p, err := s.eng.recipes.Preview(c.Request.Context(), tenantID, guildID, classic)
	if err != nil {
		return err
	}
	return s.withinPlanAdding(c.Request.Context(), tenantID, guildID, p)
}
