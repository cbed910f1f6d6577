// Package levels turns a balance into a level and the progress towards the
// next one, for a per-currency curve. Pure functions: no I/O, no state.
//
// A curve gives the cost of going from level l to level l+1 as a polynomial
// in l with non-negative integer coefficients (degree at most 3):
//
//	cost(l) = c0 + c1·l + c2·l² + c3·l³
//
// MEE6's curve is cost(l) = 5l² + 50l + 100; a linear curve is a constant
// cost per level. The total needed to reach level l is Σ cost(k) for k < l,
// computed in closed form (Faulhaber) so any int64 balance resolves in
// O(log) steps, with saturating arithmetic instead of overflow.
package levels

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// Curve kinds, kept for display and for editing the curve in the dashboard.
const (
	KindMEE6       = "mee6"
	KindLinear     = "linear"
	KindPolynomial = "polynomial"
)

// MaxDegree is the highest power a custom polynomial may use.
const MaxDegree = 3

// Curve is one currency's level curve.
type Curve struct {
	Kind   string  `json:"kind"`
	Coeffs []int64 `json:"coeffs"` // Coeffs[i] multiplies l^i in cost(l)
}

// MEE6 is the default curve: 5l² + 50l + 100 per level.
func MEE6() Curve { return Curve{Kind: KindMEE6, Coeffs: []int64{100, 50, 5}} }

// Linear costs the same amount for every level.
func Linear(perLevel int64) Curve { return Curve{Kind: KindLinear, Coeffs: []int64{perLevel}} }

// Polynomial is a custom cost per level; coeffs[i] multiplies l^i.
func Polynomial(coeffs ...int64) Curve { return Curve{Kind: KindPolynomial, Coeffs: coeffs} }

// Validate refuses curves that would never level up or could go backwards.
func (c Curve) Validate() error {
	switch c.Kind {
	case KindMEE6, KindLinear, KindPolynomial:
	default:
		return fmt.Errorf("unknown curve kind %q", c.Kind)
	}
	if len(c.Coeffs) == 0 || len(c.Coeffs) > MaxDegree+1 {
		return fmt.Errorf("a curve needs 1 to %d coefficients", MaxDegree+1)
	}
	if c.Kind == KindLinear && len(c.Coeffs) != 1 {
		return errors.New("a linear curve has exactly one coefficient")
	}
	for _, k := range c.Coeffs {
		if k < 0 {
			return errors.New("coefficients must not be negative")
		}
	}
	if c.Coeffs[0] < 1 {
		return errors.New("the constant coefficient must be at least 1 (level 0 must cost something)")
	}
	return nil
}

// CostOf is what going from level l to l+1 costs (saturating at MaxInt64).
func (c Curve) CostOf(l int64) int64 {
	var sum, pow uint64 = 0, 1
	for i, k := range c.Coeffs {
		if i > 0 {
			pow = satMul(pow, uint64(l))
		}
		sum = satAdd(sum, satMul(uint64(k), pow))
	}
	return clamp(sum)
}

// TotalFor is the balance needed to reach level l (0 for level 0),
// saturating at MaxInt64.
func (c Curve) TotalFor(l int64) int64 { return clamp(c.total(l)) }

// total saturates at MaxUint64, above any int64 balance, so a search never
// mistakes an overflowed total for a reachable one.
func (c Curve) total(l int64) uint64 {
	if l <= 0 {
		return 0
	}
	n := uint64(l)
	// Σ_{k<n} k^i for i = 0..3, each saturating.
	s1 := halfProduct(n-1, n)         // n(n-1)/2
	s2 := sixthProduct(n-1, n, 2*n-1) // (n-1)n(2n-1)/6
	s3 := satMul(s1, s1)              // (n(n-1)/2)²
	sums := [MaxDegree + 1]uint64{n, s1, s2, s3}
	var total uint64
	for i, k := range c.Coeffs {
		total = satAdd(total, satMul(uint64(k), sums[i]))
	}
	return total
}

// Progress is where a balance stands on a curve.
type Progress struct {
	Level     int64   `json:"level"`
	Into      int64   `json:"into"`      // earned since reaching Level
	Needed    int64   `json:"needed"`    // cost of Level → Level+1
	Remaining int64   `json:"remaining"` // Needed - Into
	Fraction  float64 `json:"fraction"`  // Into / Needed, in [0, 1)
}

// At returns the level and progress for a balance; negative balances are
// level 0 with no progress.
func (c Curve) At(balance int64) Progress {
	if balance < 0 {
		balance = 0
	}
	// Largest l with TotalFor(l) <= balance; every level costs at least
	// Coeffs[0], which bounds the search.
	lo, hi := int64(0), balance/max(c.Coeffs[0], 1)
	for lo < hi {
		mid := hi - (hi-lo)/2 // rounds up, cannot overflow
		if c.total(mid) <= uint64(balance) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	into := balance - c.TotalFor(lo)
	needed := c.CostOf(lo)
	return Progress{Level: lo, Into: into, Needed: needed, Remaining: needed - into, Fraction: float64(into) / float64(needed)}
}

func satAdd(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return s
}

func satMul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

// halfProduct is a·b/2 where one of a, b is even, without overflowing first.
func halfProduct(a, b uint64) uint64 {
	if a%2 == 0 {
		return satMul(a/2, b)
	}
	return satMul(a, b/2)
}

// sixthProduct is a·b·c/6 for a=n-1, b=n, c=2n-1: divide out 2 and 3 from
// whichever factor holds them before multiplying.
func sixthProduct(a, b, c uint64) uint64 {
	f := []uint64{a, b, c}
	for _, d := range []uint64{2, 3} {
		for i := range f {
			if f[i]%d == 0 {
				f[i] /= d
				break
			}
		}
	}
	return satMul(satMul(f[0], f[1]), f[2])
}

func clamp(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}
