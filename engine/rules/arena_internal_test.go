package rules

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// Keys carved from the arena equal idempotencyKey's, and stay equal after
// many more keys (and chunks) were handed out.
func TestKeyArenaKeysAreStable(t *testing.T) {
	t.Parallel()
	var a keyArena
	type made struct {
		key, want string
	}
	var all []made
	for i := 0; i < 2000; i++ {
		rule, ver, src := int64(i%37+1), i%5+1, int64(1_000_000_000_000+i)
		event := []string{"message_create", "reaction_add", "custom." + string(rune('a'+i%26))}[i%3]
		prefix := "r" + strconv.FormatInt(rule, 10) + ".v" + strconv.Itoa(ver) + "."
		all = append(all, made{a.key(prefix, event, src, i%16), idempotencyKey(rule, ver, event, src, i%16)})
	}
	for _, m := range all {
		require.Equal(t, m.want, m.key)
	}
}

// The default chance rolls the same over the scratch buffer as over the key.
func TestRollMatchesHashChanceOfKey(t *testing.T) {
	t.Parallel()
	e, err := NewEngine(Options{State: NewMemoryState(), Facts: StaticFacts{}, Chance: HashChance{Seed: 7}})
	require.NoError(t, err)
	r := &CompiledRule{ID: 12, Version: 3, keyPrefix: "r12.v3."}
	for src := int64(1); src < 50; src++ {
		ev := &Event{Name: "message_create", SourceID: src * 7919}
		ec := &evalCtx{eng: e, ev: ev, rule: r}
		require.Equal(t, HashChance{Seed: 7}.Roll(idempotencyKey(12, 3, "message_create", src*7919, -1)), ec.roll())
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
