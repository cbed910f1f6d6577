package api

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

var spaIndex = "<!doctype html><html><head><script type=module>import('/_app/immutable/entry/start.abc.js')</script></head><body>" +
	strings.Repeat("<div></div>", 50) + "</body></html>"

func spaTestFS() fstest.MapFS {
	return fstest.MapFS{
		"index.html":                           {Data: []byte(spaIndex)},
		"favicon.svg":                          {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`)},
		"robots.txt":                           {Data: []byte("User-agent: *\nDisallow: /\n")},
		"_app/version.json":                    {Data: []byte(`{"version":"1"}`)},
		"_app/immutable/entry/start.abc.js":    {Data: []byte(strings.Repeat("export const a = 1;\n", 100))},
		"_app/immutable/assets/app.def.css":    {Data: []byte(strings.Repeat("body{color:#fff}\n", 100))},
		"_app/immutable/assets/font.123.woff2": {Data: []byte{0x77, 0x4f, 0x46, 0x32, 1, 2, 3}},
	}
}

// spaEngine mounts the handler the way Server.mountSPA does, beside one
// real route, so the test covers the split between the API and the SPA.
func spaEngine(h http.Handler) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(requestID())
	e.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	e.GET(apiPrefix+"/version", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"version": "test"}) })
	e.NoRoute(spaNoRoute(h))
	return e
}

func spaGet(t *testing.T, e http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestSPA(t *testing.T) {
	t.Parallel()
	e := spaEngine(newSPA(spaTestFS()))

	cases := []struct {
		name, path  string
		status      int
		ctype       string
		cache       string
		bodyContain string
	}{
		{"root is index.html", "/", 200, "text/html; charset=utf-8", "no-cache", "start.abc.js"},
		{"client route falls back to index.html", "/g/123/leaderboard", 200, "text/html; charset=utf-8", "no-cache", "start.abc.js"},
		{"index.html by name", "/index.html", 200, "text/html; charset=utf-8", "no-cache", "start.abc.js"},
		{"immutable js cached a year", "/_app/immutable/entry/start.abc.js", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "export const a"},
		{"immutable css", "/_app/immutable/assets/app.def.css", 200, "text/css; charset=utf-8", "public, max-age=31536000, immutable", "body{"},
		{"font", "/_app/immutable/assets/font.123.woff2", 200, "font/woff2", "public, max-age=31536000, immutable", ""},
		{"svg", "/favicon.svg", 200, "image/svg+xml", "no-cache", "<svg"},
		{"version.json revalidated", "/_app/version.json", 200, "application/json", "no-cache", `"version"`},
		{"text file", "/robots.txt", 200, "text/plain; charset=utf-8", "no-cache", "Disallow"},
		{"missing asset is a 404, never HTML", "/_app/immutable/entry/gone.js", 404, "text/plain; charset=utf-8", "", "not found"},
		{"path traversal stays inside the build", "/../../etc/passwd", 200, "text/html; charset=utf-8", "no-cache", "start.abc.js"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := spaGet(t, e, http.MethodGet, tc.path, nil)
			require.Equal(t, tc.status, rec.Code)
			require.Equal(t, tc.ctype, rec.Header().Get("Content-Type"))
			require.Equal(t, tc.cache, rec.Header().Get("Cache-Control"))
			require.Contains(t, rec.Body.String(), tc.bodyContain)
			require.Empty(t, rec.Header().Get("Content-Encoding"), "no gzip unless asked")
		})
	}
}

func TestSPALeavesAPIAndProbesAlone(t *testing.T) {
	t.Parallel()
	e := spaEngine(newSPA(spaTestFS()))

	t.Run("unknown API route is a JSON 404", func(t *testing.T) {
		rec := spaGet(t, e, http.MethodGet, "/api/v1/nope", nil)
		require.Equal(t, http.StatusNotFound, rec.Code)
		require.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json"))
		var body ErrorBody
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		require.Equal(t, "not_found", body.Error.Code)
		require.NotEmpty(t, body.Error.RequestID)
	})
	t.Run("bare /api is the API's too", func(t *testing.T) {
		rec := spaGet(t, e, http.MethodGet, "/api", nil)
		require.Equal(t, http.StatusNotFound, rec.Code)
		require.Contains(t, rec.Header().Get("Content-Type"), "application/json")
	})
	t.Run("API route still served", func(t *testing.T) {
		rec := spaGet(t, e, http.MethodGet, "/api/v1/version", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.JSONEq(t, `{"version":"test"}`, rec.Body.String())
	})
	t.Run("probe still served", func(t *testing.T) {
		rec := spaGet(t, e, http.MethodGet, "/healthz", nil)
		require.Equal(t, "ok", rec.Body.String())
	})
	t.Run("apiary is not the API", func(t *testing.T) {
		rec := spaGet(t, e, http.MethodGet, "/apiary", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Contains(t, rec.Body.String(), "start.abc.js")
	})
	t.Run("writes outside the API are refused", func(t *testing.T) {
		rec := spaGet(t, e, http.MethodPost, "/g/1/rules", nil)
		require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	})
	t.Run("HEAD has headers and no body", func(t *testing.T) {
		rec := spaGet(t, e, http.MethodHead, "/", nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
		require.Empty(t, rec.Body.Bytes())
	})
}

func TestSPAGzip(t *testing.T) {
	t.Parallel()
	e := spaEngine(newSPA(spaTestFS()))
	js := "/_app/immutable/entry/start.abc.js"
	plain := spaGet(t, e, http.MethodGet, js, nil)

	cases := []struct {
		name, accept string
		gzipped      bool
	}{
		{"gzip", "gzip", true},
		{"browser list", "gzip, deflate, br, zstd", true},
		{"any", "*", true},
		{"refused with q=0", "gzip;q=0, identity", false},
		{"identity only", "identity", false},
		{"br only", "br", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := spaGet(t, e, http.MethodGet, js, map[string]string{"Accept-Encoding": tc.accept})
			require.Equal(t, http.StatusOK, rec.Code)
			require.Equal(t, "Accept-Encoding", rec.Header().Get("Vary"))
			require.Equal(t, "public, max-age=31536000, immutable", rec.Header().Get("Cache-Control"))
			if !tc.gzipped {
				require.Empty(t, rec.Header().Get("Content-Encoding"))
				require.Equal(t, plain.Body.String(), rec.Body.String())
				return
			}
			require.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
			require.Less(t, rec.Body.Len(), plain.Body.Len())
			zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
			require.NoError(t, err)
			got, err := io.ReadAll(zr)
			require.NoError(t, err)
			require.Equal(t, plain.Body.String(), string(got))
			require.NotEqual(t, plain.Header().Get("ETag"), rec.Header().Get("ETag"), "an encoding has its own ETag")
		})
	}

	t.Run("fallback index.html is gzipped too", func(t *testing.T) {
		rec := spaGet(t, e, http.MethodGet, "/g/1/audit", map[string]string{"Accept-Encoding": "gzip"})
		require.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
		require.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))
	})
	t.Run("tiny and binary files are sent as they are", func(t *testing.T) {
		for _, p := range []string{"/favicon.svg", "/_app/immutable/assets/font.123.woff2"} {
			rec := spaGet(t, e, http.MethodGet, p, map[string]string{"Accept-Encoding": "gzip"})
			require.Empty(t, rec.Header().Get("Content-Encoding"), p)
		}
	})
}

func TestSPAConditionalGet(t *testing.T) {
	t.Parallel()
	e := spaEngine(newSPA(spaTestFS()))
	first := spaGet(t, e, http.MethodGet, "/", map[string]string{"Accept-Encoding": "gzip"})
	etag := first.Header().Get("ETag")
	require.NotEmpty(t, etag)

	again := spaGet(t, e, http.MethodGet, "/", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag})
	require.Equal(t, http.StatusNotModified, again.Code)
	require.Empty(t, again.Body.Bytes())

	other := spaGet(t, e, http.MethodGet, "/", map[string]string{"If-None-Match": etag})
	require.Equal(t, http.StatusOK, other.Code, "the gzip ETag does not validate the plain body")
}

func TestSPANotBuilt(t *testing.T) {
	t.Parallel()
	e := spaEngine(newSPA(fstest.MapFS{}))
	for _, p := range []string{"/", "/g/1/overview"} {
		rec := spaGet(t, e, http.MethodGet, p, nil)
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
		require.Contains(t, rec.Body.String(), "make web")
	}
	rec := spaGet(t, e, http.MethodGet, "/api/v1/nope", nil)
	require.Equal(t, http.StatusNotFound, rec.Code, "the API is unaffected")
}
