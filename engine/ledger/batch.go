package ledger

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/synapsehq/synapse/infra/apperr"
)

// ApplyBatch applies many ops in one database transaction and returns one
// Result per op, in order. Ops are applied in slice order, each seeing the
// balances left by the ones before it. An op that fails (overdraft, unknown
// currency, reused key…) carries its error in its Result and changes
// nothing; the others still apply. The returned error is for the batch as a
// whole (database down, too many ops): then nothing was applied.
//
// Cost is a fixed number of statements whatever the batch size: the
// batch's idempotency keys looked up in one query (again once the wallets
// are locked, to catch a concurrent retry), its currencies in one, its
// wallets locked with one ordered SELECT … FOR UPDATE (plus one insert and
// one lock for wallets that do not exist yet), transaction ids reserved in
// one query, transactions and postings written with one COPY each, balances
// with one UPDATE … FROM unnest and rank buckets with one upsert. Wallets
// are locked in (guild, currency, user) order and keys inserted in key
// order, so concurrent batches queue instead of deadlocking (the rare
// deadlock around brand-new wallets, and a lost race on a reused key, are
// retried whole). The issuer and other system accounts are never locked:
// their balances are derived from postings.
func (l *Ledger) ApplyBatch(ctx context.Context, ops []Op) ([]Result, error) {
	if len(ops) > MaxBatchOps {
		return nil, apperr.Invalid("ops", "at most %d ops per batch", MaxBatchOps)
	}
	var out []Result
	err := l.inPgxTx(ctx, func(ctx context.Context, db dbtx) error {
		var err error
		out, err = l.apply(ctx, db, ops)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("apply ledger batch: %w", err)
	}
	return out, nil
}

// currencyRules is what the engine needs to know about a currency.
type currencyRules struct {
	guildID       int64
	transferable  bool
	spendable     bool
	allowNegative bool
}

type walletKey struct{ guild, currency, user int64 }

type wallet struct {
	balance, earned int64
	orig            int64  // balance when locked
	changes         int64  // postings applied in this batch
	ctid            string // row address, stable while we hold the lock
	created         bool   // the row was inserted by this batch
}

// plannedPosting is a posting before it is applied; earned is what it adds
// to the member's lifetime earnings (mints count, reversed mints uncount).
type plannedPosting struct {
	currency, account, amount, earned int64
}

// batch is the working state of one apply call.
type batch struct {
	l       *Ledger
	ops     []Op
	res     []Result
	hashes  [][]byte
	pending []int       // indexes of ops still to apply, in order
	dupOf   map[int]int // later op with the same key and content → first op
	plans   map[int][]plannedPosting
	rules   map[int64]currencyRules
}

// apply runs inside the caller's transaction.
func (l *Ledger) apply(ctx context.Context, db dbtx, ops []Op) ([]Result, error) {
	ops = slices.Clone(ops) // currency codes get resolved in place
	b := &batch{l: l, ops: ops, res: make([]Result, len(ops)), hashes: make([][]byte, len(ops)),
		dupOf: map[int]int{}, plans: map[int][]plannedPosting{}}
	b.validate()
	replays, err := b.lookupKeys(ctx, db, b.pending)
	if err != nil {
		return nil, err
	}
	if err := b.planReversals(ctx, db); err != nil {
		return nil, err
	}
	if err := b.planTransfers(ctx, db); err != nil {
		return nil, err
	}
	wallets, err := b.lockWallets(ctx, db)
	if err != nil {
		return nil, err
	}
	// Look again now that the wallets are ours: an op with the same key and
	// content touches the same wallets, so if a concurrent caller applied
	// it, that caller committed before we got the locks and we see it now.
	// Only a reused key with other content can still race us at insert
	// time, and that retries the whole transaction.
	late, err := b.lookupKeys(ctx, db, b.recheck())
	if err != nil {
		return nil, err
	}
	for id, i := range late {
		replays[id] = i
	}
	applied := b.applyInOrder(wallets)
	if err := b.write(ctx, db, applied, wallets); err != nil {
		return nil, err
	}
	if err := b.loadReplays(ctx, db, replays); err != nil {
		return nil, err
	}
	for i, first := range b.dupOf {
		b.res[i] = b.res[first]
		b.res[i].Replayed = b.res[i].Err == nil
	}
	return b.res, nil
}

// validate checks each op on its own and folds repeated keys in the batch
// onto their first occurrence.
func (b *batch) validate() {
	first := map[string]int{}
	for i := range b.ops {
		op := &b.ops[i]
		if err := op.validate(); err != nil {
			b.res[i].Err = err
			continue
		}
		b.hashes[i] = op.hash()
		if j, ok := first[op.Key]; ok {
			if bytes.Equal(b.hashes[i], b.hashes[j]) {
				b.dupOf[i] = j
			} else {
				b.res[i].Err = ErrIdempotencyConflict
			}
			continue
		}
		first[op.Key] = i
		b.pending = append(b.pending, i)
	}
}

// lookupKeys finds keys applied by earlier calls in one query: same content
// is a replay, other content a conflict. It returns replayed tx id → op.
func (b *batch) lookupKeys(ctx context.Context, db dbtx, which []int) (map[int64]int, error) {
	replays := map[int64]int{}
	if len(which) == 0 {
		return replays, nil
	}
	keys := make([]string, len(which))
	byKey := make(map[string]int, len(which))
	for n, i := range which {
		keys[n] = b.ops[i].Key
		byKey[b.ops[i].Key] = i
	}
	// One unique-index lookup per key (see selectForUpdate on OFFSET 0).
	rs, err := db.query(ctx, `SELECT t.idempotency_key, t.id, t.request_hash FROM unnest($2::text[]) AS k(key)
		CROSS JOIN LATERAL (SELECT idempotency_key, id, request_hash FROM ledger_transactions t
			WHERE t.tenant_id = $1 AND t.idempotency_key = k.key OFFSET 0) t`, b.l.tenantID, keys)
	if err != nil {
		return nil, fmt.Errorf("look up idempotency keys: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var key string
		var id int64
		var hash []byte
		if err := rs.Scan(&key, &id, &hash); err != nil {
			return nil, fmt.Errorf("scan idempotency key: %w", err)
		}
		i := byKey[key]
		if bytes.Equal(hash, b.hashes[i]) {
			b.res[i] = Result{TransactionID: id, Replayed: true} // clears a provisional error
			replays[id] = i
		} else {
			b.res[i].Err = ErrIdempotencyConflict
		}
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read idempotency keys: %w", err)
	}
	b.dropDone()
	return replays, nil
}

// recheck is what the second key lookup covers: the pending ops, and the
// reversals refused as already reversed, which may be our own replay.
func (b *batch) recheck() []int {
	out := slices.Clone(b.pending)
	for i := range b.ops {
		if b.res[i].Err == ErrAlreadyReversed {
			out = append(out, i)
		}
	}
	return out
}

// dropDone removes ops that already have an outcome from pending.
func (b *batch) dropDone() {
	b.pending = slices.DeleteFunc(b.pending, func(i int) bool { return b.res[i].Err != nil || b.res[i].Replayed })
}

// planTransfers loads the currencies of every pending op in one query and
// plans the postings of credits, debits, transfers and spends.
func (b *batch) planTransfers(ctx context.Context, db dbtx) error {
	rules, err := b.loadCurrencies(ctx, db)
	if err != nil {
		return err
	}
	for _, i := range b.pending {
		op := &b.ops[i]
		if op.Kind == KindReversal {
			continue // planned from the original; currencies checked when applied
		}
		c, ok := rules[op.CurrencyID]
		if !ok || c.guildID != op.GuildID {
			b.res[i].Err = ErrUnknownCurrency
			continue
		}
		cur, amt := op.CurrencyID, op.Amount
		switch op.Kind {
		case KindCredit:
			b.plans[i] = []plannedPosting{{cur, AccountIssuer, -amt, 0}, {cur, op.To, amt, amt}}
		case KindDebit:
			b.plans[i] = []plannedPosting{{cur, op.From, -amt, 0}, {cur, AccountIssuer, amt, 0}}
		case KindTransfer:
			if !c.transferable {
				b.res[i].Err = ErrNotTransferable
				continue
			}
			b.plans[i] = []plannedPosting{{cur, op.From, -amt, 0}, {cur, op.To, amt, 0}}
		case KindSpend:
			if !c.spendable {
				b.res[i].Err = ErrNotSpendable
				continue
			}
			b.plans[i] = []plannedPosting{{cur, op.From, -amt, 0}, {cur, AccountShopSink, amt, 0}}
		}
	}
	b.dropDone()
	b.rules = rules
	return nil
}

func (b *batch) loadCurrencies(ctx context.Context, db dbtx) (map[int64]currencyRules, error) {
	seen := map[int64]bool{0: true}
	var ids []int64
	add := func(id int64) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, i := range b.pending {
		if b.ops[i].Kind == KindReversal {
			for _, p := range b.plans[i] {
				add(p.currency)
			}
		} else {
			add(b.ops[i].CurrencyID)
		}
	}
	// Ops may name their currency by code (the rules engine does).
	type codeKey struct {
		guild int64
		code  string
	}
	var codeGuilds []int64
	var codes []string
	for _, i := range b.pending {
		if op := &b.ops[i]; op.Kind != KindReversal && op.CurrencyID == 0 {
			codeGuilds, codes = append(codeGuilds, op.GuildID), append(codes, op.CurrencyCode)
		}
	}
	rules := make(map[int64]currencyRules, len(ids))
	if len(ids) == 0 && len(codes) == 0 {
		return rules, nil
	}
	rs, err := db.query(ctx, `SELECT id, guild_id, code, transferable, spendable, allow_negative FROM ledger_currencies
		WHERE tenant_id = $1 AND (id = ANY($2) OR (guild_id, code) IN (SELECT * FROM unnest($3::bigint[], $4::text[])))`,
		b.l.tenantID, ids, codeGuilds, codes)
	if err != nil {
		return nil, fmt.Errorf("load currencies: %w", err)
	}
	defer rs.Close()
	byCode := map[codeKey]int64{}
	for rs.Next() {
		var id int64
		var code string
		var c currencyRules
		if err := rs.Scan(&id, &c.guildID, &code, &c.transferable, &c.spendable, &c.allowNegative); err != nil {
			return nil, fmt.Errorf("scan currency: %w", err)
		}
		rules[id] = c
		byCode[codeKey{c.guildID, code}] = id
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read currencies: %w", err)
	}
	for _, i := range b.pending {
		if op := &b.ops[i]; op.Kind != KindReversal && op.CurrencyID == 0 {
			op.CurrencyID = byCode[codeKey{op.GuildID, op.CurrencyCode}] // 0: unknown, refused by the caller
		}
	}
	return rules, nil
}

// applyInOrder runs the pending ops against the locked balances, refusing
// any op that would take a member below zero in a currency that forbids
// it. It returns the ops that succeeded.
func (b *batch) applyInOrder(wallets map[walletKey]*wallet) []int {
	var applied []int
	for _, i := range b.pending {
		op := &b.ops[i]
		plan := b.plans[i]
		if err := b.check(op, plan, wallets); err != nil {
			b.res[i].Err = err
			continue
		}
		postings := make([]Posting, len(plan))
		for n, p := range plan {
			postings[n] = Posting{CurrencyID: p.currency, Account: p.account, Amount: p.amount}
			if p.account > 0 {
				w := wallets[walletKey{op.GuildID, p.currency, p.account}]
				w.balance += p.amount
				w.earned += p.earned
				w.changes++
				bal := w.balance
				postings[n].BalanceAfter = &bal
			}
		}
		b.res[i].Postings = postings
		applied = append(applied, i)
	}
	return applied
}

func (b *batch) check(op *Op, plan []plannedPosting, wallets map[walletKey]*wallet) error {
	for _, p := range plan {
		c, ok := b.rules[p.currency]
		if !ok {
			return ErrUnknownCurrency
		}
		if p.account <= 0 || p.amount >= 0 || c.allowNegative {
			continue
		}
		w := wallets[walletKey{op.GuildID, p.currency, p.account}]
		if w.balance+p.amount < 0 {
			return ErrInsufficientFunds
		}
	}
	return nil
}
