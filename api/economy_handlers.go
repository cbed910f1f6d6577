package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/billing"
	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/ledger/levels"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// guildLedger is the ledger of the tenant of the guild the authorization
// middleware resolved.
func (s *Server) guildLedger(c *gin.Context) (*ledger.Ledger, int64) {
	return s.eng.ledger.ForTenant(c.GetInt64(ctxTenant)), c.GetInt64(ctxGuild)
}

// currencyParam resolves a currency by code (XP) from the path or query;
// an empty code is the guild's primary currency.
func currencyParam(ctx context.Context, l *ledger.Ledger, guildID int64, code string) (ledger.Currency, error) {
	if code != "" {
		return l.CurrencyByCode(ctx, guildID, code)
	}
	cs, err := l.Currencies(ctx, guildID)
	if err != nil {
		return ledger.Currency{}, err
	}
	for _, cur := range cs {
		if cur.Primary {
			return cur, nil
		}
	}
	if len(cs) > 0 {
		return cs[0], nil
	}
	return ledger.Currency{}, apperr.NotFound("currency")
}

func int64Param(c *gin.Context, name string) (int64, error) {
	raw := c.Param(name)
	if raw == "" {
		raw = c.Query(name)
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n <= 0 {
		return 0, apperr.Invalid(name, "must be a positive id")
	}
	return n, nil
}

func intQuery(c *gin.Context, name string, def, lo, hi int) (int, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, apperr.Invalid(name, "must be %d to %d", lo, hi)
	}
	return n, nil
}

// namedStanding is a leaderboard row with the member's display name.
type namedStanding struct {
	ledger.Standing
	Name string `json:"name"`
}

func nameStandings(ctx context.Context, sc *tenants.Scope, guildID int64, rows []ledger.Standing) ([]namedStanding, error) {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.UserID
	}
	names, err := sc.Members().Names(ctx, guildID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]namedStanding, len(rows))
	for i, r := range rows {
		out[i] = namedStanding{Standing: r, Name: names[r.UserID]}
	}
	return out, nil
}

func (s *Server) getLeaderboard(c *gin.Context) {
	limit, err := intQuery(c, "limit", 25, 1, 100)
	if err != nil {
		writeError(c, err)
		return
	}
	offset, err := intQuery(c, "offset", 0, 0, ledger.MaxLeaderboardOffset)
	if err != nil {
		writeError(c, err)
		return
	}
	var seasonID int64
	if c.Query("season") != "" {
		if seasonID, err = int64Param(c, "season"); err != nil {
			writeError(c, err)
			return
		}
	}
	l, guildID := s.guildLedger(c)
	sc, _ := s.guildScope(c)
	code := c.Query("currency")
	// A page is the same for every caller allowed into this guild (the
	// middleware checked this one), so it is served from a one-second
	// cache, and one request per page renders it when it expires while the
	// others wait for that one: a busy board costs one set of queries per
	// second and page.
	key := fmt.Sprintf("%d|%s|%d|%d|%d", guildID, code, seasonID, limit, offset)
	page, ok := s.boards.get(key)
	if !ok {
		v, err, _ := s.boardRender.Do(key, func() (any, error) {
			// Not the first caller's context: its cancellation must not fail the others.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 10*time.Second)
			defer cancel()
			page, err := s.renderLeaderboard(ctx, l, sc, guildID, code, seasonID, limit, offset)
			if err == nil {
				s.boards.put(key, page)
			}
			return page, err
		})
		if err != nil {
			writeError(c, err)
			return
		}
		page = v.([]byte)
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", page)
}

// renderLeaderboard reads and encodes one leaderboard page.
func (s *Server) renderLeaderboard(ctx context.Context, l *ledger.Ledger, sc *tenants.Scope, guildID int64, code string, seasonID int64, limit, offset int) ([]byte, error) {
	cur, err := currencyParam(ctx, l, guildID, code)
	if err != nil {
		return nil, err
	}
	var season *ledger.Season
	if seasonID != 0 {
		seasons, err := l.Seasons(ctx, guildID)
		if err != nil {
			return nil, err
		}
		for i := range seasons {
			if seasons[i].ID == seasonID {
				season = &seasons[i]
			}
		}
		if season == nil {
			return nil, ledger.ErrUnknownSeason
		}
	}
	rows, err := l.BoardOf(ctx, cur, ledger.LeaderboardQuery{Limit: limit, Offset: offset, SeasonID: seasonID})
	if err != nil {
		return nil, err
	}
	items, err := nameStandings(ctx, sc, guildID, rows)
	if err != nil {
		return nil, err
	}
	var next *int
	if len(items) == limit && offset+limit <= ledger.MaxLeaderboardOffset {
		n := offset + limit
		next = &n
	}
	return json.Marshal(gin.H{"currency": cur, "season": season, "items": items, "next_offset": next})
}

func (s *Server) getSeasons(c *gin.Context) {
	l, guildID := s.guildLedger(c)
	seasons, err := l.Seasons(c.Request.Context(), guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	if seasons == nil {
		seasons = []ledger.Season{}
	}
	c.JSON(http.StatusOK, gin.H{"items": seasons})
}

// currencySupply is a currency with what its members hold.
type currencySupply struct {
	ledger.Currency
	Issued  int64 `json:"issued"`
	Holders int64 `json:"holders"`
}

// currenciesWithSupply lists a guild's currencies with their supply.
func currenciesWithSupply(ctx context.Context, l *ledger.Ledger, guildID int64) ([]currencySupply, error) {
	cs, err := l.Currencies(ctx, guildID)
	if err != nil {
		return nil, err
	}
	supplies, err := l.Supplies(ctx, guildID)
	if err != nil {
		return nil, err
	}
	out := make([]currencySupply, len(cs))
	for i, cur := range cs {
		out[i] = currencySupply{Currency: cur, Issued: supplies[cur.ID].Issued, Holders: supplies[cur.ID].Holders}
	}
	return out, nil
}

func (s *Server) listCurrencies(c *gin.Context) {
	l, guildID := s.guildLedger(c)
	out, err := currenciesWithSupply(c.Request.Context(), l, guildID)
	respond(c, http.StatusOK, gin.H{"items": out}, err)
}

// CurrencyRequest creates a currency, or (PATCH) changes the fields it
// names; code and decimals are fixed at creation.
type CurrencyRequest struct {
	Code          string          `json:"code"`
	Name          *string         `json:"name"`
	Symbol        *string         `json:"symbol"`
	Decimals      int16           `json:"decimals"`
	Transferable  *bool           `json:"transferable"`
	Spendable     *bool           `json:"spendable"`
	AllowNegative *bool           `json:"allow_negative"`
	Seasonal      *bool           `json:"seasonal"`
	Primary       *bool           `json:"primary"`
	LevelCurve    json.RawMessage `json:"level_curve"` // a curve, or null to remove levels (PATCH)
}

func (r CurrencyRequest) curve() (**levels.Curve, error) {
	if len(r.LevelCurve) == 0 {
		return nil, nil
	}
	var cv *levels.Curve
	if err := json.Unmarshal(r.LevelCurve, &cv); err != nil {
		return nil, apperr.Invalid("level_curve", "must be a curve object ({kind, coeffs}) or null")
	}
	return &cv, nil
}

// bindJSON decodes a request body. A value of the wrong type is reported
// at its path ("requirement.min"), as encoding/json names it; routes that
// take rule documents use the stricter bindDocumentJSON.
func bindJSON(c *gin.Context, dst any) bool {
	err := json.NewDecoder(c.Request.Body).Decode(dst)
	if err == nil {
		return true
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		want := "of another type"
		switch te.Type.Kind() {
		case reflect.String:
			want = "a string"
		case reflect.Bool:
			want = "a boolean"
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			want = "an integer"
		case reflect.Float32, reflect.Float64:
			want = "a number"
		case reflect.Slice, reflect.Array:
			want = "a list"
		case reflect.Map, reflect.Struct:
			want = "an object"
		}
		writeError(c, apperr.Invalid(te.Field, "must be %s", want))
		return false
	}
	writeError(c, apperr.Invalid("", "request body must be valid JSON for this route: %v", err))
	return false
}

func (s *Server) createCurrency(c *gin.Context) {
	var req CurrencyRequest
	if !bindJSON(c, &req) {
		return
	}
	curve, err := req.curve()
	if err != nil {
		writeError(c, err)
		return
	}
	if !s.withinPlan(c, billing.Currencies) {
		return
	}
	l, guildID := s.guildLedger(c)
	cur := ledger.Currency{GuildID: guildID, Code: req.Code, Decimals: req.Decimals,
		Transferable: true, Spendable: true}
	setIf(&cur.Name, req.Name)
	setIf(&cur.Symbol, req.Symbol)
	setIf(&cur.Transferable, req.Transferable)
	setIf(&cur.Spendable, req.Spendable)
	setIf(&cur.AllowNegative, req.AllowNegative)
	setIf(&cur.Seasonal, req.Seasonal)
	setIf(&cur.Primary, req.Primary)
	if curve != nil {
		cur.LevelCurve = *curve
	}
	out, err := l.CreateCurrency(c.Request.Context(), principalOf(c).actor(c), cur)
	respond(c, http.StatusCreated, out, err)
}

func (s *Server) patchCurrency(c *gin.Context) {
	var req CurrencyRequest
	if !bindJSON(c, &req) {
		return
	}
	curve, err := req.curve()
	if err != nil {
		writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	l, guildID := s.guildLedger(c)
	cur, err := l.CurrencyByCode(ctx, guildID, c.Param("currency"))
	if err != nil {
		writeError(c, err)
		return
	}
	out, err := l.UpdateCurrency(ctx, principalOf(c).actor(c), guildID, cur.ID, ledger.CurrencyPatch{
		Name: req.Name, Symbol: req.Symbol, Transferable: req.Transferable, Spendable: req.Spendable,
		AllowNegative: req.AllowNegative, Seasonal: req.Seasonal, Primary: req.Primary, LevelCurve: curve})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// AwardRequest is a manual award (amount > 0) or deduction (amount < 0).
type AwardRequest struct {
	UserID   string `json:"user_id"`
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
	Reason   string `json:"reason"`
}

// postAward credits or debits a member on an admin's or moderator's say,
// audited by the ledger. The Idempotency-Key header (default: the request
// id) makes a retried request pay once.
func (s *Server) postAward(c *gin.Context) {
	var req AwardRequest
	if !bindJSON(c, &req) {
		return
	}
	userID, err := strconv.ParseInt(req.UserID, 10, 64)
	if err != nil || userID <= 0 {
		writeError(c, apperr.Invalid("user_id", "must be a Discord user id"))
		return
	}
	if req.Amount == 0 {
		writeError(c, apperr.Invalid("amount", "must not be zero: positive awards, negative deducts"))
		return
	}
	if req.Reason = strings.TrimSpace(req.Reason); req.Reason == "" || len(req.Reason) > 200 {
		writeError(c, apperr.Invalid("reason", "must be 1 to 200 characters: members see it in their history"))
		return
	}
	ctx := c.Request.Context()
	l, guildID := s.guildLedger(c)
	cur, err := l.CurrencyByCode(ctx, guildID, req.Currency)
	if err != nil {
		writeError(c, apperr.Invalid("currency", "no currency %q in this guild", req.Currency))
		return
	}
	key := c.GetHeader("Idempotency-Key")
	if key == "" || len(key) > 100 {
		key = requestIDOf(c)
	}
	adj := ledger.Adjustment{Key: "api:" + key, GuildID: guildID, CurrencyID: cur.ID, UserID: userID, Amount: req.Amount, Reason: req.Reason}
	var res ledger.Result
	if req.Amount > 0 {
		res, err = l.Award(ctx, principalOf(c).actor(c), adj)
	} else {
		adj.Amount = -req.Amount
		res, err = l.Deduct(ctx, principalOf(c).actor(c), adj)
	}
	if err != nil {
		writeError(c, err)
		return
	}
	w, err := l.Balance(ctx, guildID, cur.ID, userID)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"transaction_id": strconv.FormatInt(res.TransactionID, 10), "replayed": res.Replayed,
		"currency": cur.Code, "balance": w.Balance})
}
