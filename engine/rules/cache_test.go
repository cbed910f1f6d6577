package rules_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// A change saved through one connection is picked up by a cache on
// another worker (its own pool, LISTENing) without polling: the test waits
// on the cache's reload callback.
func TestCacheReloadsOnNotify(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, schema := testenv.DBWithSchema(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := guild(t, db.Bun, tn.ID)
	c := compiler(t)
	store := rules.NewStore(db.Bun, c)
	r, err := store.ForTenant(tn.ID).CreateRule(ctx, noActor, g, doc(t, xpRule))
	require.NoError(t, err)

	// The second worker: its own pool on the same schema.
	other, err := postgres.Open(ctx, testenv.DatabaseURL(), postgres.Options{MaxConns: 4, SearchPath: schema})
	require.NoError(t, err)
	t.Cleanup(other.Close)
	worker := rules.NewCache(rules.NewStore(other.Bun, c), c, testenv.Logger(t))
	reloaded := make(chan int64, 16)
	worker.OnReload(func(_, guildID int64) {
		if guildID == g {
			reloaded <- guildID
		}
	})
	ready := make(chan struct{}, 4)
	done := make(chan error, 1)
	go func() {
		done <- worker.Listen(ctx, other.Pool, rules.ListenOptions{Ready: func() { ready <- struct{}{} }})
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("listener never became ready")
	}

	set, err := worker.Get(ctx, tn.ID, g)
	require.NoError(t, err)
	require.Len(t, set.Rules(), 1)
	require.Equal(t, 1, set.Rules()[0].Version)
	again, err := worker.Get(ctx, tn.ID, g)
	require.NoError(t, err)
	require.Same(t, set, again, "served from memory")

	d := doc(t, xpRule)
	d.Name = "xp, edited"
	start := time.Now()
	_, err = store.ForTenant(tn.ID).UpdateRule(ctx, noActor, g, r.ID, d, 0)
	require.NoError(t, err)
	select {
	case <-reloaded:
	case <-time.After(5 * time.Second):
		t.Fatal("the change was not picked up")
	}
	took := time.Since(start)
	t.Logf("change visible to the other worker after %s", took)
	require.Less(t, took, time.Second)

	set, err = worker.Get(ctx, tn.ID, g)
	require.NoError(t, err)
	require.Equal(t, 2, set.Rules()[0].Version)
	require.Equal(t, "xp, edited", set.Rules()[0].Name)

	// Zones are part of the set too.
	_, err = store.ForTenant(tn.ID).CreateZone(ctx, noActor, rules.Zone{GuildID: g, Name: "help"})
	require.NoError(t, err)
	select {
	case <-reloaded:
	case <-time.After(5 * time.Second):
		t.Fatal("the zone change was not picked up")
	}
	set, err = worker.Get(ctx, tn.ID, g)
	require.NoError(t, err)
	require.Len(t, set.Zones(), 1)

	cancel()
	require.NoError(t, <-done)
}

func TestCacheReusesCompiledVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupStore(t)
	_, err := b.rules.CreateRule(ctx, noActor, b.guild, doc(t, xpRule))
	require.NoError(t, err)
	second, err := b.rules.CreateRule(ctx, noActor, b.guild, doc(t, xpRule))
	require.NoError(t, err)
	cache := rules.NewCache(b.store, b.compile, testenv.Logger(t))
	before, err := cache.Get(ctx, b.tenant, b.guild)
	require.NoError(t, err)

	_, err = b.rules.SetRuleEnabled(ctx, noActor, b.guild, second.ID, false)
	require.NoError(t, err)
	cache.Invalidate(b.guild)
	after, err := cache.Get(ctx, b.tenant, b.guild)
	require.NoError(t, err)
	require.NotSame(t, before, after)
	require.Same(t, before.Rules()[0], after.Rules()[0], "an unchanged rule version is not compiled again")
	require.False(t, after.Rules()[1].Enabled)

	res := eval(t, engine(t, rules.StaticFacts{}, nil), after, msg(1, t0, 50))
	require.Len(t, res.Fired, 1, "the disabled rule does not run")
}
