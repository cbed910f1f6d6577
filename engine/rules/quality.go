package rules

import "math"

// QualityScore is the v3 quality modifier pipeline as a number, available
// to expressions as `quality` and to the min_quality condition. It is 1 for
// anything but a message. For a message:
//
//	start at 1.0
//	length:      < 20 chars ×0.5; ≥ 100 +0.25; ≥ 300 +0.5 (instead of +0.25)
//	code blocks: any +0.5
//	links:       any +0.25
//	emoji:       1..5 +0.1; more than 10 −0.25 (emoji spam)
//	clamped to [0.25, 2.5]
func QualityScore(ev *Event) float64 {
	if ev.Name != "message_create" {
		return 1
	}
	q := 1.0
	switch n := ev.Magnitude; {
	case n < 20:
		q *= 0.5
	case n >= 300:
		q += 0.5
	case n >= 100:
		q += 0.25
	}
	if ev.Counts.CodeBlocks() > 0 {
		q += 0.5
	}
	if ev.Counts.Links() > 0 {
		q += 0.25
	}
	switch e := ev.Counts.Emoji(); {
	case e > 10:
		q -= 0.25
	case e >= 1 && e <= 5:
		q += 0.1
	}
	return math.Min(2.5, math.Max(0.25, q))
}

// Chance gives random_chance its rolls in [0, 1).
type Chance interface {
	Roll(key string) float64
}

// HashChance rolls by hashing the key (rule, version, event) with a seed:
// uniform over events, but the same event always rolls the same, so a
// retried task does not re-roll. Tests inject their own Chance.
type HashChance struct{ Seed uint64 }

// Roll implements Chance.
func (h HashChance) Roll(key string) float64 { return hashRoll(h.Seed, key) }

// hashRoll is FNV-1a over the seed's bytes then the key's, finished with
// splitmix, without allocating (the key may be a string or a scratch buffer).
func hashRoll[K string | []byte](seed uint64, key K) float64 {
	return rollOf(fnvBytes(fnvSeed(seed), key))
}

// fnvSeed is FNV-1a over the seed's eight bytes, low first.
func fnvSeed(seed uint64) uint64 {
	x := uint64(14695981039346656037)
	for i := 0; i < 8; i++ {
		x ^= (seed >> (8 * i)) & 0xff
		x *= fnvPrime
	}
	return x
}

// fnvBytes continues FNV-1a state x with b.
func fnvBytes[K string | []byte](x uint64, b K) uint64 {
	for i := 0; i < len(b); i++ {
		x ^= uint64(b[i])
		x *= fnvPrime
	}
	return x
}

// rollOf finishes hashRoll's FNV state x into [0, 1).
func rollOf(x uint64) float64 {
	// splitmix finaliser spreads FNV's low-entropy high bits.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / float64(1<<53)
}
