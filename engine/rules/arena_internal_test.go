package rules

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// An Origin's key is its fixed key when it has one, the rule effect's
// key when it has a source event, and empty (refused by sinks) otherwise.
func TestOriginIdempotencyKey(t *testing.T) {
	t.Parallel()
	o := Origin{RuleID: 12, RuleVersion: 3, Index: 1, Event: "reaction_add", SourceID: 99}
	require.Equal(t, "r12.v3.reaction_add.99.e1", o.IdempotencyKey())
	require.Equal(t, idempotencyKey(12, 3, "reaction_add", 99, 1), o.IdempotencyKey())
	o.FixedKey = "ms.a7.dm"
	require.Equal(t, "ms.a7.dm", o.IdempotencyKey())
	require.Empty(t, Origin{RuleID: 12, RuleVersion: 3}.IdempotencyKey())
}

// The default chance rolls the same over the scratch buffer as over the
// key, for each rule of an event and from one event to the next, with the
// default seed (its prefix state kept from compilation) and another.
func TestRollMatchesHashChanceOfKey(t *testing.T) {
	t.Parallel()
	c, err := NewCompiler(NewRegistry(), CompilerOptions{})
	require.NoError(t, err)
	var d Document
	require.NoError(t, json.Unmarshal([]byte(`{"name":"chance","trigger":{"events":["message_create"]},
		"conditions":[{"type":"random_chance","probability":0.5}],"effects":[{"type":"credit","currency":"xp","base":1,"amount":"base"}]}`), &d))
	compiled, err := c.Compile(Rule{ID: 88, Version: 2, Enabled: true, Document: d})
	require.NoError(t, err)
	require.NotZero(t, compiled.chance0)
	rules := []*CompiledRule{{ID: 12, Version: 3, keyPrefix: "r12.v3."}, {ID: 4567, Version: 12, keyPrefix: "r4567.v12."}, compiled}
	for _, seed := range []uint64{0, 7} {
		e, err := NewEngine(Options{State: NewMemoryState(), Facts: StaticFacts{}, Chance: HashChance{Seed: seed}})
		require.NoError(t, err)
		ec := &evalCtx{eng: e}
		for src := int64(1); src < 50; src++ {
			ec.resetEvent()
			ec.ev = &Event{Name: []string{"message_create", "reaction_add"}[src%2], SourceID: src * 7919}
			for _, r := range rules {
				ec.rule = r
				want := HashChance{Seed: seed}.Roll(idempotencyKey(r.ID, r.Version, ec.ev.Name, src*7919, -1))
				require.Equal(t, want, ec.roll(), "seed %d, rule %d, source %d", seed, r.ID, src)
			}
		}
	}
}

// Copies from the arena keep their contents while later copies fill the
// chunk and the next ones, and appending to one leaves its neighbour alone.
func TestArenaCopiesAreStable(t *testing.T) {
	t.Parallel()
	var a arena[Fired]
	var copies, want [][]Fired
	for i := 0; i < 500; i++ {
		src := make([]Fired, i%7+1)
		for j := range src {
			src[j] = Fired{RuleID: int64(i), SourceID: int64(j)}
		}
		c := a.copyOf(src)
		require.Equal(t, len(c), cap(c))
		copies, want = append(copies, c), append(want, append([]Fired(nil), src...))
		clear(src) // the copy must not share the source
	}
	_ = append(copies[0], Fired{RuleID: -1})
	for i := range copies {
		require.Equal(t, want[i], copies[i])
	}
	require.Nil(t, a.copyOf(nil))
}
