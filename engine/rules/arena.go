package rules

import "unsafe"

// arena hands out copies of slices carved from shared chunks, as keyArena
// does for keys: one allocation per chunk instead of one or two per event.
// A chunk's elements are written once, when copied in, and never again: a
// copy's capacity ends at its length, so appending to it reallocates
// rather than writing over the next copy. A chunk lives as long as one of
// its copies does.
type arena[T any] struct{ buf []T }

// arenaChunk is the size of a chunk in bytes.
const arenaChunk = 4096

// copyOf returns a copy of src (nil when src is empty).
func (a *arena[T]) copyOf(src []T) []T {
	if len(src) == 0 {
		return nil
	}
	if cap(a.buf)-len(a.buf) < len(src) {
		var zero T
		a.buf = make([]T, 0, max(arenaChunk/int(unsafe.Sizeof(zero)), len(src)))
	}
	start := len(a.buf)
	a.buf = append(a.buf, src...)
	return a.buf[start:len(a.buf):len(a.buf)]
}

// one copies v into the arena and returns where it lies.
func (a *arena[T]) one(v T) *T {
	if len(a.buf) == cap(a.buf) {
		var zero T
		a.buf = make([]T, 0, max(arenaChunk/int(unsafe.Sizeof(zero)), 1))
	}
	a.buf = append(a.buf, v)
	return &a.buf[len(a.buf)-1]
}

// iface is how Go lays out a non-empty interface value: its type word and
// a pointer to its (immutable) value.
type iface struct{ tab, data unsafe.Pointer }

// creditType holds the type word of a Credit in an Effect.
var creditType = func() unsafe.Pointer {
	var e Effect = Credit{}
	return (*iface)(unsafe.Pointer(&e)).tab
}()

// creditArena hands out credits as Effects, as Effect(c) would, with each
// value in a shared chunk instead of an allocation of its own (credits
// were 10 of an event's 13 allocations). A value is copied into its chunk
// once, before the interface over it exists, and never written again,
// which is all Go asks of the value behind an interface.
type creditArena struct{ chunks arena[Credit] }

func (a *creditArena) box(c Credit) Effect {
	var e Effect
	p := (*iface)(unsafe.Pointer(&e))
	p.tab, p.data = creditType, unsafe.Pointer(a.chunks.one(c))
	return e
}
