package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"
	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// ruleSinkBundle is a guild with currencies xp and gold, and rules made
// by create.
type ruleSinkBundle struct {
	tenantID int64
	guild    tenants.Guild
	db       *postgres.DB
	led      *ledger.Ledger
	store    *rules.TenantStore
}

func setupRuleSinks(t *testing.T) ruleSinkBundle {
	t.Helper()
	return setupRuleSinksIn(t, 0)
}

// setupRuleSinksIn is setupRuleSinks for the guild with id guildID, as a
// discordsim guild's (0: a new id).
func setupRuleSinksIn(t *testing.T, guildID int64) ruleSinkBundle {
	t.Helper()
	ctx := context.Background()
	db := testenv.DB(t)
	log := testenv.Logger(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tn.ID, &tenanttest.GuildOpts{ID: guildID})
	led := ledger.New(db, log).ForTenant(tn.ID)
	for _, code := range []string{"xp", "gold"} {
		_, err := led.CreateCurrency(ctx, tenants.Actor{ID: "1"}, ledger.Currency{GuildID: g.ID, Code: code, Name: code})
		require.NoError(t, err)
	}
	comp, err := rules.NewCompiler(rules.NewRegistry(), rules.CompilerOptions{})
	require.NoError(t, err)
	return ruleSinkBundle{tenantID: tn.ID, guild: g, db: db, led: led, store: rules.NewStore(db.Bun, comp).ForTenant(tn.ID)}
}

func (b ruleSinkBundle) create(t *testing.T, doc string) rules.Rule {
	t.Helper()
	var d rules.Document
	require.NoError(t, json.Unmarshal([]byte(doc), &d))
	r, err := b.store.CreateRule(context.Background(), tenants.Actor{ID: "1"}, b.guild.ID, d)
	require.NoError(t, err)
	return r
}

func (b ruleSinkBundle) rule(t *testing.T, id int64) rules.Rule {
	t.Helper()
	r, err := b.store.GetRule(context.Background(), b.guild.ID, id)
	require.NoError(t, err)
	return r
}

func (b ruleSinkBundle) balance(t *testing.T, code string, user int64) int64 {
	t.Helper()
	ctx := context.Background()
	c, err := b.led.CurrencyByCode(ctx, b.guild.ID, code)
	require.NoError(t, err)
	w, err := b.led.Balance(ctx, b.guild.ID, c.ID, user)
	require.NoError(t, err)
	return w.Balance
}

// A rule crediting a currency deleted after it was saved is refused by
// the ledger on every event: each refusal counts as the rule's run-time
// failure, and the DefaultFailureThreshold-th in a row disables it with
// an audit entry, while the guild's other rule keeps paying.
func TestRuleTheLedgerKeepsRefusingIsDisabled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupRuleSinks(t)
	gold := b.create(t, `{"name":"gold","trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"gold","amount":"1"}]}`)
	xp := b.create(t, `{"name":"xp","trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"xp","amount":"2"}]}`)
	_, err := b.db.Bun.ExecContext(ctx, "DELETE FROM ledger_currencies WHERE tenant_id = ? AND guild_id = ? AND code = 'gold'", b.tenantID, b.guild.ID)
	require.NoError(t, err)

	log := testenv.Logger(t)
	pipe, err := NewRulesPipeline(b.db, testenv.Redis(t), rest.New(rest.NewClient("unused")), log, ops.NewRegistry())
	require.NoError(t, err)
	const member = int64(900000000000000001)
	at := time.Now().UTC()
	event := func(i int) {
		ev := rules.Event{Name: "message_create", TenantID: b.tenantID, GuildID: b.guild.ID, SourceID: at.UnixNano() + int64(i),
			OccurredAt: at.Add(time.Duration(i) * time.Second), UserID: member, ChannelID: 5, Magnitude: 50}
		require.NoError(t, pipe.Evaluator.rounds(ctx, b.tenantID, []rules.Event{ev}, nil), "a refusal is no task error")
	}
	for i := 1; i < rules.DefaultFailureThreshold; i++ {
		event(i)
		require.True(t, b.rule(t, gold.ID).Enabled, "after %d refusals", i)
	}
	event(rules.DefaultFailureThreshold)
	r := b.rule(t, gold.ID)
	require.False(t, r.Enabled)
	require.Contains(t, r.DisabledReason, "5 consecutive failures")
	require.Contains(t, r.DisabledReason, "ledger refused the effect: currency not found")
	es, err := tenants.NewStore(b.db.Bun).ForTenant(b.tenantID).Audit().List(ctx, tenants.AuditFilter{GuildID: &b.guild.ID, Limit: 10})
	require.NoError(t, err)
	require.Equal(t, "rule.auto_disable", es[0].Action)
	require.Equal(t, "system", es[0].Actor)

	event(rules.DefaultFailureThreshold + 1)
	require.Equal(t, int64(2*(rules.DefaultFailureThreshold+1)), b.balance(t, "xp", member), "the other rule paid on every event")
	require.True(t, b.rule(t, xp.ID).Enabled)
}

// A rule messaging a deleted channel is disabled after as many refusals;
// a rule granting a role to members who left is not (the rule is fine for
// the others), and a rule messaging a channel that exists keeps working.
func TestRuleDiscordKeepsRefusingIsDisabled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, discordAPI, g := dmSim(t)
	b := setupRuleSinksIn(t, int64(g.ID))
	goneCh, fineCh := g.Channels["random"], g.Channels["general"]
	require.NoError(t, sim.DeleteChannel(ctx, goneCh))
	grant, err := sim.CreateRole(ctx, g.ID, discordsim.RoleOptions{Name: "poster"})
	require.NoError(t, err)
	member := g.Members[1]
	require.NoError(t, sim.MemberLeave(ctx, g.ID, member))

	gone := b.create(t, fmt.Sprintf(`{"name":"gone","trigger":{"events":["message_create"]},"effects":[{"type":"send_message","channel":"%d","content":"hi {user}"}]}`, goneCh))
	role := b.create(t, fmt.Sprintf(`{"name":"role","trigger":{"events":["message_create"]},"effects":[{"type":"grant_role","role":"%d"}]}`, grant.ID))
	fine := b.create(t, fmt.Sprintf(`{"name":"fine","trigger":{"events":["message_create"]},"effects":[{"type":"send_message","channel":"%d","content":"hi {user}"},{"type":"credit","currency":"xp","amount":"1"}]}`, fineCh))

	rdb := testenv.Redis(t)
	log := testenv.Logger(t)
	pipe, err := NewRulesPipeline(b.db, rdb, discordAPI, log, ops.NewRegistry())
	require.NoError(t, err)
	mux := asynq.NewServeMux()
	pipe.Register(mux)
	cfg := ServerConfig(log)
	cfg.Concurrency = 1 // one action at a time: refusals count in order
	srv := asynq.NewServerFromRedisClient(rdb, cfg)
	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)

	at := time.Now().UTC()
	for i := 1; i <= rules.DefaultFailureThreshold; i++ {
		ev := rules.Event{Name: "message_create", TenantID: b.tenantID, GuildID: b.guild.ID, SourceID: at.UnixNano() + int64(i),
			OccurredAt: at.Add(time.Duration(i) * time.Second), UserID: int64(member), ChannelID: int64(fineCh), Magnitude: 50}
		require.NoError(t, pipe.Evaluator.rounds(ctx, b.tenantID, []rules.Event{ev}, nil))
	}
	require.Eventually(t, func() bool { return !b.rule(t, gone.ID).Enabled }, 15*time.Second, 20*time.Millisecond)
	r := b.rule(t, gone.ID)
	require.Contains(t, r.DisabledReason, "5 consecutive failures")
	require.Contains(t, r.DisabledReason, "discord refused the effect: send_message")
	require.Equal(t, map[int]int{http.StatusNotFound: rules.DefaultFailureThreshold},
		sim.RESTCalls(http.MethodPost, fmt.Sprintf("/channels/%d/messages", goneCh)), "every message to the deleted channel refused")
	posted := func() int {
		ms, err := discordAPI.GetMessages(snowflake.ID(fineCh), 0, 0, 0, 100)
		require.NoError(t, err)
		n := 0
		for _, m := range ms {
			if m.Author.ID == snowflake.ID(sim.AppID()) {
				n++
			}
		}
		return n
	}
	require.Eventually(t, func() bool { return posted() == rules.DefaultFailureThreshold }, 15*time.Second, 20*time.Millisecond)
	grants := fmt.Sprintf("/guilds/%d/members/%d/roles/%d", g.ID, member, grant.ID)
	require.Eventually(t, func() bool {
		return sim.RESTCalls(http.MethodPut, grants)[http.StatusNotFound] == rules.DefaultFailureThreshold
	}, 15*time.Second, 20*time.Millisecond, "every grant made, and refused: the member left")
	require.Equal(t, map[int]int{http.StatusNotFound: rules.DefaultFailureThreshold}, sim.RESTCalls(http.MethodPut, grants))
	require.True(t, b.rule(t, fine.ID).Enabled)
	require.True(t, b.rule(t, role.ID).Enabled, "an unknown member is not the rule's fault")
	require.Equal(t, int64(rules.DefaultFailureThreshold), b.balance(t, "xp", int64(member)))
}
