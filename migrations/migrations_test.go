package migrations_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/migrations"
)

func TestUpIsIdempotentAndDownReverts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t) // already migrated up once
	m, err := migrations.New(db.Bun)
	require.NoError(t, err)

	applied, err := m.Up(ctx)
	require.NoError(t, err)
	require.Empty(t, applied, "a second up must apply nothing")

	st, err := m.Status(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, st)
	for _, s := range st {
		require.True(t, s.Applied, s.Name)
	}

	for {
		reverted, err := m.Down(ctx)
		require.NoError(t, err)
		if len(reverted) == 0 {
			break
		}
	}
	var n int
	require.NoError(t, db.Pool.QueryRow(ctx,
		`SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'tenants'`).Scan(&n))
	require.Zero(t, n, "down must drop what up created")

	applied, err = m.Up(ctx)
	require.NoError(t, err)
	require.Len(t, applied, len(st), "up after a full down re-applies everything")
}
