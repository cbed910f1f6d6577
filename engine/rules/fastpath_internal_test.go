package rules

import (
	"math"
	"testing"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
)

// The fast path must agree with cel-go wherever it answers.
func TestFastPathAgreesWithCEL(t *testing.T) {
	t.Parallel()
	env, err := newCELEnv()
	require.NoError(t, err)
	nums := []struct {
		expr string
		fast bool // expected to have a fast path
	}{
		{"base * zone.multiplier * quality", true},
		{"base * zone.multiplier", true},
		{"base + event.code_blocks * 2.0", true},
		{"math.least(base * quality, 50.0)", true},
		{"math.greatest(base, quality)", true},
		{"math.greatest(base, quality, 3.5)", false},
		{"base * math.floor(event.duration / 60.0) * zone.multiplier", true},
		{"-base + event.length / 7.0 - event.links", true},
		{"wallet['xp'] * 0.1 + counters['streak']", true},
		{"wallet['missing'] + 1.0", true}, // absent balances are 0
		{"double(event.data.n)", false},   // event.data has no such key: CEL errors, both report it
		{"base / (quality - quality)", true},
		{"event.hour + event.weekday + event.depth + event.mentions + event.attachments + event.emoji + event.magnitude", true},
		{"double(event.user_id)", false},
		{"has(event.data.stars) ? event.data.stars : base", false},
	}
	bools := []struct {
		expr string
		fast bool
	}{
		{"event.length > 20.0 && wallet['xp'] < 100000.0", true},
		{"event.length >= 20 || quality == 1.0", true},
		{"!(zone.multiplier != 1.0) && event.code_blocks <= 0", true},
		{"wallet['missing'] > 1.0 || true", true},
		{"event.length == 150 && event.length != 3", true},
		{"event.type == 'message_create'", false},
		{"10 in member.roles", false},
	}
	events := []Event{
		{Name: "message_create", SourceID: 1, OccurredAt: time.Date(2026, 3, 2, 12, 30, 0, 0, time.UTC), UserID: 5, ChannelID: 1, Magnitude: 150, Counts: lake.PackCounts(2, 1, 3, 0, 1)},
		{Name: "message_create", SourceID: 2, OccurredAt: time.Date(2026, 3, 7, 23, 0, 0, 0, time.UTC), UserID: 6, Magnitude: 3},
		{Name: "voice_leave", SourceID: 3, OccurredAt: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC), UserID: 5, Magnitude: 3599, Chain: []int64{1, 2}},
	}
	factsList := []MemberFacts{
		{UserID: 5, Wallet: map[string]float64{"xp": 1234.5}, Counters: map[string]float64{"streak": 3}},
		{UserID: 6, Wallet: map[string]float64{"xp": 1e6}, Counters: map[string]float64{"streak": 0}},
	}
	zones := []*Zone{nil, {Name: "help", Multipliers: map[string]float64{"*": 1.5}}}
	bases := []float64{0, 10, 2.5}

	for _, tc := range nums {
		prg, err := compileCEL(env, tc.expr, celNumber, DefaultCostLimit)
		require.NoError(t, err, tc.expr)
		require.Equal(t, tc.fast, prg.fastNum != nil, "fast path for %s", tc.expr)
		for _, ev := range events {
			for _, f := range factsList {
				for _, z := range zones {
					for _, b := range bases {
						act := testActivation(&ev, &f, z, b)
						want, wantErr := prg.evalNumberCEL(act)
						got, gotErr := prg.evalNumber(act)
						if wantErr != nil || math.IsNaN(want) {
							require.Error(t, gotErr, tc.expr)
							continue
						}
						require.NoError(t, gotErr, tc.expr)
						require.Equal(t, want, got, "%s on %+v base %g", tc.expr, ev, b)
					}
				}
			}
		}
	}
	for _, tc := range bools {
		prg, err := compileCEL(env, tc.expr, celBool, DefaultCostLimit)
		require.NoError(t, err, tc.expr)
		require.Equal(t, tc.fast, prg.fastB != nil, "fast path for %s", tc.expr)
		for _, ev := range events {
			for _, f := range factsList {
				for _, z := range zones {
					act := testActivation(&ev, &f, z, 1)
					v, _, celErr := prg.prg.Eval(act)
					got, gotErr := prg.evalBool(act)
					if celErr != nil {
						require.Error(t, gotErr, tc.expr)
						continue
					}
					require.NoError(t, gotErr, tc.expr)
					require.Equal(t, bool(v.(types.Bool)), got, tc.expr)
				}
			}
		}
	}
}

func testActivation(ev *Event, f *MemberFacts, z *Zone, base float64) *activation {
	q := QualityScore(ev)
	zs := []Zone{}
	if z != nil {
		zs = append(zs, *z)
		z = &zs[0]
	}
	zi := newZoneIndex(zs)
	zi.warm([]string{"xp"})
	return &activation{ev: ev, facts: f, zone: z, zones: zi, currency: "xp", zoneMult: z.Multiplier("xp"), base: base, quality: q}
}
