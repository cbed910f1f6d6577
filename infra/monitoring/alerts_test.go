package monitoring

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"
)

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

var metricName = regexp.MustCompile(`synapse_[a-z0-9_]+`)

// exported lists the metric names the code declares (string literals
// outside tests), with a histogram's _bucket, _sum and _count series.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || d.Name() == "web") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range regexp.MustCompile(`"(synapse_[a-z0-9_]+)"`).FindAllSubmatch(src, -1) {
			n := string(m[1])
			names[n] = true
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[n+suffix] = true
			}
		}
		return nil
	})
	require.NoError(t, err)
	return names
}

// Every alert parses, is complete, and names only metrics the code exports.
func TestAlertsNameExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile("alerts.yml")
	require.NoError(t, err)
	var rf ruleFile
	require.NoError(t, yaml.UnmarshalWithOptions(raw, &rf, yaml.Strict()))
	require.NotEmpty(t, rf.Groups)
	known := exported(t)
	require.True(t, known["synapse_lake_events_dropped_total"], "the source scan finds the pipeline's metrics")
	seen := map[string]bool{}
	for _, g := range rf.Groups {
		require.NotEmpty(t, g.Rules, g.Name)
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert)
			require.False(t, seen[r.Alert], "alert %s defined twice", r.Alert)
			seen[r.Alert] = true
			require.NotEmpty(t, r.Expr, r.Alert)
			require.Contains(t, []string{"page", "warn", "info"}, r.Labels["severity"], r.Alert)
			require.NotEmpty(t, r.Annotations["summary"], r.Alert)
			refs := metricName.FindAllString(r.Expr, -1)
			require.NotEmpty(t, refs, "%s: its expression names no synapse metric", r.Alert)
			for _, m := range refs {
				require.True(t, known[m], "%s: %s is not a metric the code exports", r.Alert, m)
			}
		}
	}
	require.True(t, seen["SynapseLakeEventsDropped"], "dropped events alert")
}
