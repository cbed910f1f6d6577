package ledger

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// lockWallets locks every member wallet the pending ops touch, in
// (guild, currency, user) order, creating the missing ones.
func (b *batch) lockWallets(ctx context.Context, db dbtx) (map[walletKey]*wallet, error) {
	seen := map[walletKey]bool{}
	var keys []walletKey
	for _, i := range b.pending {
		for _, p := range b.plans[i] {
			k := walletKey{b.ops[i].GuildID, p.currency, p.account}
			if p.account > 0 && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	wallets := make(map[walletKey]*wallet, len(keys))
	if len(keys) == 0 {
		return wallets, nil
	}
	slices.SortFunc(keys, func(a, c walletKey) int {
		return cmp.Or(cmp.Compare(a.guild, c.guild), cmp.Compare(a.currency, c.currency), cmp.Compare(a.user, c.user))
	})
	if err := b.l.selectForUpdate(ctx, db, keys, wallets); err != nil {
		return nil, err
	}
	if len(wallets) == len(keys) {
		return wallets, nil
	}
	// New members: create their wallets (sorted, so concurrent creators
	// queue in one order), then lock them too. Locking these after the
	// existing ones can, rarely, deadlock with a batch doing the same the
	// other way round; Postgres aborts one and inTx retries it.
	missing := slices.DeleteFunc(slices.Clone(keys), func(k walletKey) bool { return wallets[k] != nil })
	gs, cs, us := splitKeys(missing)
	rs, err := db.query(ctx, `INSERT INTO ledger_wallets (tenant_id, guild_id, currency_id, user_id)
		SELECT $1, k.g, k.c, k.u FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS k(g, c, u)
		ORDER BY k.g, k.c, k.u ON CONFLICT DO NOTHING
		RETURNING guild_id, currency_id, user_id`, b.l.tenantID, gs, cs, us)
	if err != nil {
		return nil, fmt.Errorf("create wallets: %w", err)
	}
	created := map[walletKey]bool{}
	for rs.Next() {
		var k walletKey
		if err := rs.Scan(&k.guild, &k.currency, &k.user); err != nil {
			rs.Close()
			return nil, fmt.Errorf("scan created wallet: %w", err)
		}
		created[k] = true
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("create wallets: %w", err)
	}
	if err := b.l.selectForUpdate(ctx, db, missing, wallets); err != nil {
		return nil, err
	}
	for k := range created {
		wallets[k].created = true // a concurrent creator's wallet is counted by them
	}
	if len(wallets) != len(keys) {
		return nil, fmt.Errorf("lock wallets: locked %d of %d", len(wallets), len(keys))
	}
	return wallets, nil
}

func splitKeys(keys []walletKey) (gs, cs, us []int64) {
	gs, cs, us = make([]int64, len(keys)), make([]int64, len(keys)), make([]int64, len(keys))
	for n, k := range keys {
		gs[n], cs[n], us[n] = k.guild, k.currency, k.user
	}
	return gs, cs, us
}

// selectForUpdate locks the existing wallets among keys, in key order, and
// adds them to into. Each wallet is one primary-key lookup, taken in the
// keys' order: written as a join, the planner may instead scan the
// tenant's wallets (its choice while the table has no statistics, and a
// prepared statement keeps that plan for the connection's life).
func (l *Ledger) selectForUpdate(ctx context.Context, db dbtx, keys []walletKey, into map[walletKey]*wallet) error {
	gs, cs, us := splitKeys(keys)
	rs, err := db.query(ctx, `SELECT w.guild_id, w.currency_id, w.user_id, w.balance, w.lifetime_earned, w.tid::text
		FROM (SELECT * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS k(g, c, u) ORDER BY 1, 2, 3) k
		CROSS JOIN LATERAL (SELECT w.*, w.ctid AS tid FROM ledger_wallets w
			WHERE w.tenant_id = $1 AND w.guild_id = k.g AND w.currency_id = k.c AND w.user_id = k.u FOR UPDATE) w`,
		l.tenantID, gs, cs, us)
	if err != nil {
		return fmt.Errorf("lock wallets: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var k walletKey
		w := &wallet{}
		if err := rs.Scan(&k.guild, &k.currency, &k.user, &w.balance, &w.earned, &w.ctid); err != nil {
			return fmt.Errorf("scan wallet: %w", err)
		}
		w.orig = w.balance
		into[k] = w
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("lock wallets: %w", err)
	}
	return nil
}
