// Package api is the HTTP surface of Synapse: the REST API under /api/v1,
// the operability endpoints and (later) the embedded dashboard.
package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/synapsehq/synapse/api/auth"
	"github.com/synapsehq/synapse/billing"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/tenants"
)

// Registry is what the API registers its metrics on and serves from.
type Registry interface {
	prometheus.Registerer
	prometheus.Gatherer
}

// Deps are injected by the command that starts the API.
type Deps struct {
	Log      *slog.Logger
	DB       *postgres.DB
	Redis    *redis.Client
	Registry Registry
	Probes   *ops.Probes
	Version  string
	// OperatorToken is the bearer token of the platform operator, who may
	// do everything; empty: there is no platform operator.
	OperatorToken string
	// Auth configures Login with Discord, sessions and the policy cache.
	Auth AuthConfig
	// RuleFacts serves member facts to rule dry runs (the workers'
	// MemberFacts); nil: dry runs see every member without facts.
	RuleFacts rules.Facts
	// Billing connects Stripe; its zero value sells nothing (plans and
	// their limits still apply). PublicURL defaults to Auth.PublicURL.
	Billing billing.Config
}

// AuthConfig configures Login with Discord and sessions.
type AuthConfig struct {
	// PublicURL is where browsers reach the API (https://synapse.example.com);
	// the OAuth2 redirect URI is PublicURL + "/api/v1/auth/callback" and
	// must be registered with the Discord application.
	PublicURL string
	// DiscordClientID and DiscordClientSecret are the OAuth2 application's
	// credentials (discordsim: AppID() and ClientSecret()).
	DiscordClientID     string
	DiscordClientSecret string
	// DiscordAuthorizeURL is the consent page; default
	// https://discord.com/oauth2/authorize (discordsim: URL()+"/oauth2/authorize").
	DiscordAuthorizeURL string
	// DiscordRESTURL is the REST base for the token exchange and users/@me;
	// default https://discord.com/api/v10 (discordsim: RESTURL()).
	DiscordRESTURL string
	// InsecureCookies drops the Secure flag, for http://localhost only.
	InsecureCookies bool
	// SessionTTL is how long a login lasts; default 7 days.
	SessionTTL time.Duration
	// SessionSecret (32 bytes or more recommended; the command should
	// refuse shorter) signs the OAuth2 state cookie and
	// seals the Discord tokens kept with a session. Empty: a random secret
	// per process (logins in flight and sealed tokens do not survive a
	// restart or cross to another API process).
	SessionSecret string
	// PolicyMaxAge is how stale the in-memory casbin policy may get before
	// it is reloaded from Postgres (grants made by other API processes);
	// default 5 s.
	PolicyMaxAge time.Duration
	// HTTPClient talks to Discord; default a client with a 10 s timeout.
	HTTPClient *http.Client
}

func (a AuthConfig) withDefaults() AuthConfig {
	if a.DiscordAuthorizeURL == "" {
		a.DiscordAuthorizeURL = "https://discord.com/oauth2/authorize"
	}
	if a.DiscordRESTURL == "" {
		a.DiscordRESTURL = "https://discord.com/api/v10"
	}
	a.DiscordRESTURL = strings.TrimRight(a.DiscordRESTURL, "/")
	a.PublicURL = strings.TrimRight(a.PublicURL, "/")
	if a.SessionTTL <= 0 {
		a.SessionTTL = 7 * 24 * time.Hour
	}
	if a.PolicyMaxAge <= 0 {
		a.PolicyMaxAge = 5 * time.Second
	}
	if a.SessionSecret == "" {
		a.SessionSecret = auth.RandomToken(32)
	}
	return a
}

// Server holds the routes and what they need.
type Server struct {
	deps    Deps
	engine  *gin.Engine
	tenants *tenants.Store
	store   *auth.Store
	keys    *auth.Keys
	discord *auth.Discord
	openapi []byte
	eng     engines
	billing *billing.Service
	limits  *billing.Limiter

	// Per-request lookups, remembered briefly (see ttlCache): a logout
	// elsewhere or a guild changing tenants takes effect within lookupTTL.
	sessions     *ttlCache[string, auth.Session]
	guildTenants *ttlCache[int64, int64]
	// boards holds rendered leaderboard pages for boardTTL.
	boards      *ttlCache[string, []byte]
	boardRender singleflight.Group

	authzMu sync.Mutex
	az      *auth.Authorizer
}

// New builds the router.
func New(d Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	d.Auth = d.Auth.withDefaults()
	keys, err := auth.NewKeys([]byte(d.Auth.SessionSecret))
	if err != nil {
		panic(err) // withDefaults guarantees a secret
	}
	s := &Server{deps: d, engine: gin.New(), tenants: tenants.NewStore(d.DB.Bun),
		store: auth.NewStore(d.DB.Pool, keys), keys: keys,
		discord: auth.NewDiscord(auth.DiscordConfig{
			ClientID: d.Auth.DiscordClientID, ClientSecret: d.Auth.DiscordClientSecret,
			AuthorizeURL: d.Auth.DiscordAuthorizeURL, RESTURL: d.Auth.DiscordRESTURL,
			RedirectURL: d.Auth.PublicURL + "/api/v1/auth/callback", HTTP: d.Auth.HTTPClient,
		})}
	eng, err := newEngines(d)
	if err != nil {
		panic(err) // the built-in registry and CEL environment always compile
	}
	s.eng = eng
	if d.Billing.PublicURL == "" {
		d.Billing.PublicURL = d.Auth.PublicURL
	}
	bm := billing.NewMetrics(d.Registry)
	s.billing, s.limits = billing.New(d.Billing, d.DB.Pool, d.Log, bm), billing.NewLimiter(d.DB.Pool, bm)
	s.sessions = newTTLCache[string, auth.Session](lookupTTL, 100_000)
	s.guildTenants = newTTLCache[int64, int64](lookupTTL, 100_000)
	s.boards = newTTLCache[string, []byte](boardTTL, 10_000)
	metrics := ops.NewHTTPMetrics(d.Registry)
	s.engine.Use(requestID(), observe(metrics), recoverJSON(d.Log), limitBody())
	s.engine.HandleMethodNotAllowed = true
	s.engine.NoRoute(func(c *gin.Context) { writeError(c, errRouteNotFound) })
	s.engine.NoMethod(func(c *gin.Context) { writeError(c, errMethodNotAllowed) })
	s.mountSPA() // the dashboard: every path not routed above and outside /api/

	s.engine.GET("/healthz", gin.WrapF(ops.Healthz))
	s.engine.GET("/readyz", gin.WrapH(ops.ReadyzHandler(d.Probes)))
	s.engine.GET("/metrics", gin.WrapH(promhttpHandler(d.Registry)))

	v1 := s.engine.Group(apiPrefix)
	routes := s.routes()
	for _, rt := range routes {
		v1.Handle(rt.Method, rt.Path, s.authorize(rt), rt.Handler)
	}
	s.openapi = openAPIDocument(routes, d.Version)
	return s
}

const apiPrefix = "/api/v1"

// lookupTTL bounds how long a session or a guild's tenant is remembered.
const lookupTTL = 3 * time.Second

// boardTTL is how stale a leaderboard page may be.
const boardTTL = time.Second

// authz returns the casbin authorizer, loading it on first use so that an
// API started while Postgres is down becomes ready when it comes back.
func (s *Server) authz() (*auth.Authorizer, error) {
	s.authzMu.Lock()
	defer s.authzMu.Unlock()
	if s.az != nil {
		return s.az, nil
	}
	az, err := auth.NewAuthorizer(s.deps.DB.Pool, s.deps.Auth.PolicyMaxAge)
	if err != nil {
		return nil, fmt.Errorf("load authorization policy: %v: %w", err, apperr.ErrUnavailable)
	}
	s.az = az
	return az, nil
}

// RouteInfo is one registered route.
type RouteInfo struct{ Method, Path string }

// Routes lists every route the engine serves.
func (s *Server) Routes() []RouteInfo {
	var out []RouteInfo
	for _, r := range s.engine.Routes() {
		out = append(out, RouteInfo{Method: r.Method, Path: r.Path})
	}
	return out
}

// Handler is the server's http.Handler.
func (s *Server) Handler() http.Handler { return s.engine }

func (s *Server) getVersion(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"version": s.deps.Version})
}
