package ledger

import (
	"context"
	"fmt"

	"github.com/synapsehq/synapse/engine/ledger/levels"
)

// Standing is one member's place on a leaderboard. Ranks are competition
// ranks: 1 + the number of members with a strictly higher balance, so ties
// share a rank.
type Standing struct {
	Rank    int64            `json:"rank"`
	UserID  int64            `json:"user_id,string"`
	Balance int64            `json:"balance"`
	Level   *levels.Progress `json:"level,omitempty"`
}

// LeaderboardQuery picks a board and a page of it.
type LeaderboardQuery struct {
	SeasonID int64 // 0: live balances; else the snapshot taken when that season ended
	Limit    int   // default 10, at most 100
	Offset   int   // at most MaxLeaderboardOffset
}

// MaxLeaderboardOffset bounds paging: ranks are read from the index, and
// deep pages would scan it.
const MaxLeaderboardOffset = 10000

func (q *LeaderboardQuery) normalise() {
	if q.Limit <= 0 || q.Limit > 100 {
		q.Limit = 10
	}
	q.Offset = min(max(q.Offset, 0), MaxLeaderboardOffset)
}

// Leaderboard returns a page of a currency's leaderboard, highest first
// (ties by user id). Live boards read the wallets through the
// (tenant, guild, currency, balance DESC, user) index; past seasons read
// their snapshot.
func (l *Ledger) Leaderboard(ctx context.Context, guildID, currencyID int64, q LeaderboardQuery) ([]Standing, error) {
	c, err := l.Currency(ctx, guildID, currencyID)
	if err != nil {
		return nil, err
	}
	return l.BoardOf(ctx, c, q)
}

// BoardOf is Leaderboard for a currency the caller has already read (the
// API resolves it by code), saving a round trip per page.
func (l *Ledger) BoardOf(ctx context.Context, c Currency, q LeaderboardQuery) ([]Standing, error) {
	q.normalise()
	guildID, currencyID := c.GuildID, c.ID
	var sql string
	if q.SeasonID == 0 {
		// rank() over the rows up to the page is exact: every row ranked
		// above a page row is itself among those rows.
		sql = `SELECT rnk, user_id, balance FROM (
				SELECT user_id, balance, rank() OVER (ORDER BY balance DESC) AS rnk FROM ledger_wallets
				WHERE tenant_id = $1 AND guild_id = $2 AND currency_id = $3
				ORDER BY balance DESC, user_id LIMIT $4::bigint + $5::bigint) top
			ORDER BY balance DESC, user_id OFFSET $5::bigint`
	} else {
		sql = `SELECT rank, user_id, balance FROM ledger_season_snapshots
			WHERE tenant_id = $1 AND guild_id = $2 AND currency_id = $3 AND season_id = $6
			ORDER BY rank, user_id LIMIT $4 OFFSET $5`
	}
	args := []any{l.tenantID, guildID, currencyID, q.Limit, q.Offset}
	if q.SeasonID != 0 {
		args = append(args, q.SeasonID)
	}
	rs, err := l.db.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read leaderboard: %w", err)
	}
	defer rs.Close()
	var out []Standing
	for rs.Next() {
		var s Standing
		if err := rs.Scan(&s.Rank, &s.UserID, &s.Balance); err != nil {
			return nil, fmt.Errorf("scan leaderboard: %w", err)
		}
		s.Level = c.Level(s.Balance)
		out = append(out, s)
	}
	return out, rs.Err()
}

// Rank is one member's standing. Live: a member with no wallet stands at
// balance 0. A past season: Rank 0 when the member had no wallet then.
func (l *Ledger) Rank(ctx context.Context, guildID, currencyID, userID, seasonID int64) (Standing, error) {
	c, err := l.Currency(ctx, guildID, currencyID)
	if err != nil {
		return Standing{}, err
	}
	s := Standing{UserID: userID}
	if seasonID != 0 {
		err := l.db.Pool.QueryRow(ctx, `SELECT rank, balance FROM ledger_season_snapshots
			WHERE tenant_id = $1 AND guild_id = $2 AND season_id = $3 AND currency_id = $4 AND user_id = $5`,
			l.tenantID, guildID, seasonID, currencyID, userID).Scan(&s.Rank, &s.Balance)
		if err != nil && !isNoRows(err) {
			return Standing{}, fmt.Errorf("read season rank: %w", err)
		}
		s.Level = c.Level(s.Balance)
		return s, nil
	}
	if s.Rank, s.Balance, err = l.liveRank(ctx, guildID, currencyID, userID); err != nil {
		return Standing{}, err
	}
	s.Level = c.Level(s.Balance)
	return s, nil
}
