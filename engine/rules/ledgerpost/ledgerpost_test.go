package ledgerpost_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/engine/rules/ledgerpost"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

var seq atomic.Int64

// Events through the Classic preset into the real ledger: balances match
// the planned credits, and a batch processed twice pays once.
func TestClassicIntoTheLedger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	guildID := (time.Now().UnixMilli()-1420070400000)<<22 | (seq.Add(1) & 0x3fffff)
	_, err := db.Bun.ExecContext(ctx, "INSERT INTO guilds (tenant_id, id, name) VALUES (?, ?, 'g')", tn.ID, guildID)
	require.NoError(t, err)
	svc := ledger.New(db, testenv.Logger(t))
	currencies, err := svc.ForTenant(tn.ID).InstallPreset(ctx, tenants.Actor{}, guildID, ledger.PresetClassic)
	require.NoError(t, err)
	ids := map[string]int64{}
	for _, c := range currencies {
		ids[c.Code] = c.ID
	}

	comp, err := rules.NewCompiler(rules.NewRegistry(), rules.CompilerOptions{})
	require.NoError(t, err)
	store := rules.NewStore(db.Bun, comp)
	_, err = store.ForTenant(tn.ID).InstallPreset(ctx, tenants.Actor{}, guildID, rules.Classic())
	require.NoError(t, err)
	eng, err := rules.NewEngine(rules.Options{State: rules.NewMemoryState(), Facts: rules.StaticFacts{}})
	require.NoError(t, err)
	runner := &rules.Runner{Sets: rules.NewCache(store, comp, testenv.Logger(t)), Engine: eng, Ledger: ledgerpost.New(svc, testenv.Logger(t))}

	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	var batch []rules.Event
	for i := 0; i < 30; i++ { // 3 users, a message every 20 s each: one in three is past the cooldown
		batch = append(batch, rules.Event{Name: "message_create", TenantID: tn.ID, GuildID: guildID, SourceID: int64(1000 + i),
			OccurredAt: at.Add(time.Duration(i/3) * 20 * time.Second), UserID: int64(i%3 + 1), ChannelID: 5, Magnitude: 50})
	}
	batch = append(batch, rules.Event{Name: "thread_create", TenantID: tn.ID, GuildID: guildID, SourceID: 77, OccurredAt: at, UserID: 1, ChannelID: 5, TargetID: 78})

	for run := 0; run < 2; run++ {
		rep, err := runner.Process(ctx, tn.ID, batch)
		require.NoError(t, err)
		require.Empty(t, rep.Failures)
	}
	l := svc.ForTenant(tn.ID)
	balance := func(code string, user int64) int64 {
		w, err := l.Balance(ctx, guildID, ids[code], user)
		require.NoError(t, err)
		return w.Balance
	}
	// 10 messages each, 20 s apart, 60 s cooldown: messages 0, 3, 6, 9 earn 10 XP.
	require.Equal(t, int64(40+25), balance("xp", 1), "messages plus the thread")
	require.Equal(t, int64(40), balance("xp", 2))
	require.Equal(t, int64(1), balance("stars", 1))
}
