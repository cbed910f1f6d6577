package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/api"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
)

type bundle struct {
	srv   *httptest.Server
	proxy *testenv.TCPProxy
	db    *postgres.DB
	api   *api.Server
}

const operatorToken = "op-token-for-tests"

// setup serves the API over a database reached through a proxy the test can cut.
func setup(t *testing.T) bundle {
	t.Helper()
	_, schema := testenv.DBWithSchema(t)
	u, err := url.Parse(testenv.URLWithSchema(schema))
	require.NoError(t, err)
	proxy := testenv.Proxy(t, u.Host)
	u.Host = proxy.Addr()
	db, err := postgres.Open(context.Background(), u.String(), postgres.Options{MaxConns: 4, SearchPath: schema})
	require.NoError(t, err)
	t.Cleanup(db.Close)
	rdb := testenv.Redis(t)
	probes := ops.NewProbes(time.Second,
		ops.Check{Name: "postgres", Ping: db.Ping},
		ops.Check{Name: "redis", Ping: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
	)
	s := api.New(api.Deps{Log: testenv.Logger(t), DB: db, Redis: rdb, Registry: ops.NewRegistry(), Probes: probes, Version: "test", OperatorToken: operatorToken})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return bundle{srv: srv, proxy: proxy, db: db, api: s}
}

func get(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	}
	return resp.StatusCode, body
}

func TestReadyzFollowsPostgresWithoutRestart(t *testing.T) {
	t.Parallel()
	b := setup(t)

	code, body := get(t, b.srv.URL+"/readyz")
	require.Equal(t, http.StatusOK, code, body)

	b.proxy.Cut()
	code, body = get(t, b.srv.URL+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	checks := body["checks"].(map[string]any)
	require.NotEqual(t, "ok", checks["postgres"], "the failing dependency is named")
	require.Equal(t, "ok", checks["redis"])

	code, _ = get(t, b.srv.URL+"/healthz")
	require.Equal(t, http.StatusOK, code, "liveness does not depend on the database")

	b.proxy.Restore()
	code, body = get(t, b.srv.URL+"/readyz")
	require.Equal(t, http.StatusOK, code, body)
}

func TestErrorsHaveOneShape(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req, err := http.NewRequest(http.MethodGet, b.srv.URL+"/api/v1/no-such-thing", nil)
	require.NoError(t, err)
	req.Header.Set("X-Request-Id", "abc123")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	var body api.ErrorBody
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Equal(t, "not_found", body.Error.Code)
	require.Equal(t, "abc123", body.Error.RequestID)

	code, m := get(t, b.srv.URL+"/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok", m["status"])
}

func TestMetricsExposeRequestDurations(t *testing.T) {
	t.Parallel()
	b := setup(t)
	get(t, b.srv.URL+"/api/v1/version")
	resp, err := http.Get(b.srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	buf := new(strings.Builder)
	_, _ = io.Copy(buf, resp.Body)
	require.Contains(t, buf.String(), `synapse_http_request_duration_seconds_count{code="200",method="GET",route="/api/v1/version"} 1`)
	require.Contains(t, buf.String(), "go_goroutines")
	require.Contains(t, buf.String(), "process_resident_memory_bytes")
}
