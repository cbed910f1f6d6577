package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/web"
)

// mountSPA serves the embedded dashboard at every path the API does not
// own: /api/ stays JSON (an unknown API route is a JSON 404), everything
// else is a file of the build or, for client-side routes, index.html.
func (s *Server) mountSPA() {
	s.engine.NoRoute(spaNoRoute(newSPA(web.Dist())))
}

func spaNoRoute(h http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := c.Request.URL.Path
		if p == "/api" || strings.HasPrefix(p, "/api/") {
			writeError(c, errRouteNotFound)
			return
		}
		h.ServeHTTP(c.Writer, c.Request)
	}
}

// spaHandler serves a SvelteKit static build:
//   - /_app/immutable/* (content-hashed names) cached for a year, immutable;
//   - index.html and every other file revalidated each time (no-cache + ETag);
//   - unknown paths outside /_app/ answered with index.html (client routes);
//   - text assets gzipped once, on first request, and kept in memory.
type spaHandler struct {
	fsys  fs.FS
	built bool

	mu    sync.Mutex
	cache map[string]*spaFile
}

type spaFile struct {
	body  []byte
	gz    []byte // nil: not worth compressing
	ctype string
	etag  string
}

func newSPA(fsys fs.FS) *spaHandler {
	_, err := fs.Stat(fsys, "index.html")
	return &spaHandler{fsys: fsys, built: err == nil, cache: map[string]*spaFile{}}
}

const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheRevalid   = "no-cache"
)

func (h *spaHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !h.built {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(notBuiltPage))
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	f, err := h.file(name)
	if err != nil {
		if strings.HasPrefix(name, "_app/") {
			// A missing asset (an old tab after a deploy) must not get HTML.
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if f, err = h.file("index.html"); err != nil {
			http.Error(w, "dashboard index missing", http.StatusInternalServerError)
			return
		}
		name = "index.html"
	}

	hd := w.Header()
	hd.Set("Content-Type", f.ctype)
	hd.Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(name, "_app/immutable/") {
		hd.Set("Cache-Control", cacheImmutable)
	} else {
		hd.Set("Cache-Control", cacheRevalid)
	}
	if strings.HasPrefix(f.ctype, "text/html") {
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
	}
	body := f.body
	etag := f.etag
	if f.gz != nil {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			body = f.gz
			etag = f.etag[:len(f.etag)-1] + `-gz"`
			hd.Set("Content-Encoding", "gzip")
		}
	}
	hd.Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}

// file reads and prepares one file of the build, once.
func (h *spaHandler) file(name string) (*spaFile, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f, ok := h.cache[name]; ok {
		return f, nil
	}
	st, err := fs.Stat(h.fsys, name)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fs.ErrNotExist
	}
	body, err := fs.ReadFile(h.fsys, name)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	f := &spaFile{body: body, ctype: contentType(name, body), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	if compressible(f.ctype) && len(body) >= 256 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		if buf.Len() < len(body) {
			f.gz = buf.Bytes()
		}
	}
	h.cache[name] = f
	return f, nil
}

func contentType(name string, body []byte) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".json", ".map":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".woff2":
		return "font/woff2"
	case ".ico":
		return "image/x-icon"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return http.DetectContentType(body)
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.HasPrefix(ctype, "application/json") ||
		strings.HasPrefix(ctype, "image/svg+xml") || strings.HasPrefix(ctype, "image/x-icon")
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (and
// does not refuse it with q=0).
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if c := strings.TrimSpace(coding); c != "gzip" && c != "*" {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
			return false
		}
		return true
	}
	return false
}

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Synapse: dashboard not built</title>
<style>body{background:#07080b;color:#cfd8e3;font:16px/1.5 ui-monospace,monospace;display:grid;place-items:center;height:100vh;margin:0}
main{max-width:36rem;border:1px solid #1f2a37;padding:2rem;border-radius:8px}code{color:#22d3ee}</style></head>
<body><main><h1>Dashboard not built</h1>
<p>This binary was compiled without the dashboard. Run <code>make web</code> (or <code>make build</code>, which runs it) and start <code>synapse api</code> again.</p>
<p>The API itself is up under <code>/api/v1</code>.</p></main></body></html>
`
