package ledger_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
)

// Many goroutines credit, debit, transfer and spend at once, in batches and
// one by one, retrying ops with the same keys (and now and then reusing a
// key with other content). Afterwards the books must balance, every wallet
// must equal its postings, no forbidden balance may be negative, and every
// key must have produced at most one transaction, the one every successful
// caller was told about.
func TestConcurrentRandomisedOps(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	const members, poolSize, workers, rounds = 12, 800, 8, 40
	user := func() int64 { return 5000 + rng.Int64N(members) }
	currencies := []ledger.Currency{b.gold, b.debt, b.xp}
	pool := make([]ledger.Op, poolSize)
	for i := range pool {
		c := currencies[rng.IntN(len(currencies))]
		op := ledger.Op{Key: fmt.Sprintf("op-%d", i), GuildID: b.guild.ID, CurrencyID: c.ID, Amount: 1 + rng.Int64N(40)}
		switch r := rng.IntN(10); {
		case r < 3:
			op.Kind, op.To = ledger.KindCredit, user()
		case r < 5:
			op.Kind, op.From = ledger.KindDebit, user()
		case r < 9:
			op.Kind, op.From, op.To = ledger.KindTransfer, user(), user()
			for op.To == op.From {
				op.To = user()
			}
		default:
			op.Kind, op.From = ledger.KindSpend, user()
		}
		pool[i] = op
	}

	type outcome struct {
		key string
		tx  int64
	}
	var (
		mu        sync.Mutex
		outcomes  []outcome
		conflicts int
	)
	var wg sync.WaitGroup
	for w := range workers {
		wrng := rand.New(rand.NewPCG(seed, uint64(w)+2))
		wg.Go(func() {
			for range rounds {
				n := 1 + wrng.IntN(60)
				if wrng.IntN(4) == 0 {
					n = 1 // some callers go one op at a time
				}
				ops := make([]ledger.Op, n)
				for i := range ops {
					ops[i] = pool[wrng.IntN(len(pool))]
					if wrng.IntN(50) == 0 {
						ops[i].Amount++ // same key, other content
					}
				}
				rs, err := b.led.ApplyBatch(b.ctx, ops)
				if !assertNoErr(t, err) {
					return
				}
				mu.Lock()
				for i, r := range rs {
					switch {
					case r.Err == nil:
						outcomes = append(outcomes, outcome{ops[i].Key, r.TransactionID})
					case errors.Is(r.Err, ledger.ErrIdempotencyConflict):
						conflicts++
					case errors.Is(r.Err, ledger.ErrInsufficientFunds), errors.Is(r.Err, ledger.ErrNotTransferable), errors.Is(r.Err, ledger.ErrNotSpendable):
					default:
						t.Errorf("op %+v: unexpected error %v", ops[i], r.Err)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	txOfKey := map[string]int64{}
	for _, o := range outcomes {
		if prev, ok := txOfKey[o.key]; ok {
			require.Equal(t, prev, o.tx, "key %s answered with two transactions", o.key)
		}
		txOfKey[o.key] = o.tx
	}
	var nTx int
	require.NoError(t, b.db.Pool.QueryRow(b.ctx, `SELECT count(*) FROM ledger_transactions WHERE tenant_id = $1`, b.led.TenantID()).Scan(&nTx))
	require.Equal(t, len(txOfKey), nTx, "one transaction per successful key, none for failed ops")
	require.Greater(t, len(txOfKey), poolSize/4, "enough ops succeeded for the test to mean something")
	t.Logf("%d results, %d distinct transactions, %d key conflicts", len(outcomes), nTx, conflicts)
	requireInvariants(t, b.db)
}

// assertNoErr reports err from a goroutine (require may not be used there).
func assertNoErr(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Errorf("unexpected error: %v", err)
		return false
	}
	return true
}
