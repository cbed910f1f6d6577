package ledger

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/engine/ledger/levels"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// MaxCurrenciesPerGuild keeps leaderboards, profiles and the dashboard
// readable; more is a plan question, answered with ErrLimitExceeded.
const MaxCurrenciesPerGuild = 20

// MaxDecimals is the finest fixed-point precision a currency may have.
const MaxDecimals = 4

var codeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// Currency is one unit of value a guild defines (XP, Gold, Volunteer
// Hours…). Amounts are int64 minor units; Decimals only says how to show
// them (Decimals 2: 1250 is "12.50").
type Currency struct {
	bun.BaseModel `bun:"table:ledger_currencies"`

	TenantID      int64         `bun:"tenant_id,pk" json:"-"`
	GuildID       int64         `bun:"guild_id,pk" json:"guild_id,string"`
	ID            int64         `bun:"id,pk,autoincrement" json:"id,string"`
	Code          string        `bun:"code" json:"code"`
	Name          string        `bun:"name" json:"name"`
	Symbol        string        `bun:"symbol" json:"symbol"`
	Decimals      int16         `bun:"decimals" json:"decimals"`
	Transferable  bool          `bun:"transferable" json:"transferable"`
	Spendable     bool          `bun:"spendable" json:"spendable"`
	AllowNegative bool          `bun:"allow_negative" json:"allow_negative"`
	Seasonal      bool          `bun:"seasonal" json:"seasonal"`
	Primary       bool          `bun:"is_primary" json:"primary"`
	LevelCurve    *levels.Curve `bun:"level_curve,type:jsonb" json:"level_curve,omitempty"`
	CreatedAt     time.Time     `bun:"created_at,nullzero,default:now()" json:"created_at"`
	UpdatedAt     time.Time     `bun:"updated_at,nullzero,default:now()" json:"updated_at"`
}

func (c *Currency) validate() error {
	switch {
	case !codeRE.MatchString(c.Code):
		return apperr.Invalid("code", "must be 1 to 32 lowercase letters, digits or _, starting with a letter")
	case c.Name == "" || len(c.Name) > 64:
		return apperr.Invalid("name", "must be 1 to 64 characters")
	case len(c.Symbol) > 64:
		return apperr.Invalid("symbol", "must be at most 64 bytes")
	case c.Decimals < 0 || c.Decimals > MaxDecimals:
		return apperr.Invalid("decimals", "must be 0 to %d", MaxDecimals)
	}
	if c.LevelCurve != nil {
		if err := c.LevelCurve.Validate(); err != nil {
			return apperr.Invalid("level_curve", "%s", err.Error())
		}
	}
	return nil
}

func (c *Currency) target() string { return "currency:" + strconv.FormatInt(c.ID, 10) }

// Level is the level and progress a balance reaches, or nil when the
// currency has no level curve.
func (c *Currency) Level(balance int64) *levels.Progress {
	if c.LevelCurve == nil {
		return nil
	}
	p := c.LevelCurve.At(balance)
	return &p
}

// CreateCurrency adds a currency to one of this tenant's guilds, audited.
// Making it primary demotes the guild's previous primary currency.
func (l *Ledger) CreateCurrency(ctx context.Context, actor tenants.Actor, c Currency) (Currency, error) {
	c.TenantID, c.ID = l.tenantID, 0
	if err := c.validate(); err != nil {
		return Currency{}, err
	}
	err := l.db.Bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return l.createCurrency(ctx, tx, actor, &c)
	})
	return c, err
}

func (l *Ledger) createCurrency(ctx context.Context, tx bun.Tx, actor tenants.Actor, c *Currency) error {
	n, err := tx.NewSelect().Model((*Currency)(nil)).Where("tenant_id = ? AND guild_id = ?", l.tenantID, c.GuildID).Count(ctx)
	if err != nil {
		return fmt.Errorf("count currencies: %w", err)
	}
	if n >= MaxCurrenciesPerGuild {
		return fmt.Errorf("at most %d currencies per guild: %w", MaxCurrenciesPerGuild, apperr.ErrLimitExceeded)
	}
	if c.Primary {
		if err := l.demotePrimary(ctx, tx, c.GuildID); err != nil {
			return err
		}
	}
	if _, err := tx.NewInsert().Model(c).Returning("*").Exec(ctx); err != nil {
		return currencyWriteErr(err)
	}
	return l.audit(tx).Record(ctx, tenants.AuditEntry{
		GuildID: &c.GuildID, Actor: actor.ID, RequestID: actor.RequestID,
		Action: "ledger.currency.create", Target: c.target(), After: mustJSON(c),
	})
}

// CurrencyPatch lists the fields an update changes; nil leaves a field as
// it is. Code and Decimals never change: existing amounts depend on them.
type CurrencyPatch struct {
	Name          *string
	Symbol        *string
	Transferable  *bool
	Spendable     *bool
	AllowNegative *bool
	Seasonal      *bool
	Primary       *bool
	LevelCurve    **levels.Curve // set to a nil *Curve to remove levels
}

// UpdateCurrency changes a currency's settings, audited with before and
// after. Turning AllowNegative off does not touch balances already below
// zero; they can only go up from there.
func (l *Ledger) UpdateCurrency(ctx context.Context, actor tenants.Actor, guildID, id int64, p CurrencyPatch) (Currency, error) {
	var out Currency
	err := l.db.Bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var before Currency
		// NO KEY UPDATE: wallets referencing the row only hold KEY SHARE
		// locks, so concurrent postings are not blocked.
		err := tx.NewSelect().Model(&before).Where("tenant_id = ? AND guild_id = ? AND id = ?", l.tenantID, guildID, id).
			For("NO KEY UPDATE").Scan(ctx)
		if err != nil {
			return lookupErr(err, ErrUnknownCurrency)
		}
		out = before
		setIf(&out.Name, p.Name)
		setIf(&out.Symbol, p.Symbol)
		setIf(&out.Transferable, p.Transferable)
		setIf(&out.Spendable, p.Spendable)
		setIf(&out.AllowNegative, p.AllowNegative)
		setIf(&out.Seasonal, p.Seasonal)
		setIf(&out.Primary, p.Primary)
		setIf(&out.LevelCurve, p.LevelCurve)
		if err := out.validate(); err != nil {
			return err
		}
		if out.Primary && !before.Primary {
			if err := l.demotePrimary(ctx, tx, guildID); err != nil {
				return err
			}
		}
		_, err = tx.NewUpdate().Model(&out).
			Column("name", "symbol", "transferable", "spendable", "allow_negative", "seasonal", "is_primary", "level_curve").
			Set("updated_at = now()").
			Where("tenant_id = ? AND guild_id = ? AND id = ?", l.tenantID, guildID, id).Returning("*").Exec(ctx)
		if err != nil {
			return currencyWriteErr(err)
		}
		return l.audit(tx).Record(ctx, tenants.AuditEntry{
			GuildID: &guildID, Actor: actor.ID, RequestID: actor.RequestID,
			Action: "ledger.currency.update", Target: out.target(), Before: mustJSON(before), After: mustJSON(out),
		})
	})
	return out, err
}

func (l *Ledger) demotePrimary(ctx context.Context, tx bun.IDB, guildID int64) error {
	_, err := tx.NewUpdate().Model((*Currency)(nil)).Set("is_primary = false, updated_at = now()").
		Where("tenant_id = ? AND guild_id = ? AND is_primary", l.tenantID, guildID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("demote primary currency: %w", err)
	}
	return nil
}

// Currency returns one currency of one of this tenant's guilds.
func (l *Ledger) Currency(ctx context.Context, guildID, id int64) (Currency, error) {
	var c Currency
	err := l.db.Bun.NewSelect().Model(&c).Where("tenant_id = ? AND guild_id = ? AND id = ?", l.tenantID, guildID, id).Scan(ctx)
	return c, lookupErr(err, ErrUnknownCurrency)
}

// CurrencyByCode finds a currency by its code ("xp", "gold"), which is how
// slash commands name them.
func (l *Ledger) CurrencyByCode(ctx context.Context, guildID int64, code string) (Currency, error) {
	var c Currency
	err := l.db.Bun.NewSelect().Model(&c).Where("tenant_id = ? AND guild_id = ? AND code = ?", l.tenantID, guildID, code).Scan(ctx)
	return c, lookupErr(err, ErrUnknownCurrency)
}

// Currencies lists a guild's currencies, the primary one first.
func (l *Ledger) Currencies(ctx context.Context, guildID int64) ([]Currency, error) {
	var cs []Currency
	err := l.db.Bun.NewSelect().Model(&cs).Where("tenant_id = ? AND guild_id = ?", l.tenantID, guildID).
		Order("is_primary DESC", "id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list currencies: %w", err)
	}
	return cs, nil
}

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// lookupErr turns "no rows" into the given not-found sentinel.
func lookupErr(err, notFound error) error {
	switch {
	case err == nil:
		return nil
	case isNoRows(err):
		return notFound
	default:
		return fmt.Errorf("%s: %w", notFound.Error(), err)
	}
}

func currencyWriteErr(err error) error {
	switch {
	case isFKViolation(err):
		return apperr.NotFound("guild")
	case isUniqueViolation(err):
		return fmt.Errorf("currency code already used in this guild: %w", apperr.ErrConflict)
	default:
		return fmt.Errorf("write currency: %w", err)
	}
}

// ValidateCurrency checks a currency's fields as CreateCurrency would,
// without the database (an import checks everything before writing).
func ValidateCurrency(c Currency) error { return c.validate() }
