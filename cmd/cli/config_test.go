package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// These tests set process environment variables, so they do not run in parallel.

func TestBadConfigExitsTwoNamingTheVariable(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{name: "database url scheme", env: map[string]string{"SYNAPSE_DATABASE_URL": "mysql://db/x"}, args: []string{"migrate", "status"}, want: "SYNAPSE_DATABASE_URL"},
		{name: "listen address", env: map[string]string{"SYNAPSE_HTTP_ADDR": "nonsense"}, args: []string{"api"}, want: "SYNAPSE_HTTP_ADDR"},
		{name: "duration", env: map[string]string{"SYNAPSE_SHUTDOWN_TIMEOUT": "soon"}, args: []string{"api"}, want: "SYNAPSE_SHUTDOWN_TIMEOUT: invalid value \"soon\": expected a duration"},
		{name: "log level", env: map[string]string{"SYNAPSE_LOG_LEVEL": "loud"}, args: []string{"api"}, want: "SYNAPSE_LOG_LEVEL"},
		{name: "whole number", env: map[string]string{"SYNAPSE_DATABASE_MAX_CONNS": "many"}, args: []string{"api"}, want: "expected a whole number"},
		{name: "missing secret file", env: map[string]string{"SYNAPSE_REDIS_URL_FILE": "/nonexistent/secret"}, args: []string{"api"}, want: "SYNAPSE_REDIS_URL_FILE"},
		{name: "unknown flag", args: []string{"api", "--no-such-flag"}, want: "unknown flag"},
		{name: "stray argument", args: []string{"migrate", "up", "extra"}, want: "unknown command"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			code := Run(context.Background(), tc.args, &out, &errb)
			require.Equal(t, 2, code, errb.String())
			require.Contains(t, errb.String(), tc.want)
		})
	}
}

func TestSecretFromFileIsReadAndNeverEchoed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db-url")
	require.NoError(t, os.WriteFile(path, []byte("mysql://user:hunter2@db/x\n"), 0o600))
	t.Setenv("SYNAPSE_DATABASE_URL_FILE", path)
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"migrate", "status"}, &out, &errb)
	require.Equal(t, 2, code)
	require.Contains(t, errb.String(), "SYNAPSE_DATABASE_URL")
	require.NotContains(t, errb.String(), "hunter2")
}

func TestFlagWinsOverEnvironment(t *testing.T) {
	t.Setenv("SYNAPSE_HTTP_ADDR", "nonsense")
	var out, errb bytes.Buffer
	// A valid flag overrides the bad environment value; the run then fails
	// for another reason (bad log level), proving the address was accepted.
	code := Run(context.Background(), []string{"api", "--http-addr", "127.0.0.1:0", "--log-level", "loud"}, &out, &errb)
	require.Equal(t, 2, code)
	require.NotContains(t, errb.String(), "SYNAPSE_HTTP_ADDR")
	require.Contains(t, errb.String(), "SYNAPSE_LOG_LEVEL")
}

func TestREADMEConfigReferenceIsCurrent(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, WriteConfigReference(&b, NewRoot(&b, &b)))
	const begin, end = "<!-- config-reference:begin -->\n", "<!-- config-reference:end -->"
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	require.True(t, i >= 0 && j > i, "README lacks the config-reference markers")
	require.Equal(t, b.String(), s[i+len(begin):j], "README config reference is stale: run `make readme`")
}
