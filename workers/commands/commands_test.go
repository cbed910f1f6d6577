package commands_test

import (
	"context"
	"testing"
	"time"

	"github.com/disgoorg/disgo/rest"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/workers/commands"
	"github.com/synapsehq/synapse/workers/gateway"
	"github.com/synapsehq/synapse/workers/gateway/gatewaytest"
)

// Slash commands sent through discordsim reach the bot over the gateway and
// are answered over REST, from the ledger, with a clear ephemeral reply on
// every refusal.
func TestEconomyCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	log := testenv.Logger(t)
	cfg := discordsim.DefaultConfig()
	cfg.Guilds, cfg.MembersPerGuild, cfg.Shards = 1, 10, 1
	cfg.IdentifyInterval = 10 * time.Millisecond
	sim := gatewaytest.Sim(t, cfg)

	reg := ops.NewRegistry()
	rc := rest.New(rest.NewClient(sim.Token(), sim.RESTClientOptions()...))
	svc := ledger.New(db, log)
	ms := milestones.New(db, svc, log)
	h := commands.New(svc, ms, tenants.NewStore(db.Bun), rc, log, reg)
	require.NoError(t, h.Register(int64(sim.AppID())))

	w, _ := gatewaytest.Capture(t, db, sim, gateway.Config{Commands: h})
	require.NoError(t, w.StartShard(ctx, 0, 1, 0, nil))

	g := sim.Guilds()[0]
	var tenantID int64
	var err error
	require.Eventually(t, func() bool {
		tenantID, err = tenants.NewStore(db.Bun).TenantOfGuild(ctx, int64(g.ID))
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "the guild was adopted on GUILD_CREATE")
	led := svc.ForTenant(tenantID)
	_, err = led.InstallPreset(ctx, tenants.Actor{ID: "system"}, int64(g.ID), "classic")
	require.NoError(t, err)
	_, err = ms.ForTenant(tenantID).InstallClassic(ctx, tenants.Actor{ID: "system"}, int64(g.ID))
	require.NoError(t, err)

	// The first members of a synthetic guild are its staff; regular members come last.
	owner, alice, bob := g.Members[0], g.Members[len(g.Members)-1], g.Members[len(g.Members)-2]
	channel := g.Channels["general"]
	run := func(user discordsim.ID, name string, opts map[string]any) (string, bool) {
		t.Helper()
		in, err := sim.SlashCommand(ctx, discordsim.SlashCommandOptions{GuildID: g.ID, ChannelID: channel, UserID: user, Name: name, Options: opts})
		require.NoError(t, err)
		var resp map[string]any
		require.Eventually(t, func() bool {
			rs := sim.InteractionResponses(in.ID)
			if len(rs) == 0 {
				return false
			}
			resp = rs[0]
			return true
		}, 10*time.Second, 10*time.Millisecond, "/%s was answered", name)
		data, _ := resp["data"].(map[string]any)
		content, _ := data["content"].(string)
		flags, _ := data["flags"].(float64)
		return content, int(flags)&64 != 0
	}

	t.Run("a member may not award", func(t *testing.T) {
		msg, eph := run(alice, "award", map[string]any{"member": alice.String(), "currency": "gold", "amount": "100"})
		require.True(t, eph)
		require.Contains(t, msg, "Manage Server")
	})
	t.Run("giving without funds", func(t *testing.T) {
		msg, eph := run(alice, "give", map[string]any{"member": bob.String(), "currency": "gold", "amount": "5"})
		require.True(t, eph)
		require.Contains(t, msg, "Insufficient funds")
	})
	t.Run("XP cannot be given", func(t *testing.T) {
		msg, eph := run(alice, "give", map[string]any{"member": bob.String(), "currency": "xp", "amount": "5"})
		require.True(t, eph)
		require.Contains(t, msg, "cannot be given")
	})
	t.Run("the owner awards, the member gives and buys", func(t *testing.T) {
		msg, eph := run(owner, "award", map[string]any{"member": alice.String(), "currency": "gold", "amount": "100", "reason": "event winner"})
		require.False(t, eph, msg)
		require.Contains(t, msg, "awarded")
		msg, _ = run(alice, "give", map[string]any{"member": bob.String(), "currency": "gold", "amount": "30"})
		require.Contains(t, msg, "gave")
		msg, _ = run(alice, "buy", map[string]any{"item": "nonexistent"})
		require.Contains(t, msg, "no such item")
		gold, err := led.CurrencyByCode(ctx, int64(g.ID), "gold")
		require.NoError(t, err)
		wa, err := led.Balance(ctx, int64(g.ID), gold.ID, int64(alice))
		require.NoError(t, err)
		wb, err := led.Balance(ctx, int64(g.ID), gold.ID, int64(bob))
		require.NoError(t, err)
		require.Equal(t, []int64{70, 30}, []int64{wa.Balance, wb.Balance})
		msg, _ = run(bob, "leaderboard", map[string]any{"currency": "gold"})
		require.Contains(t, msg, "1. <@"+alice.String()+">")
	})
	t.Run("replies speak the community's words (taxonomy)", func(t *testing.T) {
		msg, _ := run(alice, "achievements", nil)
		require.Contains(t, msg, "**Achievements of ")
		_, err := tenants.NewStore(db.Bun).ForTenant(tenantID).Guilds().SetTaxonomy(ctx, tenants.Actor{ID: "7"}, int64(g.ID),
			map[string]tenants.Label{"achievement": {One: "Badge", Many: "Badges"}, "leaderboard": {One: "Hall of fame", Many: "Halls of fame"}})
		require.NoError(t, err)
		msg, _ = run(alice, "achievements", nil)
		require.Contains(t, msg, "**Badges of ")
		msg, _ = run(bob, "leaderboard", map[string]any{"currency": "gold"})
		require.Contains(t, msg, "Gold hall of fame", "%q", msg)
		_, err = tenants.NewStore(db.Bun).ForTenant(tenantID).Guilds().SetTaxonomy(ctx, tenants.Actor{ID: "7"}, int64(g.ID), nil)
		require.NoError(t, err)
	})
	t.Run("achievements: grant needs Manage Server, then shows as earned", func(t *testing.T) {
		msg, eph := run(alice, "grant-achievement", map[string]any{"member": alice.String(), "achievement": "first_message"})
		require.True(t, eph)
		require.Contains(t, msg, "Manage Server")
		msg, eph = run(alice, "achievements", nil)
		require.True(t, eph)
		require.Contains(t, msg, "In progress:")
		require.NotContains(t, msg, "Earned:")
		msg, _ = run(owner, "grant-achievement", map[string]any{"member": alice.String(), "achievement": "first_message"})
		require.Contains(t, msg, "granted")
		msg, _ = run(alice, "achievements", nil)
		require.Contains(t, msg, "Earned:")
		require.Contains(t, msg, "First Words")
		msg, _ = run(owner, "revoke-achievement", map[string]any{"member": alice.String(), "achievement": "first_message"})
		require.Contains(t, msg, "revoked")
		msg, eph = run(owner, "grant-achievement", map[string]any{"member": alice.String(), "achievement": "no_such_thing"})
		require.True(t, eph, msg)
		require.Contains(t, msg, "Not found")
	})
	t.Run("settings: a member opts out of announcements, privately", func(t *testing.T) {
		msg, eph := run(bob, "settings", nil)
		require.True(t, eph)
		require.Contains(t, msg, "announcements **on**, DMs from Synapse **on**")
		msg, _ = run(bob, "settings", map[string]any{"announce": false})
		require.Contains(t, msg, "announcements **off**, DMs from Synapse **on**")
		m, err := tenants.NewStore(db.Bun).ForTenant(tenantID).Members().Get(ctx, int64(g.ID), int64(bob))
		require.NoError(t, err)
		require.NotZero(t, m.Flags&tenants.MemberAnnounceOptOut, "the announcer reads this flag")
		require.Zero(t, m.Flags&tenants.MemberDMOptOut)
		msg, _ = run(bob, "settings", map[string]any{"dm": false, "announce": true})
		require.Contains(t, msg, "announcements **on**, DMs from Synapse **off**")
	})
	t.Run("balance and shop answer privately", func(t *testing.T) {
		msg, eph := run(alice, "balance", nil)
		require.True(t, eph)
		require.Contains(t, msg, "Gold")
		msg, eph = run(alice, "shop", nil)
		require.True(t, eph)
		require.Contains(t, msg, "coffee")
	})
}
