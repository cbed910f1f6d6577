package levels_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger/levels"
)

// bruteTotal sums cost(k) for k < l one level at a time: the reference the
// closed form must agree with.
func bruteTotal(c levels.Curve, l int64) int64 {
	var t int64
	for k := int64(0); k < l; k++ {
		t += c.CostOf(k)
	}
	return t
}

func TestTotalForMatchesLevelByLevelSum(t *testing.T) {
	t.Parallel()
	curves := map[string]levels.Curve{
		"mee6":      levels.MEE6(),
		"linear":    levels.Linear(100),
		"cubic":     levels.Polynomial(7, 0, 3, 1),
		"quadratic": levels.Polynomial(1, 1, 1),
	}
	for name, c := range curves {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, c.Validate())
			for l := int64(0); l <= 300; l++ {
				require.Equal(t, bruteTotal(c, l), c.TotalFor(l), "level %d", l)
			}
		})
	}
}

func TestMEE6KnownValues(t *testing.T) {
	t.Parallel()
	c := levels.MEE6()
	// MEE6's published table: level 1 at 100 XP, 2 at 255, 3 at 475, 10 at 4675, 100 at 1899250.
	for l, want := range map[int64]int64{0: 0, 1: 100, 2: 255, 3: 475, 10: 4675, 100: 1899250} {
		require.Equal(t, want, c.TotalFor(l), "level %d", l)
	}
}

func TestAt(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		curve   levels.Curve
		balance int64
		want    levels.Progress
	}{
		{"mee6 zero", levels.MEE6(), 0, levels.Progress{Level: 0, Into: 0, Needed: 100, Remaining: 100}},
		{"mee6 just below 1", levels.MEE6(), 99, levels.Progress{Level: 0, Into: 99, Needed: 100, Remaining: 1, Fraction: 0.99}},
		{"mee6 exactly 1", levels.MEE6(), 100, levels.Progress{Level: 1, Into: 0, Needed: 155, Remaining: 155}},
		{"mee6 mid 2", levels.MEE6(), 300, levels.Progress{Level: 2, Into: 45, Needed: 220, Remaining: 175, Fraction: 45.0 / 220}},
		{"negative balance", levels.MEE6(), -50, levels.Progress{Level: 0, Into: 0, Needed: 100, Remaining: 100}},
		{"linear", levels.Linear(1000), 12345, levels.Progress{Level: 12, Into: 345, Needed: 1000, Remaining: 655, Fraction: 0.345}},
		{"polynomial", levels.Polynomial(10, 0, 0, 1), 10 + 11 + 18, levels.Progress{Level: 3, Into: 0, Needed: 37, Remaining: 37}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.curve.At(tc.balance)
			require.Equal(t, tc.want.Level, got.Level)
			require.Equal(t, tc.want.Into, got.Into)
			require.Equal(t, tc.want.Needed, got.Needed)
			require.Equal(t, tc.want.Remaining, got.Remaining)
			require.InDelta(t, tc.want.Fraction, got.Fraction, 1e-9)
		})
	}
}

// Huge balances resolve without overflow and land on a consistent level.
func TestAtSaturatesOnHugeBalances(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]levels.Curve{"mee6": levels.MEE6(), "linear 1": levels.Linear(1), "cubic": levels.Polynomial(1, 1, 1, 1)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := c.At(math.MaxInt64)
			require.Positive(t, p.Level)
			require.LessOrEqual(t, c.TotalFor(p.Level), int64(math.MaxInt64))
			require.GreaterOrEqual(t, p.Into, int64(0))
			require.Less(t, p.Fraction, 1.0)
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		curve levels.Curve
		ok    bool
	}{
		{"mee6", levels.MEE6(), true},
		{"linear", levels.Linear(50), true},
		{"linear with two coefficients", levels.Curve{Kind: levels.KindLinear, Coeffs: []int64{1, 2}}, false},
		{"zero constant", levels.Polynomial(0, 1), false},
		{"negative", levels.Polynomial(10, -1), false},
		{"degree four", levels.Polynomial(1, 1, 1, 1, 1), false},
		{"no coefficients", levels.Polynomial(), false},
		{"unknown kind", levels.Curve{Kind: "exp", Coeffs: []int64{1}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.curve.Validate()
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}
