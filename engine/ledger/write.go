package ledger

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// copyThreshold is the posting count from which COPY beats a multi-row
// insert: below it, COPY's two extra round trips (describe, copy) cost more
// than they save.
const copyThreshold = 64

// write persists the applied ops: transaction ids reserved in one query,
// then one COPY (pgx) or multi-row insert (database/sql) each for
// transactions and postings, one UPDATE … FROM unnest for the wallets and
// one upsert for the rank buckets.
func (b *batch) write(ctx context.Context, db dbtx, applied []int, wallets map[walletKey]*wallet) error {
	if len(applied) == 0 {
		// Wallets created for ops that all failed still exist (at zero).
		return b.l.updateBuckets(ctx, db, bucketDeltas(wallets))
	}
	ids, err := reserveIDs(ctx, db, len(applied))
	if err != nil {
		return err
	}
	// Ids follow the order ops were applied in, so history reads in the
	// order balances changed; rows go in in key order: two batches racing
	// on the same keys then wait on each other in one order, no deadlock.
	for k, i := range applied {
		b.res[i].TransactionID = ids[k]
	}
	slices.SortFunc(applied, func(x, y int) int { return strings.Compare(b.ops[x].Key, b.ops[y].Key) })
	n := len(applied)
	var (
		tGuild, tRev         = make([]int64, n), make([]int64, n)
		tKey, tKind, tReason = make([]string, n), make([]string, n), make([]string, n)
		tActor, tSource      = make([]string, n), make([]string, n)
		tHash                = make([][]byte, n)
		pTx, pGuild, pCur    []int64
		pAcct, pAmount       []int64
		pAfter               []*int64
	)
	for k, i := range applied {
		op := &b.ops[i]
		ids[k] = b.res[i].TransactionID
		tGuild[k], tRev[k], tKey[k], tKind[k] = op.GuildID, op.Reverses, op.Key, string(op.Kind)
		tReason[k], tActor[k], tSource[k], tHash[k] = op.Reason, op.Actor, op.Source, b.hashes[i]
		for _, p := range b.res[i].Postings {
			pTx = append(pTx, ids[k])
			pGuild = append(pGuild, op.GuildID)
			pCur = append(pCur, p.CurrencyID)
			pAcct = append(pAcct, p.Account)
			pAmount = append(pAmount, p.Amount)
			pAfter = append(pAfter, p.BalanceAfter)
		}
	}
	if c, ok := db.(copier); ok && len(pTx) >= copyThreshold {
		// COPY: the cheapest way in for thousands of rows; the balance
		// trigger fires once for the whole COPY like for an INSERT.
		txRows := make([][]any, n)
		for k := range applied {
			var rev any
			if tRev[k] != 0 {
				rev = tRev[k]
			}
			txRows[k] = []any{b.l.tenantID, ids[k], tGuild[k], tKey[k], tHash[k], tKind[k], tReason[k], tActor[k], tSource[k], rev}
		}
		if _, err := c.copyFrom(ctx, "ledger_transactions", []string{"tenant_id", "id", "guild_id", "idempotency_key",
			"request_hash", "kind", "reason", "actor", "source", "reverses_id"}, txRows); err != nil {
			return fmt.Errorf("insert transactions: %w", err)
		}
		pRows := make([][]any, len(pTx))
		for k := range pTx {
			pRows[k] = []any{b.l.tenantID, pTx[k], pGuild[k], pCur[k], pAcct[k], pAmount[k], pAfter[k]}
		}
		if _, err := c.copyFrom(ctx, "ledger_postings", []string{"tenant_id", "transaction_id", "guild_id", "currency_id",
			"account", "amount", "balance_after"}, pRows); err != nil {
			return fmt.Errorf("insert postings: %w", err)
		}
		return b.l.updateWallets(ctx, db, wallets)
	}
	if _, err := db.exec(ctx, `INSERT INTO ledger_transactions
			(tenant_id, id, guild_id, idempotency_key, request_hash, kind, reason, actor, source, reverses_id)
		SELECT $1, t.id, t.g, t.k, t.h, t.kind, t.reason, t.actor, t.source, NULLIF(t.rev, 0)
		FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::bytea[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[])
		  AS t(id, g, k, h, kind, reason, actor, source, rev)`,
		b.l.tenantID, ids, tGuild, tKey, tHash, tKind, tReason, tActor, tSource, tRev); err != nil {
		return fmt.Errorf("insert transactions: %w", err)
	}
	if _, err := db.exec(ctx, `INSERT INTO ledger_postings
			(tenant_id, transaction_id, guild_id, currency_id, account, amount, balance_after)
		SELECT $1, p.tx, p.g, p.c, p.a, p.amount, p.after
		FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])
		  AS p(tx, g, c, a, amount, after)`,
		b.l.tenantID, pTx, pGuild, pCur, pAcct, pAmount, pAfter); err != nil {
		return fmt.Errorf("insert postings: %w", err)
	}
	return b.l.updateWallets(ctx, db, wallets)
}

// updateWallets writes the new balances by row address: the rows are
// locked FOR UPDATE by this transaction, so their ctid cannot change, and a
// TID scan skips both the index lookups and a hash join over the guild.
func (l *Ledger) updateWallets(ctx context.Context, db dbtx, wallets map[walletKey]*wallet) error {
	var ctids []string
	var bal, earned, changes []int64
	for _, w := range wallets {
		if w.changes == 0 {
			continue
		}
		ctids = append(ctids, w.ctid)
		bal, earned, changes = append(bal, w.balance), append(earned, w.earned), append(changes, w.changes)
	}
	if len(ctids) == 0 {
		return l.updateBuckets(ctx, db, bucketDeltas(wallets))
	}
	n, err := db.exec(ctx, `UPDATE ledger_wallets w
		SET balance = v.balance, lifetime_earned = v.earned, version = w.version + v.changes, updated_at = now()
		FROM unnest($2::tid[], $3::bigint[], $4::bigint[], $5::bigint[]) AS v(ctid, balance, earned, changes)
		WHERE w.ctid = ANY($2::tid[]) AND w.ctid = v.ctid AND w.tenant_id = $1`,
		l.tenantID, ctids, bal, earned, changes)
	if err != nil {
		return fmt.Errorf("update wallets: %w", err)
	}
	if int(n) != len(ctids) {
		return fmt.Errorf("update wallets: updated %d of %d", n, len(ctids))
	}
	return l.updateBuckets(ctx, db, bucketDeltas(wallets))
}

func reserveIDs(ctx context.Context, db dbtx, n int) ([]int64, error) {
	rs, err := db.query(ctx, `SELECT nextval('ledger_transactions_id_seq') FROM generate_series(1, $1)`, n)
	if err != nil {
		return nil, fmt.Errorf("reserve transaction ids: %w", err)
	}
	defer rs.Close()
	ids := make([]int64, 0, n)
	for rs.Next() {
		var id int64
		if err := rs.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan transaction id: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read transaction ids: %w", err)
	}
	if len(ids) != n {
		return nil, fmt.Errorf("reserve transaction ids: got %d of %d", len(ids), n)
	}
	return ids, nil
}

// loadReplays fills replayed results with the postings their first
// application wrote.
func (b *batch) loadReplays(ctx context.Context, db dbtx, replays map[int64]int) error {
	if len(replays) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(replays))
	for id := range replays {
		ids = append(ids, id)
	}
	byTx, err := b.l.loadPostings(ctx, db, ids)
	if err != nil {
		return err
	}
	for id, i := range replays {
		b.res[i].Postings = byTx[id]
	}
	return nil
}

// loadPostings reads the postings of some transactions, grouped by id.
func (l *Ledger) loadPostings(ctx context.Context, db dbtx, ids []int64) (map[int64][]Posting, error) {
	rs, err := db.query(ctx, `SELECT transaction_id, currency_id, account, amount, balance_after FROM ledger_postings
		WHERE tenant_id = $1 AND transaction_id = ANY($2) ORDER BY transaction_id, amount, account`, l.tenantID, ids)
	if err != nil {
		return nil, fmt.Errorf("load postings: %w", err)
	}
	defer rs.Close()
	out := make(map[int64][]Posting, len(ids))
	for rs.Next() {
		var id int64
		var p Posting
		if err := rs.Scan(&id, &p.CurrencyID, &p.Account, &p.Amount, &p.BalanceAfter); err != nil {
			return nil, fmt.Errorf("scan posting: %w", err)
		}
		out[id] = append(out[id], p)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read postings: %w", err)
	}
	return out, nil
}
