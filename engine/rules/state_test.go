package rules_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/testenv"
)

// Both State implementations must give the same answers.
func TestStateContract(t *testing.T) {
	t.Parallel()
	impls := []struct {
		name string
		new  func(t *testing.T) rules.State
	}{
		{"memory", func(t *testing.T) rules.State { return rules.NewMemoryState() }},
		{"redis", func(t *testing.T) rules.State {
			return rules.NewRedisState(testenv.Redis(t), func() time.Time { return t0 })
		}},
	}
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			s := impl.new(t)
			ctx := context.Background()
			t.Run("cooldown", func(t *testing.T) {
				steps := []struct {
					name  string
					token string
					at    time.Duration
					want  bool
				}{
					{"first fires", "a", 0, true},
					{"same event retried fires again", "a", 0, true},
					{"another event inside the window is refused", "b", 30 * time.Second, false},
					{"an older event inside the window is refused", "c", -30 * time.Second, false},
					{"at the window's end fires", "d", time.Minute, true},
					{"the window restarts from the new mark", "e", 90 * time.Second, false},
					{"retry of the refused event stays refused", "b", 30 * time.Second, false},
				}
				for pass, label := range []string{"", " (replayed)"} {
					for _, st := range steps {
						ok, err := s.Cooldown(ctx, rules.Key{Kind: "cd", Guild: 1, Rule: 2, Scope: "user", A: 3}, rules.Token{Event: st.token, Source: 1}, t0.Add(st.at), time.Minute)
						require.NoError(t, err)
						require.Equal(t, st.want, ok, "%s%s (pass %d)", st.name, label, pass)
					}
				}
			})
			t.Run("velocity", func(t *testing.T) {
				steps := []struct {
					name  string
					token string
					at    time.Duration
					want  bool
				}{
					{"1st", "a", 0, true},
					{"2nd", "b", time.Minute, true},
					{"retry of 2nd", "b", time.Minute, true},
					{"3rd over the limit", "c", 2 * time.Minute, false},
					{"after the 1st left the window", "d", time.Hour + time.Second, true},
					{"still full", "e", time.Hour + 2*time.Second, false},
					{"a late event far in the past has its own window", "f", -2 * time.Hour, true},
					{"which did not make the present forget its entries", "g", time.Hour + 3*time.Second, false},
				}
				// A task replaying the whole sequence takes the same decisions.
				for pass, label := range []string{"", " (replayed)"} {
					for _, st := range steps {
						ok, err := s.Velocity(ctx, rules.Key{Kind: "vel", Guild: 1, Rule: 2, A: 3, B: 4}, rules.Token{Event: st.token, Source: 1}, t0.Add(st.at), time.Hour, 2)
						require.NoError(t, err)
						require.Equal(t, st.want, ok, "%s%s (pass %d)", st.name, label, pass)
					}
				}
			})
			t.Run("keys apart", func(t *testing.T) {
				// Keys differing in one field only (rule, kind, scope, who)
				// keep their own state, used in any interleaving.
				base := rules.Key{Kind: "cd", Guild: 5, Rule: 1, Scope: "user", A: 7}
				keys := []rules.Key{base}
				for _, mod := range []func(k *rules.Key){
					func(k *rules.Key) { k.Rule = 2 },
					func(k *rules.Key) { k.Rule = 0 },
					func(k *rules.Key) { k.Kind = "vel" },
					func(k *rules.Key) { k.Scope = "channel" },
					func(k *rules.Key) { k.A = 8 },
					func(k *rules.Key) { k.B = 9 },
					func(k *rules.Key) { k.Guild = 6 },
				} {
					k := base
					mod(&k)
					keys = append(keys, k)
				}
				for i, k := range keys {
					ok, err := s.Cooldown(ctx, k, rules.Token{Event: "first", Source: int64(i)}, t0, time.Minute)
					require.NoError(t, err)
					require.True(t, ok, "first event under %+v", k)
					ok, err = s.Cooldown(ctx, keys[0], rules.Token{Event: "again", Source: int64(i)}, t0.Add(time.Second), time.Minute)
					require.NoError(t, err)
					require.False(t, ok, "the first key stays cooling down after %+v", k)
				}
				capKey := rules.Key{Kind: "cap", Guild: 5, Rule: 1, Scope: "xp:day", A: 7, B: t0.Unix()}
				other := capKey
				other.Rule = 2
				for i, k := range []rules.Key{capKey, other, capKey, other} {
					g, err := s.CapConsume(ctx, k, rules.Token{Event: "message_create", Source: int64(i), Rule: k.Rule}, 30, 50, t0.Add(time.Hour))
					require.NoError(t, err)
					require.Equal(t, []int64{30, 30, 20, 20}[i], g, "consume %d", i)
				}
				for _, k := range []rules.Key{capKey, other} {
					used, err := s.CapUsed(ctx, k, rules.Token{})
					require.NoError(t, err)
					require.Equal(t, int64(50), used)
				}
			})
			t.Run("cap", func(t *testing.T) {
				end := t0.Add(12 * time.Hour)
				capKey := rules.Key{Kind: "cap", Guild: 1, Scope: "xp:day", A: 3, B: t0.Unix()}
				steps := []struct {
					name   string
					token  string
					amount int64
					want   int64
					used   int64
				}{
					{"within the cap", "a", 60, 60, 60},
					{"retried: same grant, nothing more used", "a", 60, 60, 60},
					{"clipped to what is left", "b", 60, 40, 100},
					{"nothing left", "c", 10, 0, 100},
					{"retry of the clipped one keeps its grant", "b", 60, 40, 100},
				}
				for _, st := range steps {
					g, err := s.CapConsume(ctx, capKey, rules.Token{Event: "message_create", Source: int64(st.token[0]), Rule: 2}, st.amount, 100, end)
					require.NoError(t, err)
					require.Equal(t, st.want, g, st.name)
					used, err := s.CapUsed(ctx, capKey, rules.Token{})
					require.NoError(t, err)
					require.Equal(t, st.used, used, st.name)
				}
				used, err := s.CapUsed(ctx, rules.Key{Kind: "cap", Guild: 9}, rules.Token{})
				require.NoError(t, err)
				require.Zero(t, used)
			})
			t.Run("cap headroom ignores the asking event's own grants", func(t *testing.T) {
				end := t0.Add(12 * time.Hour)
				capKey := rules.Key{Kind: "cap", Guild: 2, Rule: 4, Scope: "xp:day", A: 3, B: t0.Unix()}
				mine := rules.Token{Event: "message_create", Source: 77, Rule: 4}
				other := rules.Token{Event: "message_create", Source: 78, Rule: 4}
				g, err := s.CapConsume(ctx, capKey, other, 30, 40, end)
				require.NoError(t, err)
				require.Equal(t, int64(30), g)
				for effect := range 2 { // two capped credits of one rule
					tok := mine
					tok.Effect = effect
					g, err := s.CapConsume(ctx, capKey, tok, 5, 40, end)
					require.NoError(t, err)
					require.Equal(t, int64(5), g)
				}
				used, err := s.CapUsed(ctx, capKey, rules.Token{})
				require.NoError(t, err)
				require.Equal(t, int64(40), used, "the cap is full")
				used, err = s.CapUsed(ctx, capKey, mine)
				require.NoError(t, err)
				require.Equal(t, int64(30), used, "the retried event still has headroom: the rest is its own")
				other.Source, other.Rule = 79, 5
				used, err = s.CapUsed(ctx, capKey, other)
				require.NoError(t, err)
				require.Equal(t, int64(40), used, "another event, or the same event under another rule, does not")
			})
		})
	}
}
