package rules_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// When the listener's connection drops, notifications sent meanwhile are
// lost: on reconnecting the cache drops every set, so the next Get reads
// the current rules.
func TestCacheListenerSurvivesConnectionLoss(t *testing.T) {
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

	u, err := url.Parse(testenv.DatabaseURL())
	require.NoError(t, err)
	proxy := testenv.Proxy(t, u.Host)
	u.Host = proxy.Addr()
	other, err := postgres.Open(ctx, u.String(), postgres.Options{MaxConns: 4, SearchPath: schema})
	require.NoError(t, err)
	t.Cleanup(other.Close)
	worker := rules.NewCache(rules.NewStore(db.Bun, c), c, testenv.Logger(t)) // loads through the direct pool
	ready := make(chan struct{}, 4)
	done := make(chan error, 1)
	go func() {
		done <- worker.Listen(ctx, other.Pool, rules.ListenOptions{RetryDelay: 20 * time.Millisecond, Ready: func() { ready <- struct{}{} }})
	}()
	waitFor(t, ready, "first LISTEN")
	set, err := worker.Get(ctx, tn.ID, g)
	require.NoError(t, err)
	require.Equal(t, 1, set.Rules()[0].Version)

	proxy.Cut()
	d := doc(t, xpRule)
	d.Name = "edited while the listener was away"
	_, err = store.ForTenant(tn.ID).UpdateRule(ctx, noActor, g, r.ID, d, 0)
	require.NoError(t, err)
	proxy.Restore()
	waitFor(t, ready, "LISTEN again after reconnecting")

	set, err = worker.Get(ctx, tn.ID, g)
	require.NoError(t, err)
	require.Equal(t, 2, set.Rules()[0].Version, "the missed change is read after reconnecting")
	cancel()
	require.NoError(t, <-done)
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}
