package discordsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const apiPrefix = "/api/v10"

// apiError is Discord's JSON error body.
type apiError struct {
	Status  int    `json:"-"`
	Message string `json:"message"`
	Code    int    `json:"code"`
}

func (e *apiError) Error() string { return e.Message }

var (
	errUnauthorized  = &apiError{http.StatusUnauthorized, "401: Unauthorized", 0}
	errMissingAccess = &apiError{http.StatusForbidden, "Missing Access", 50001}
	errEmptyMessage  = &apiError{http.StatusBadRequest, "Cannot send an empty message", 50006}
)

// writeError maps domain errors to Discord's status codes and bodies, in one place.
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, ErrNotFound):
		kind := "Unknown Object"
		code := 10000
		msg := err.Error()
		for _, k := range []struct {
			prefix string
			name   string
			code   int
		}{{"channel", "Unknown Channel", 10003}, {"guild", "Unknown Guild", 10004}, {"member", "Unknown Member", 10007},
			{"message", "Unknown Message", 10008}, {"role", "Unknown Role", 10011}, {"interaction", "Unknown interaction", 10062},
			{"webhook", "Unknown Webhook", 10015}, {"voice channel", "Unknown Channel", 10003}, {"user", "Unknown User", 10013}} {
			if strings.HasPrefix(msg, k.prefix+" ") {
				kind, code = k.name, k.code
				break
			}
		}
		ae = &apiError{http.StatusNotFound, kind, code}
	case errors.Is(err, ErrInvalid):
		ae = &apiError{http.StatusBadRequest, "Invalid Form Body: " + err.Error(), 50035}
	default:
		ae = &apiError{http.StatusInternalServerError, "500: Internal Server Error", 0}
	}
	writeJSON(w, ae.Status, ae)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func decodeBody(r *http.Request, v any) error {
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 8<<20)).Decode(v); err != nil {
		return &apiError{http.StatusBadRequest, "400: Bad Request", 50109}
	}
	return nil
}

// authKind is who a REST route accepts.
type authKind int

const (
	authNone authKind = iota
	authBot
	authBearer
	authBotOrBearer
)

type restCaller struct {
	bot    bool
	userID ID // for Bearer tokens
	scopes []string
}

type restHandler func(w http.ResponseWriter, r *http.Request, who restCaller) error

// route registers an /api/v10 handler wrapped with faults, auth and rate limits.
func (s *Server) route(mux *http.ServeMux, method, path string, auth authKind, h restHandler) {
	pattern := method + " " + apiPrefix + path
	mux.HandleFunc(pattern, func(rw http.ResponseWriter, r *http.Request) {
		s.stats.rest.Add(1)
		w := &statusWriter{ResponseWriter: rw}
		defer func() {
			s.restLog.add(RESTCall{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, apiPrefix), Status: w.status})
		}()
		// Real responses pass Google's front end; disgo reads a missing Via
		// on a 429 as a Cloudflare ban, so always send it.
		w.Header().Set("Via", "1.1 google")
		rel := strings.TrimPrefix(r.URL.Path, apiPrefix)
		for _, f := range s.faults.matchREST(r.Method, rel) {
			switch f.Kind {
			case FaultRESTSlow:
				select {
				case <-time.After(f.Delay):
				case <-r.Context().Done():
					return
				}
			case FaultREST429:
				s.write429(w, f.RetryAfter, f.Global, "fault")
				return
			case FaultREST5xx:
				writeJSON(w, f.Status, &apiError{f.Status, fmt.Sprintf("%d: injected fault", f.Status), 0})
				return
			}
		}
		who, ok := s.authenticate(r, auth)
		if !ok {
			writeError(w, errUnauthorized)
			return
		}
		bucketKey := pattern + "|" + r.PathValue("guild_id") + r.PathValue("channel_id") + r.PathValue("token")
		if retry, limited := s.restLimits.take(w.Header(), bucketKey); limited {
			s.write429(w, retry, false, "user")
			return
		}
		if err := h(w, r, who); err != nil {
			writeError(w, err)
		}
	})
}

func (s *Server) write429(w http.ResponseWriter, retry time.Duration, global bool, scope string) {
	s.stats.rest429.Add(1)
	secs := retry.Seconds()
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(secs))))
	w.Header().Set("X-RateLimit-Scope", scope)
	if global {
		w.Header().Set("X-RateLimit-Global", "true")
	}
	if w.Header().Get("X-RateLimit-Bucket") == "" {
		w.Header().Set("X-RateLimit-Bucket", "fault")
	}
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"message": "You are being rate limited.", "retry_after": secs, "global": global,
	})
}

func (s *Server) authenticate(r *http.Request, auth authKind) (restCaller, bool) {
	h := r.Header.Get("Authorization")
	switch {
	case auth == authNone:
		return restCaller{bot: strings.HasPrefix(h, "Bot ")}, true
	case strings.HasPrefix(h, "Bot "):
		if (auth == authBot || auth == authBotOrBearer) && s.tokenOK(h) {
			return restCaller{bot: true}, true
		}
	case strings.HasPrefix(h, "Bearer "):
		if auth == authBearer || auth == authBotOrBearer {
			if g, ok := s.oauth.access(strings.TrimPrefix(h, "Bearer ")); ok {
				return restCaller{userID: g.userID, scopes: g.scopes}, true
			}
		}
	}
	return restCaller{}, false
}

// restLimiter is a fixed-window limiter per bucket, reporting Discord's headers.
type restLimiter struct {
	mu      sync.Mutex
	limit   int
	window  time.Duration
	buckets map[string]*restBucket
}

type restBucket struct {
	hash      string
	remaining int
	reset     time.Time
}

func newRESTLimiter(limit int, window time.Duration) *restLimiter {
	return &restLimiter{limit: limit, window: window, buckets: map[string]*restBucket{}}
}

func (l *restLimiter) take(h http.Header, key string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	b := l.buckets[key]
	if b == nil {
		f := fnv.New64a()
		_, _ = f.Write([]byte(key))
		b = &restBucket{hash: strconv.FormatUint(f.Sum64(), 16)}
		l.buckets[key] = b
	}
	if !now.Before(b.reset) {
		b.remaining = l.limit
		b.reset = now.Add(l.window)
	}
	resetAfter := b.reset.Sub(now).Seconds()
	h.Set("X-RateLimit-Bucket", b.hash)
	h.Set("X-RateLimit-Limit", strconv.Itoa(l.limit))
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(b.reset.UnixMilli())/1000, 'f', 3, 64))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(resetAfter, 'f', 3, 64))
	if b.remaining <= 0 {
		h.Set("X-RateLimit-Remaining", "0")
		return b.reset.Sub(now), true
	}
	b.remaining--
	h.Set("X-RateLimit-Remaining", strconv.Itoa(b.remaining))
	return 0, false
}

func pathID(r *http.Request, name string) (ID, error) {
	id, err := ParseID(r.PathValue(name))
	if err != nil {
		return 0, &apiError{http.StatusNotFound, "404: Not Found", 0}
	}
	return id, nil
}
