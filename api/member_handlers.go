package api

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/infra/apperr"
)

func (s *Server) listMembers(c *gin.Context) {
	limit, after, err := pageParams(c, "after")
	if err != nil {
		writeError(c, err)
		return
	}
	sc, guildID := s.guildScope(c)
	ms, err := sc.Members().Search(c.Request.Context(), guildID, c.Query("q"), after, limit)
	if err != nil {
		writeError(c, err)
		return
	}
	type item struct {
		UserID   string     `json:"user_id"`
		Name     string     `json:"name"`
		JoinedAt *time.Time `json:"joined_at"`
		LeftAt   *time.Time `json:"left_at"`
	}
	out := make([]item, len(ms))
	for i, m := range ms {
		out[i] = item{UserID: strconv.FormatInt(m.UserID, 10), Name: m.DisplayName, JoinedAt: m.JoinedAt, LeftAt: m.LeftAt}
	}
	var next *string
	if len(ms) == limit {
		n := strconv.FormatInt(ms[len(ms)-1].UserID, 10)
		next = &n
	}
	c.JSON(http.StatusOK, gin.H{"items": out, "next_after": next})
}

// memberAchievement is an earned milestone as a profile shows it.
type memberAchievement struct {
	Key       string    `json:"key"`
	Name      string    `json:"name"`
	Emoji     string    `json:"emoji,omitempty"`
	Rarity    string    `json:"rarity"`
	AwardedAt time.Time `json:"awarded_at"`
}

// getMember is a member's profile: wallets with rank and level, earned
// milestones, progress toward the rest and recent transactions. A user
// the guild never saw but who holds a wallet still has a profile.
func (s *Server) getMember(c *gin.Context) {
	ctx := c.Request.Context()
	userID, err := int64Param(c, "user")
	if err != nil {
		writeError(c, err)
		return
	}
	sc, guildID := s.guildScope(c)
	m, err := sc.Members().Get(ctx, guildID, userID)
	if err != nil && !errors.Is(err, apperr.ErrNotFound) {
		writeError(c, err)
		return
	}
	l, _ := s.guildLedger(c)
	prof, err := l.Profile(ctx, guildID, userID)
	if err != nil {
		writeError(c, err)
		return
	}
	if m.UserID == 0 && !holdsAnything(prof) {
		writeError(c, apperr.NotFound("member"))
		return
	}
	ms := s.eng.milestones.ForTenant(c.GetInt64(ctxTenant))
	progress, err := ms.Progress(ctx, guildID, userID)
	if err != nil {
		writeError(c, err)
		return
	}
	history, err := l.History(ctx, guildID, userID, ledger.HistoryQuery{Limit: 20})
	if err != nil {
		writeError(c, err)
		return
	}
	earned, pending := splitProgress(progress)
	awards, err := ms.Awards(ctx, guildID, userID)
	if err != nil {
		writeError(c, err)
		return
	}
	codes := map[int64]string{}
	for _, h := range prof.Holdings {
		codes[h.Currency.ID] = h.Currency.Code
	}
	type tx struct {
		ledger.Entry
		Currency string `json:"currency"`
	}
	txs := make([]tx, len(history))
	for i, e := range history {
		txs[i] = tx{Entry: e, Currency: codes[e.CurrencyID]}
	}
	c.JSON(http.StatusOK, gin.H{
		"user_id": strconv.FormatInt(userID, 10), "name": m.DisplayName, "joined_at": m.JoinedAt, "left_at": m.LeftAt,
		"wallets": prof.Holdings, "achievements": achievementsOf(earned, awards), "progress": pending, "transactions": txs,
	})
}

func holdsAnything(p ledger.Profile) bool {
	for _, h := range p.Holdings {
		if h.Wallet.Version > 0 {
			return true
		}
	}
	return false
}

// splitProgress separates earned milestones from those in progress, the
// closest to done first; hidden ones in progress stay hidden.
func splitProgress(ps []milestones.Progress) (earned, pending []milestones.Progress) {
	pending = []milestones.Progress{}
	for _, p := range ps {
		switch {
		case p.Earned:
			earned = append(earned, p)
		case !p.Hidden:
			pending = append(pending, p)
		}
	}
	sort.SliceStable(pending, func(i, j int) bool { return pending[i].Percent > pending[j].Percent })
	return earned, pending
}

func achievementsOf(earned []milestones.Progress, awards []milestones.Award) []memberAchievement {
	last := map[int64]time.Time{}
	for _, a := range awards {
		if a.RevokedAt == nil && a.AwardedAt.After(last[a.TemplateID]) {
			last[a.TemplateID] = a.AwardedAt
		}
	}
	out := make([]memberAchievement, 0, len(earned))
	for _, p := range earned {
		out = append(out, memberAchievement{Key: p.Key, Name: p.Name, Emoji: p.Emoji, Rarity: p.Rarity, AwardedAt: last[p.TemplateID]})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].AwardedAt.After(out[j].AwardedAt) })
	return out
}

// activityItem is one line of the activity feed: a posting to a member's
// wallet or a milestone award.
type activityItem struct {
	ID       string    `json:"id"` // "tx:<id>:<user>:<currency>" or "award:<id>"
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"` // the ledger kind, or "milestone"
	UserID   string    `json:"user_id"`
	Name     string    `json:"name"`
	Currency string    `json:"currency,omitempty"`
	Amount   int64     `json:"amount,omitempty"`
	Reason   string    `json:"reason"`
	Source   string    `json:"source,omitempty"`
	Rarity   string    `json:"rarity,omitempty"`
}

// getActivity merges the ledger journal and milestone awards, newest
// first. The cursor is a transaction id: the journal pages by id, and
// awards are taken down to the oldest journal entry of the page, so no
// award falls between two pages.
func (s *Server) getActivity(c *gin.Context) {
	ctx := c.Request.Context()
	limit, before, err := pageParams(c, "before")
	if err != nil {
		writeError(c, err)
		return
	}
	l, guildID := s.guildLedger(c)
	entries, err := l.Journal(ctx, guildID, ledger.JournalQuery{BeforeTxID: before, Limit: limit})
	if err != nil {
		writeError(c, err)
		return
	}
	ms := s.eng.milestones.ForTenant(c.GetInt64(ctxTenant))
	upper := time.Now().Add(time.Minute)
	if before > 0 {
		tx, err := l.Transaction(ctx, before)
		if err != nil {
			writeError(c, err)
			return
		}
		upper = tx.CreatedAt
	}
	awards, err := ms.RecentAwards(ctx, guildID, upper, limit)
	if err != nil {
		writeError(c, err)
		return
	}
	lastPage := len(entries) == 0 || countTx(entries) < limit
	var lower time.Time
	if !lastPage {
		lower = entries[len(entries)-1].CreatedAt
	}
	templates, err := ms.List(ctx, guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	byID := map[int64]milestones.Template{}
	for _, t := range templates {
		byID[t.ID] = t
	}
	cs, err := l.Currencies(ctx, guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	codes := map[int64]string{}
	for _, cur := range cs {
		codes[cur.ID] = cur.Code
	}

	items := make([]activityItem, 0, len(entries)+len(awards))
	userIDs := make([]int64, 0, len(entries)+len(awards))
	for _, e := range entries {
		items = append(items, activityItem{ID: "tx:" + strconv.FormatInt(e.TransactionID, 10) + ":" + strconv.FormatInt(e.UserID, 10) + ":" + strconv.FormatInt(e.CurrencyID, 10),
			At: e.CreatedAt, Kind: string(e.Kind), UserID: strconv.FormatInt(e.UserID, 10), Currency: codes[e.CurrencyID],
			Amount: e.Amount, Reason: e.Reason, Source: e.Source})
		userIDs = append(userIDs, e.UserID)
	}
	for _, a := range awards {
		if a.AwardedAt.Before(lower) {
			continue // belongs to a later page
		}
		t := byID[a.TemplateID]
		reason := t.Name
		if t.Emoji != "" {
			reason = t.Emoji + " " + t.Name
		}
		items = append(items, activityItem{ID: "award:" + strconv.FormatInt(a.ID, 10), At: a.AwardedAt, Kind: "milestone",
			UserID: strconv.FormatInt(a.UserID, 10), Reason: reason, Source: a.Source, Rarity: t.Rarity})
		userIDs = append(userIDs, a.UserID)
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].At.After(items[j].At) })
	sc, _ := s.guildScope(c)
	names, err := sc.Members().Names(ctx, guildID, userIDs)
	if err != nil {
		writeError(c, err)
		return
	}
	for i := range items {
		id, _ := strconv.ParseInt(items[i].UserID, 10, 64)
		items[i].Name = names[id]
	}
	var next *string
	if !lastPage {
		n := strconv.FormatInt(entries[len(entries)-1].TransactionID, 10)
		next = &n
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "next_before": next})
}

func countTx(es []ledger.JournalEntry) int {
	n := 0
	for i, e := range es {
		if i == 0 || es[i-1].TransactionID != e.TransactionID {
			n++
		}
	}
	return n
}
