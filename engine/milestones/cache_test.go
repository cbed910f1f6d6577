package milestones

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
)

// TestCounterCache pins what the per-member cache of closed days sees:
// the live days (today and yesterday) always, older days as of the
// cache's build, which happens once a day or when the templates need
// other days by day.
func TestCounterCache(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild(t, "")
	u := b.member(t, g, time.Time{}, 0)
	now := time.Now()
	day := func(ago int) time.Time { return now.UTC().AddDate(0, 0, -ago) }
	label := func(at time.Time, key string) string {
		ps, err := b.ms.progress(b.ctx, g, u, at)
		require.NoError(t, err)
		return progressOf(t, ps, key).Label
	}
	b.template(t, g, Template{Key: "all_time", Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 1000}})
	b.count(t, g, u, day(10), lake.MessageCreate, 1, 7, 0)
	b.count(t, g, u, day(40), lake.MessageCreate, 1, 3, 0)
	require.Equal(t, "10/1000 messages", label(now, "all_time"))

	t.Run("the live days are read on every check", func(t *testing.T) {
		b.count(t, g, u, day(0), lake.MessageCreate, 1, 1, 0)
		b.count(t, g, u, day(1), lake.MessageCreate, 1, 2, 0)
		require.Equal(t, "13/1000 messages", label(now, "all_time"))
	})
	t.Run("a template that needs days one by one rebuilds the cache", func(t *testing.T) {
		b.template(t, g, Template{Key: "month", Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 1000, WindowDays: 30}})
		require.Equal(t, "10/1000 messages", label(now, "month"), "10 days ago and the live days, not 40 days ago")
		require.Equal(t, "13/1000 messages", label(now, "all_time"))
	})
	t.Run("an older day written late is seen from the next day", func(t *testing.T) {
		b.count(t, g, u, day(5), lake.MessageCreate, 1, 100, 0) // a backfill
		require.Equal(t, "13/1000 messages", label(now, "all_time"))
		require.Equal(t, "113/1000 messages", label(now.Add(24*time.Hour), "all_time"))
	})
	t.Run("another process reads the same cache row", func(t *testing.T) {
		other := New(b.db, b.ledSvc, nil).ForTenant(b.tenant)
		ps, err := other.progress(b.ctx, g, u, now.Add(24*time.Hour))
		require.NoError(t, err)
		require.Equal(t, "113/1000 messages", progressOf(t, ps, "all_time").Label)
	})
}
