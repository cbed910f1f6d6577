package ledger

import (
	"context"
	"fmt"
	"sort"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/engine/ledger/levels"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// Preset names.
const (
	PresetClassic   = "classic"
	PresetNonprofit = "nonprofit"
)

// Preset is a starting set of currencies and shop items.
type Preset struct {
	Name       string
	Currencies []Currency   // GuildID and ID are filled in on install
	Items      []PresetItem // priced in one of the preset's currencies
}

// PresetItem is a shop item whose currency is named by code.
type PresetItem struct {
	Code, Name, Description string
	CurrencyCode            string
	Price                   int64 // minor units of that currency
}

// Presets returns the built-in presets by name. Classic is the old bot's
// XP, Gold and Stars; nonprofit shows the ledger is not about XP: its
// primary currency is Volunteer Hours with two decimals.
func Presets() map[string]Preset {
	mee6 := levels.MEE6()
	hours := levels.Linear(1000) // a level every 10.00 hours
	return map[string]Preset{
		PresetClassic: {
			Name: PresetClassic,
			Currencies: []Currency{
				{Code: "xp", Name: "XP", Symbol: "✨", Primary: true, LevelCurve: &mee6},
				{Code: "gold", Name: "Gold", Symbol: "🪙", Transferable: true, Spendable: true},
				{Code: "stars", Name: "Stars", Symbol: "⭐", Transferable: true, Seasonal: true},
			},
			Items: []PresetItem{
				{Code: "coffee", Name: "Coffee", Description: "Buy the team a coffee (/buy-coffee)", CurrencyCode: "gold", Price: 50},
				{Code: "shoutout", Name: "Shout-out", Description: "A shout-out in the announcements channel", CurrencyCode: "gold", Price: 250},
				{Code: "custom-role", Name: "Custom role colour", Description: "Pick your role colour for a month", CurrencyCode: "gold", Price: 1000},
			},
		},
		PresetNonprofit: {
			Name: PresetNonprofit,
			Currencies: []Currency{
				{Code: "hours", Name: "Volunteer Hours", Symbol: "⏱️", Decimals: 2, Primary: true, LevelCurve: &hours},
				{Code: "kudos", Name: "Kudos", Symbol: "💐", Transferable: true, Spendable: true, Seasonal: true},
			},
			Items: []PresetItem{
				{Code: "coffee", Name: "Coffee", Description: "A coffee on the organisers (/buy-coffee)", CurrencyCode: "kudos", Price: 5},
				{Code: "thank-you-card", Name: "Thank-you card", Description: "A handwritten card from the team", CurrencyCode: "kudos", Price: 3},
			},
		},
	}
}

// PresetNames lists the built-in presets.
func PresetNames() []string {
	var names []string
	for n := range Presets() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// InstallPreset creates the preset's currencies and shop items in a guild,
// in one transaction, each creation audited. It is idempotent: a currency or
// item whose code already exists is left exactly as the operator has it,
// and a currency is made primary only if the guild has no primary yet.
func (l *Ledger) InstallPreset(ctx context.Context, actor tenants.Actor, guildID int64, name string) ([]Currency, error) {
	p, ok := Presets()[name]
	if !ok {
		return nil, apperr.Invalid("preset", "unknown preset %q (known: %v)", name, PresetNames())
	}
	var out []Currency
	err := l.db.Bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		out = nil
		var existing []Currency
		if err := tx.NewSelect().Model(&existing).Where("tenant_id = ? AND guild_id = ?", l.tenantID, guildID).
			For("UPDATE").Scan(ctx); err != nil {
			return fmt.Errorf("read currencies: %w", err)
		}
		byCode := map[string]Currency{}
		hasPrimary := false
		for _, c := range existing {
			byCode[c.Code] = c
			hasPrimary = hasPrimary || c.Primary
		}
		for _, c := range p.Currencies {
			if have, ok := byCode[c.Code]; ok {
				out = append(out, have)
				continue
			}
			c.TenantID, c.GuildID = l.tenantID, guildID
			c.Primary = c.Primary && !hasPrimary
			if err := l.createCurrency(ctx, tx, actor, &c); err != nil {
				return err
			}
			hasPrimary = hasPrimary || c.Primary
			byCode[c.Code] = c
			out = append(out, c)
		}
		for _, pi := range p.Items {
			exists, err := tx.NewSelect().Model((*ShopItem)(nil)).
				Where("tenant_id = ? AND guild_id = ? AND code = ?", l.tenantID, guildID, pi.Code).Exists(ctx)
			if err != nil {
				return fmt.Errorf("read shop item: %w", err)
			}
			if exists {
				continue
			}
			it := ShopItem{TenantID: l.tenantID, GuildID: guildID, Code: pi.Code, Name: pi.Name, Description: pi.Description,
				CurrencyID: byCode[pi.CurrencyCode].ID, Price: pi.Price, Active: true}
			if err := l.putShopItem(ctx, tx, actor, &it); err != nil {
				return fmt.Errorf("preset item %s: %w", pi.Code, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("install preset %s: %w", name, err)
	}
	return out, nil
}
