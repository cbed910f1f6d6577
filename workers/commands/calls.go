package commands

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/disgoorg/disgo/discord"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// call is one command invocation by one member of one guild.
type call struct {
	h      *Handler
	l      *ledger.Ledger
	m      *milestones.Milestones
	tenant int64
	guild  int64
	user   int64
	key    string // idempotency key: the interaction id
	data   discord.SlashCommandInteractionData
}

// term is what the guild calls one of Synapse's terms (its taxonomy), in
// the plural or the singular; the default if it cannot be read (a label
// is no reason to fail a command).
func (c call) term(ctx context.Context, term string, many bool) string {
	terms, err := c.h.tenants.ForTenant(c.tenant).Guilds().Taxonomy(ctx, c.guild)
	if err != nil {
		c.h.log.Warn("command: taxonomy", slog.Int64("guild_id", c.guild), slog.Any("err", err))
	}
	return tenants.TermLabel(terms, term, many)
}

// target is the member option, or the caller.
func (c call) target() int64 {
	if id, ok := c.data.OptSnowflake("member"); ok {
		return int64(id)
	}
	return c.user
}

func (c call) currency(ctx context.Context, required bool) (ledger.Currency, error) {
	code, ok := c.data.OptString("currency")
	if !ok || code == "" {
		if required {
			return ledger.Currency{}, apperr.Invalid("currency", "name one, e.g. gold")
		}
		cs, err := c.l.Currencies(ctx, c.guild) // primary first
		if err != nil || len(cs) == 0 {
			return ledger.Currency{}, ledger.ErrUnknownCurrency
		}
		return cs[0], nil
	}
	return c.l.CurrencyByCode(ctx, c.guild, strings.ToLower(strings.TrimSpace(code)))
}

func (c call) amount(cur ledger.Currency) (int64, error) {
	raw, _ := c.data.OptString("amount")
	n, err := cur.ParseAmount(raw)
	if err != nil {
		return 0, apperr.Invalid("amount", "%q is not an amount of %s", raw, cur.Name)
	}
	if n <= 0 {
		return 0, apperr.Invalid("amount", "must be more than zero")
	}
	return n, nil
}

func (c call) balance(ctx context.Context) (reply, error) {
	p, err := c.l.Profile(ctx, c.guild, c.target())
	if err != nil {
		return reply{}, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Balances of %s\n", mention(c.target()))
	for _, h := range p.Holdings {
		fmt.Fprintf(&b, "%s **%s**: %s (rank #%d)\n", h.Currency.Symbol, h.Currency.Name, h.Display, h.Rank)
	}
	return reply{content: b.String(), ephemeral: true}, nil
}

func (c call) profile(ctx context.Context) (reply, error) {
	p, err := c.l.Profile(ctx, c.guild, c.target())
	if err != nil {
		return reply{}, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**Profile of %s**\n", mention(c.target()))
	if h, ok := p.Primary(); ok && h.Level != nil {
		level := c.term(ctx, "level", false)
		fmt.Fprintf(&b, "%s %d  %s  %d/%d %s to %s %d (rank #%d)\n", level, h.Level.Level, bar(h.Level.Fraction, 12),
			h.Level.Into, h.Level.Needed, h.Currency.Name, strings.ToLower(level), h.Level.Level+1, h.Rank)
	}
	for _, h := range p.Holdings {
		fmt.Fprintf(&b, "%s %s: %s\n", h.Currency.Symbol, h.Currency.Name, h.Display)
	}
	return reply{content: b.String()}, nil
}

func (c call) leaderboard(ctx context.Context) (reply, error) {
	cur, err := c.currency(ctx, false)
	if err != nil {
		return reply{}, err
	}
	top, err := c.l.Leaderboard(ctx, c.guild, cur.ID, ledger.LeaderboardQuery{Limit: 10})
	if err != nil {
		return reply{}, err
	}
	if len(top) == 0 {
		return private("Nobody has any %s yet.", cur.Name), nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**%s %s %s**\n", cur.Symbol, cur.Name, strings.ToLower(c.term(ctx, "leaderboard", false)))
	for _, s := range top {
		fmt.Fprintf(&b, "%d. %s — %s\n", s.Rank, mention(s.UserID), cur.Format(s.Balance))
	}
	return reply{content: b.String()}, nil
}

func (c call) give(ctx context.Context) (reply, error) {
	cur, err := c.currency(ctx, true)
	if err != nil {
		return reply{}, err
	}
	to := c.target()
	if to == c.user {
		return private("You cannot give to yourself."), nil
	}
	n, err := c.amount(cur)
	if err != nil {
		return reply{}, err
	}
	if _, err := c.l.Transfer(ctx, ledger.Op{Kind: ledger.KindTransfer, Key: c.key, GuildID: c.guild, CurrencyID: cur.ID,
		From: c.user, To: to, Amount: n, Reason: "/give"}); err != nil {
		return reply{}, err
	}
	return reply{content: fmt.Sprintf("%s gave %s %s %s.", mention(c.user), mention(to), cur.Format(n), cur.Name)}, nil
}

func (c call) shop(ctx context.Context) (reply, error) {
	items, err := c.l.ShopItems(ctx, c.guild)
	if err != nil {
		return reply{}, err
	}
	if len(items) == 0 {
		return private("The shop is empty."), nil
	}
	cs, err := c.l.Currencies(ctx, c.guild)
	if err != nil {
		return reply{}, err
	}
	byID := map[int64]ledger.Currency{}
	for _, cur := range cs {
		byID[cur.ID] = cur
	}
	var b strings.Builder
	b.WriteString("**Shop** (buy with /buy item:<code>)\n")
	for _, it := range items {
		cur := byID[it.CurrencyID]
		fmt.Fprintf(&b, "`%s` %s — %s %s", it.Code, it.Name, cur.Format(it.Price), cur.Name)
		if it.Description != "" {
			fmt.Fprintf(&b, ": %s", it.Description)
		}
		b.WriteString("\n")
	}
	return reply{content: b.String(), ephemeral: true}, nil
}

func (c call) buy(ctx context.Context) (reply, error) {
	code, _ := c.data.OptString("item")
	p, err := c.l.Buy(ctx, c.guild, c.user, strings.ToLower(strings.TrimSpace(code)), c.key)
	if err != nil {
		return reply{}, err
	}
	return reply{content: fmt.Sprintf("%s bought %s.", mention(c.user), p.Item.Name)}, nil
}

func (c call) adjust(ctx context.Context, award bool) (reply, error) {
	cur, err := c.currency(ctx, true)
	if err != nil {
		return reply{}, err
	}
	n, err := c.amount(cur)
	if err != nil {
		return reply{}, err
	}
	reason, _ := c.data.OptString("reason")
	actor := tenants.Actor{ID: fmt.Sprint(c.user), RequestID: c.key}
	adj := ledger.Adjustment{Key: c.key, GuildID: c.guild, CurrencyID: cur.ID, UserID: c.target(), Amount: n, Reason: reason}
	verb := "awarded"
	if award {
		_, err = c.l.Award(ctx, actor, adj)
	} else {
		verb = "deducted"
		_, err = c.l.Deduct(ctx, actor, adj)
	}
	if err != nil {
		return reply{}, err
	}
	return reply{content: fmt.Sprintf("%s %s %s %s to %s.", mention(c.user), verb, cur.Format(n), cur.Name, mention(c.target()))}, nil
}
