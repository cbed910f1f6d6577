package ledgerpost_test

import (
	"context"
	"strconv"
	"sync"
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

// recordingReporter keeps what a sink reports.
type recordingReporter struct {
	mu  sync.Mutex
	got []string
}

func (r *recordingReporter) ReportEffects(_ context.Context, _ int64, sink rules.Sink, outcomes []rules.EffectOutcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range outcomes {
		s := sink.String() + " rule " + strconv.FormatInt(o.RuleID, 10) + ": "
		if o.Err != nil {
			s += "refused: " + o.Err.Error()
		} else {
			s += "applied"
		}
		r.got = append(r.got, s)
	}
}

// Each rule run is reported once, in order: refused when the ledger
// refused one of its ops for good (an unknown currency), applied when it
// applied or replayed them; a debit refused for insufficient funds is the
// member's balance, not the rule's fault, and is not reported.
func TestPostReportsEachRuleRun(t *testing.T) {
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
	origin := func(rule, src int64) rules.Origin {
		return rules.Origin{RuleID: rule, RuleVersion: 1, GuildID: guildID, Event: "message_create", SourceID: src}
	}
	credits := []rules.Credit{
		{Origin: origin(1, 1), UserID: 7, Currency: "xp", Amount: 5},
		{Origin: origin(2, 1), UserID: 7, Currency: "xp", Amount: 1},
		{Origin: func() rules.Origin { o := origin(2, 1); o.Index = 1; return o }(), UserID: 7, Currency: "nope", Amount: 1},
		{Origin: origin(3, 1), UserID: 7, Currency: "nope", Amount: 1},
		{Origin: rules.Origin{GuildID: guildID, FixedKey: "milestone.reward.1"}, UserID: 7, Currency: "nope", Amount: 1},
	}
	debits := []rules.Debit{{Origin: origin(4, 1), UserID: 8, Currency: "xp", Amount: 1}}
	rep := &recordingReporter{}
	p := ledgerpost.New(svc, testenv.Logger(t)).ReportTo(rep)
	require.NoError(t, p.Post(ctx, tn.ID, credits, debits))
	want := []string{
		"ledger rule 1: applied",
		"ledger rule 2: refused: currency not found",
		"ledger rule 3: refused: currency not found",
	}
	require.Equal(t, want, rep.got)

	rep.got = nil
	_, err = p.PostResults(ctx, tn.ID, credits[:2], nil)
	require.NoError(t, err)
	require.Equal(t, []string{"ledger rule 1: applied", "ledger rule 2: applied"}, rep.got, "replays are applied")
}
