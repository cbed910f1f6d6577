package ledger

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

var itemCodeRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// ShopItem is something members buy with a spendable currency (/shop,
// /buy, /buy-coffee). Buying moves the price into the shop sink.
type ShopItem struct {
	bun.BaseModel `bun:"table:ledger_shop_items"`

	TenantID    int64     `bun:"tenant_id,pk" json:"-"`
	GuildID     int64     `bun:"guild_id,pk" json:"guild_id,string"`
	Code        string    `bun:"code,pk" json:"code"`
	Name        string    `bun:"name" json:"name"`
	Description string    `bun:"description" json:"description"`
	CurrencyID  int64     `bun:"currency_id" json:"currency_id,string"`
	Price       int64     `bun:"price" json:"price"`
	Active      bool      `bun:"active" json:"active"`
	CreatedAt   time.Time `bun:"created_at,nullzero,default:now()" json:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at,nullzero,default:now()" json:"updated_at"`
}

func (it *ShopItem) validate() error {
	switch {
	case !itemCodeRE.MatchString(it.Code):
		return apperr.Invalid("code", "must be 1 to 32 lowercase letters, digits, _ or -, starting with a letter")
	case it.Name == "" || len(it.Name) > 100:
		return apperr.Invalid("name", "must be 1 to 100 characters")
	case it.Price <= 0 || it.Price > MaxAmount:
		return apperr.Invalid("price", "must be positive")
	}
	return nil
}

// PutShopItem creates or replaces an item and puts it on sale, audited
// with before and after. The price currency must be one of the guild's
// spendable currencies.
func (l *Ledger) PutShopItem(ctx context.Context, actor tenants.Actor, it ShopItem) (ShopItem, error) {
	it.TenantID, it.Active = l.tenantID, true
	if err := it.validate(); err != nil {
		return ShopItem{}, err
	}
	err := l.db.Bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return l.putShopItem(ctx, tx, actor, &it)
	})
	return it, err
}

func (l *Ledger) putShopItem(ctx context.Context, tx bun.Tx, actor tenants.Actor, it *ShopItem) error {
	var c Currency
	if err := tx.NewSelect().Model(&c).Where("tenant_id = ? AND guild_id = ? AND id = ?", l.tenantID, it.GuildID, it.CurrencyID).Scan(ctx); err != nil {
		return lookupErr(err, ErrUnknownCurrency)
	}
	if !c.Spendable {
		return ErrNotSpendable
	}
	var before *ShopItem
	var old ShopItem
	err := tx.NewSelect().Model(&old).Where("tenant_id = ? AND guild_id = ? AND code = ?", l.tenantID, it.GuildID, it.Code).For("UPDATE").Scan(ctx)
	switch {
	case err == nil:
		before = &old
	case !isNoRows(err):
		return fmt.Errorf("read shop item: %w", err)
	}
	_, err = tx.NewInsert().Model(it).
		On("CONFLICT (tenant_id, guild_id, code) DO UPDATE").
		Set("name = EXCLUDED.name, description = EXCLUDED.description, currency_id = EXCLUDED.currency_id, price = EXCLUDED.price, active = EXCLUDED.active, updated_at = now()").
		Returning("*").Exec(ctx)
	if err != nil {
		return fmt.Errorf("write shop item: %w", err)
	}
	e := tenants.AuditEntry{GuildID: &it.GuildID, Actor: actor.ID, RequestID: actor.RequestID,
		Action: "ledger.shop.put", Target: "shop_item:" + it.Code, After: mustJSON(it)}
	if before != nil {
		e.Before = mustJSON(before)
	}
	return l.audit(tx).Record(ctx, e)
}

// ShopItems lists the items on sale in a guild, cheapest first.
func (l *Ledger) ShopItems(ctx context.Context, guildID int64) ([]ShopItem, error) {
	var items []ShopItem
	if err := l.db.Bun.NewSelect().Model(&items).Where("tenant_id = ? AND guild_id = ? AND active", l.tenantID, guildID).
		Order("price", "code").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list shop items: %w", err)
	}
	return items, nil
}

// ShopItem returns one item on sale; ErrUnknownItem if there is none.
func (l *Ledger) ShopItem(ctx context.Context, guildID int64, code string) (ShopItem, error) {
	var it ShopItem
	err := l.db.Bun.NewSelect().Model(&it).Where("tenant_id = ? AND guild_id = ? AND code = ? AND active", l.tenantID, guildID, code).Scan(ctx)
	return it, lookupErr(err, ErrUnknownItem)
}

// Purchase is what a Buy did.
type Purchase struct {
	Item   ShopItem `json:"item"`
	Result Result   `json:"result"`
}

// Buy spends an item's price from a member's wallet into the shop sink.
// Errors: ErrUnknownItem (no such item on sale), ErrNotSpendable (the price
// currency was made unspendable), ErrInsufficientFunds. key makes it
// idempotent (the interaction id); a retry after the price changed is an
// ErrIdempotencyConflict rather than a second charge.
func (l *Ledger) Buy(ctx context.Context, guildID, userID int64, code, key string) (Purchase, error) {
	it, err := l.ShopItem(ctx, guildID, code)
	if err != nil {
		return Purchase{}, err
	}
	res, err := l.Apply(ctx, Op{Kind: KindSpend, Key: key, GuildID: guildID, CurrencyID: it.CurrencyID, From: userID,
		Amount: it.Price, Reason: "bought " + it.Name, Source: "shop:" + it.Code, Actor: strconv.FormatInt(userID, 10)})
	if err != nil {
		return Purchase{}, fmt.Errorf("buy %s: %w", code, err)
	}
	return Purchase{Item: it, Result: res}, nil
}

// RemoveShopItem takes an item off sale (kept for history), audited.
func (l *Ledger) RemoveShopItem(ctx context.Context, actor tenants.Actor, guildID int64, code string) error {
	return l.db.Bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var before ShopItem
		if err := tx.NewSelect().Model(&before).Where("tenant_id = ? AND guild_id = ? AND code = ? AND active", l.tenantID, guildID, code).
			For("UPDATE").Scan(ctx); err != nil {
			return lookupErr(err, ErrUnknownItem)
		}
		after := before
		after.Active = false
		if _, err := tx.NewUpdate().Model(&after).Column("active").Set("updated_at = now()").
			Where("tenant_id = ? AND guild_id = ? AND code = ?", l.tenantID, guildID, code).Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("remove shop item: %w", err)
		}
		return l.audit(tx).Record(ctx, tenants.AuditEntry{GuildID: &guildID, Actor: actor.ID, RequestID: actor.RequestID,
			Action: "ledger.shop.remove", Target: "shop_item:" + code, Before: mustJSON(before), After: mustJSON(after)})
	})
}
