package ledger

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// Season is a period at whose end seasonal currencies reset to zero and
// every leaderboard is frozen into a snapshot.
type Season struct {
	bun.BaseModel `bun:"table:ledger_seasons"`

	TenantID  int64      `bun:"tenant_id,pk" json:"-"`
	GuildID   int64      `bun:"guild_id,pk" json:"guild_id,string"`
	ID        int64      `bun:"id,pk,autoincrement" json:"id,string"`
	Name      string     `bun:"name" json:"name"`
	StartedAt time.Time  `bun:"started_at,nullzero,default:now()" json:"started_at"`
	EndedAt   *time.Time `bun:"ended_at" json:"ended_at"`
}

func (s *Season) target() string { return "season:" + strconv.FormatInt(s.ID, 10) }

// SeasonReset is what ending a season did to one seasonal currency.
type SeasonReset struct {
	CurrencyID    int64 `json:"currency_id,string"`
	TransactionID int64 `json:"transaction_id,string"` // 0 when every balance was already zero
	Wallets       int64 `json:"wallets"`               // wallets set back to zero
	Total         int64 `json:"total"`                 // moved to the season reserve
}

// StartSeason opens a season; ErrSeasonOpen if one is running. Audited.
func (l *Ledger) StartSeason(ctx context.Context, actor tenants.Actor, guildID int64, name string) (Season, error) {
	s := Season{TenantID: l.tenantID, GuildID: guildID, Name: name}
	if name == "" || len(name) > 100 {
		return Season{}, apperr.Invalid("name", "must be 1 to 100 characters")
	}
	err := l.db.Bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&s).Returning("*").Exec(ctx); err != nil {
			switch {
			case isUniqueViolation(err):
				return ErrSeasonOpen
			case isFKViolation(err):
				return apperr.NotFound("guild")
			}
			return fmt.Errorf("insert season: %w", err)
		}
		return l.audit(tx).Record(ctx, tenants.AuditEntry{
			GuildID: &guildID, Actor: actor.ID, RequestID: actor.RequestID,
			Action: "ledger.season.start", Target: s.target(), After: mustJSON(s),
		})
	})
	if err != nil {
		return Season{}, fmt.Errorf("start season: %w", err)
	}
	return s, nil
}

// EndSeason closes the running season in one transaction: it locks the
// seasonal wallets (in the same order batches use), snapshots every
// wallet's balance and rank for every currency, then resets each seasonal
// currency with one season_reset transaction that moves all balances into
// the season reserve. Lifetime earnings are kept. Audited with the totals.
func (l *Ledger) EndSeason(ctx context.Context, actor tenants.Actor, guildID int64) (Season, []SeasonReset, error) {
	var (
		s      Season
		resets []SeasonReset
	)
	err := l.inBunTx(ctx, func(ctx context.Context, tx bun.Tx, db dbtx) error {
		resets = nil
		err := tx.NewSelect().Model(&s).Where("tenant_id = ? AND guild_id = ? AND ended_at IS NULL", l.tenantID, guildID).
			For("UPDATE").Scan(ctx)
		if err != nil {
			return lookupErr(err, ErrNoOpenSeason)
		}
		before := s
		// Locking the seasonal currencies holds back the creation of new
		// wallets in them (their foreign key check waits) until the reset
		// commits, so no wallet escapes the snapshot, the reset or the
		// rebuilt rank buckets.
		var seasonal []int64
		if err := tx.NewSelect().Model((*Currency)(nil)).Column("id").
			Where("tenant_id = ? AND guild_id = ? AND seasonal", l.tenantID, guildID).Order("id").
			For("UPDATE").Scan(ctx, &seasonal); err != nil {
			return fmt.Errorf("list seasonal currencies: %w", err)
		}
		if _, err := db.exec(ctx, `SELECT 1 FROM ledger_wallets WHERE tenant_id = $1 AND guild_id = $2 AND currency_id = ANY($3)
			ORDER BY guild_id, currency_id, user_id FOR UPDATE`, l.tenantID, guildID, seasonal); err != nil {
			return fmt.Errorf("lock seasonal wallets: %w", err)
		}
		if _, err := db.exec(ctx, `INSERT INTO ledger_season_snapshots (tenant_id, guild_id, season_id, currency_id, user_id, balance, rank)
			SELECT tenant_id, guild_id, $3, currency_id, user_id, balance, rank() OVER (PARTITION BY currency_id ORDER BY balance DESC)
			FROM ledger_wallets WHERE tenant_id = $1 AND guild_id = $2`, l.tenantID, guildID, s.ID); err != nil {
			return fmt.Errorf("snapshot season: %w", err)
		}
		for _, cur := range seasonal {
			r, err := l.resetCurrency(ctx, db, &s, cur, actor.ID)
			if err != nil {
				return err
			}
			resets = append(resets, r)
		}
		if _, err := tx.NewUpdate().Model(&s).Set("ended_at = now()").
			Where("tenant_id = ? AND guild_id = ? AND id = ?", l.tenantID, guildID, s.ID).Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("end season: %w", err)
		}
		return l.audit(tx).Record(ctx, tenants.AuditEntry{
			GuildID: &guildID, Actor: actor.ID, RequestID: actor.RequestID, Action: "ledger.season.end", Target: s.target(),
			Before: mustJSON(before), After: mustJSON(map[string]any{"season": s, "resets": resets}),
		})
	})
	if err != nil {
		return Season{}, nil, fmt.Errorf("end season: %w", err)
	}
	return s, resets, nil
}

// resetCurrency zeroes every non-zero wallet of one currency with a single
// transaction: one posting per wallet and the opposite total on the season
// reserve, written by one statement so the balance check sees them all.
func (l *Ledger) resetCurrency(ctx context.Context, db dbtx, s *Season, currencyID int64, actor string) (SeasonReset, error) {
	r := SeasonReset{CurrencyID: currencyID}
	ids, err := reserveIDs(ctx, db, 1)
	if err != nil {
		return r, err
	}
	key := fmt.Sprintf("season:%d:reset:%d", s.ID, currencyID)
	hash := sha256.Sum256([]byte(key))
	n, err := queryInt(ctx, db, `WITH tx AS (
			INSERT INTO ledger_transactions (tenant_id, id, guild_id, idempotency_key, request_hash, kind, reason, actor, source)
			SELECT $1, $3, $2, $4, $5, 'season_reset', $6, $7, $8
			WHERE EXISTS (SELECT 1 FROM ledger_wallets WHERE tenant_id = $1 AND guild_id = $2 AND currency_id = $9 AND balance <> 0)
			RETURNING 1)
		SELECT count(*) FROM tx`,
		l.tenantID, s.GuildID, ids[0], key, hash[:16], "end of season "+s.Name, actor, s.target(), currencyID)
	if err != nil {
		return r, fmt.Errorf("insert season reset: %w", err)
	}
	if n == 0 {
		return r, nil // every balance is already zero
	}
	r.TransactionID = ids[0]
	if _, err := db.exec(ctx, `WITH w AS (
			SELECT user_id, balance FROM ledger_wallets
			WHERE tenant_id = $1 AND guild_id = $2 AND currency_id = $3 AND balance <> 0)
		INSERT INTO ledger_postings (tenant_id, transaction_id, guild_id, currency_id, account, amount, balance_after)
		SELECT $1::bigint, $4::bigint, $2::bigint, $3::bigint, user_id, -balance, 0::bigint FROM w
		UNION ALL
		SELECT $1, $4, $2, $3, $5::bigint, sum(balance)::bigint, NULL FROM w HAVING sum(balance) <> 0`,
		l.tenantID, s.GuildID, currencyID, r.TransactionID, AccountSeasonReserve); err != nil {
		return r, fmt.Errorf("post season reset: %w", err)
	}
	if r.Wallets, err = db.exec(ctx, `UPDATE ledger_wallets SET balance = 0, version = version + 1, updated_at = now()
		WHERE tenant_id = $1 AND guild_id = $2 AND currency_id = $3 AND balance <> 0`, l.tenantID, s.GuildID, currencyID); err != nil {
		return r, fmt.Errorf("zero seasonal wallets: %w", err)
	}
	// Every wallet of the currency now sits in the zero bucket.
	if _, err := db.exec(ctx, `DELETE FROM ledger_rank_buckets WHERE tenant_id = $1 AND guild_id = $2 AND currency_id = $3`,
		l.tenantID, s.GuildID, currencyID); err != nil {
		return r, fmt.Errorf("reset rank buckets: %w", err)
	}
	if _, err := db.exec(ctx, `INSERT INTO ledger_rank_buckets (tenant_id, guild_id, currency_id, bucket, wallets)
		SELECT $1::bigint, $2::bigint, $3::bigint, 0, count(*) FROM ledger_wallets
		WHERE tenant_id = $1 AND guild_id = $2 AND currency_id = $3 HAVING count(*) > 0`,
		l.tenantID, s.GuildID, currencyID); err != nil {
		return r, fmt.Errorf("reset rank buckets: %w", err)
	}
	if r.Total, err = queryInt(ctx, db, `SELECT COALESCE(sum(amount), 0)::bigint FROM ledger_postings
		WHERE tenant_id = $1 AND transaction_id = $2 AND account = $3`, l.tenantID, r.TransactionID, AccountSeasonReserve); err != nil {
		return r, fmt.Errorf("season reset total: %w", err)
	}
	return r, nil
}

// Seasons lists a guild's seasons, newest first.
func (l *Ledger) Seasons(ctx context.Context, guildID int64) ([]Season, error) {
	var ss []Season
	if err := l.db.Bun.NewSelect().Model(&ss).Where("tenant_id = ? AND guild_id = ?", l.tenantID, guildID).
		Order("id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list seasons: %w", err)
	}
	return ss, nil
}
