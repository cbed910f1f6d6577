package ledgerpost_test

import (
	"context"
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

// PostResults returns each credit's result in order: the balance it left,
// the same when the batch is posted again, and the refusal of a credit to
// a currency the guild lacks (the others still apply).
func TestPostResultsReturnsEachCreditsBalance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	guildID := (time.Now().UnixMilli()-1420070400000)<<22 | (seq.Add(1) & 0x3fffff)
	_, err := db.Bun.ExecContext(ctx, "INSERT INTO guilds (tenant_id, id, name) VALUES (?, ?, 'g')", tn.ID, guildID)
	require.NoError(t, err)
	svc := ledger.New(db, testenv.Logger(t))
	_, err = svc.ForTenant(tn.ID).InstallPreset(ctx, tenants.Actor{}, guildID, ledger.PresetClassic)
	require.NoError(t, err)
	credit := func(src, amount int64, currency string) rules.Credit {
		return rules.Credit{Origin: rules.Origin{RuleID: 1, RuleVersion: 1, GuildID: guildID, Event: "message_create", SourceID: src},
			UserID: 7, Currency: currency, Amount: amount}
	}
	credits := []rules.Credit{credit(1, 30, "xp"), credit(2, 5, "nope"), credit(3, 12, "xp")}
	p := ledgerpost.New(svc, testenv.Logger(t))
	for run := 0; run < 2; run++ {
		res, err := p.PostResults(ctx, tn.ID, credits, nil)
		require.NoError(t, err)
		require.Len(t, res, 3)
		b, ok := res[0].BalanceOf(7)
		require.True(t, ok)
		require.Equal(t, int64(30), b)
		require.Error(t, res[1].Err)
		b, ok = res[2].BalanceOf(7)
		require.True(t, ok)
		require.Equal(t, int64(42), b, "run %d: the balance each credit left, replays included", run)
		require.Equal(t, run == 1, res[2].Replayed)
	}
}
