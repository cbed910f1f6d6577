package rules_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata with the current output")

// goldenSep separates a golden file's input from its expected output.
const goldenSep = "----------"

type goldenMember struct {
	Roles            []rules.Snowflake  `json:"roles"`
	Bot              bool               `json:"bot"`
	JoinedAt         time.Time          `json:"joined_at"`
	AccountCreatedAt time.Time          `json:"account_created_at"`
	DMOptOut         bool               `json:"dm_opt_out"`
	Wallet           map[string]float64 `json:"wallet"`
}

type goldenInput struct {
	// Rules and ZoneDefs replace the Classic preset when set (testdata/rules).
	Rules    []rules.Document `json:"rules"`
	ZoneDefs []rules.Zone     `json:"zone_defs"`
	// Zones assigns channels to the preset's zones.
	Zones   map[string][]rules.Snowflake `json:"zones"`
	Members map[string]goldenMember      `json:"members"`
	Events  []rules.EventJSON            `json:"events"`
}

// TestClassicGolden pins rule decisions: each file holds members, zones, a
// sequence of events (and, under testdata/rules, the rules; under
// testdata/classic the Classic Gamification preset is used), a separator
// line, and the effects planned for each event. Run with -update to
// regenerate after an intended change, and review the diff.
func TestClassicGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(file)
			require.NoError(t, err)
			input, want, ok := strings.Cut(string(raw), "\n"+goldenSep+"\n")
			require.True(t, ok || *update, "%s: no %q separator line", file, goldenSep)
			got := runGolden(t, input)
			if *update {
				require.NoError(t, os.WriteFile(file, []byte(input+"\n"+goldenSep+"\n"+got), 0o644))
				return
			}
			require.Equal(t, want, got, "%s: output differs (run go test -run TestClassicGolden -update and review the diff)", file)
		})
	}
}

func runGolden(t *testing.T, input string) string {
	var body []string
	for _, line := range strings.Split(input, "\n") {
		if !strings.HasPrefix(line, "#") {
			body = append(body, line)
		}
	}
	var in goldenInput
	dec := json.NewDecoder(strings.NewReader(strings.Join(body, "\n")))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&in))

	c := compiler(t)
	preset := rules.Classic()
	if len(in.Rules) > 0 {
		preset = rules.Preset{Key: "golden", Rules: in.Rules, Zones: in.ZoneDefs}
	}
	crs, err := c.CompilePreset(preset)
	require.NoError(t, err)
	zones := preset.Zones
	for i := range zones {
		if chans, ok := in.Zones[zones[i].Name]; ok {
			zones[i].Channels = chans
		}
	}
	set := rules.NewRuleSet(1, 42, crs, zones)
	facts := rules.StaticFacts{}
	for id, m := range in.Members {
		uid, err := strconv.ParseInt(id, 10, 64)
		require.NoError(t, err)
		f := rules.MemberFacts{Bot: m.Bot, JoinedAt: m.JoinedAt, AccountCreatedAt: m.AccountCreatedAt, DMOptOut: m.DMOptOut, Wallet: m.Wallet}
		for _, r := range m.Roles {
			f.Roles = append(f.Roles, int64(r))
		}
		facts[uid] = f
	}
	e := engine(t, facts, func(o *rules.Options) { o.Chance = rules.HashChance{Seed: 1} })

	var out bytes.Buffer
	for i, ej := range in.Events {
		ev, err := ej.Event(1, 42)
		require.NoError(t, err)
		res, err := e.Evaluate(context.Background(), set, ev)
		require.NoError(t, err)
		fmt.Fprintf(&out, "#%d %s %s user=%d channel=%d target=%d magnitude=%d\n", i+1, ev.OccurredAt.Format("15:04:05"), ev.Name, ev.UserID, ev.ChannelID, ev.TargetID, ev.Magnitude)
		if len(res.Effects) == 0 && len(res.Failures) == 0 {
			out.WriteString("  (nothing)\n")
		}
		for _, eff := range res.Effects {
			out.WriteString("  " + rules.Describe(eff) + "\n")
		}
		for _, f := range res.Failures {
			fmt.Fprintf(&out, "  FAILED rule %d: %s\n", f.RuleID, f.Error)
		}
	}
	return out.String()
}
