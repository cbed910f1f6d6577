// Package api is the HTTP surface of Synapse: the REST API under /api/v1,
// the operability endpoints and (later) the embedded dashboard.
package api

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

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
	// OperatorToken guards the data endpoints (platform operator access)
	// until per-user login and RBAC replace it.
	OperatorToken string
}

// Server holds the routes and what they need.
type Server struct {
	deps    Deps
	engine  *gin.Engine
	tenants *tenants.Store
}

// New builds the router.
func New(d Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{deps: d, engine: gin.New(), tenants: tenants.NewStore(d.DB.Bun)}
	metrics := ops.NewHTTPMetrics(d.Registry)
	s.engine.Use(requestID(), observe(metrics), recoverJSON(d.Log))
	s.engine.HandleMethodNotAllowed = true
	s.engine.NoRoute(func(c *gin.Context) { writeError(c, errRouteNotFound) })
	s.engine.NoMethod(func(c *gin.Context) { writeError(c, errMethodNotAllowed) })

	s.engine.GET("/healthz", gin.WrapF(ops.Healthz))
	s.engine.GET("/readyz", gin.WrapH(ops.ReadyzHandler(d.Probes)))
	s.engine.GET("/metrics", gin.WrapH(promhttpHandler(d.Registry)))

	v1 := s.engine.Group("/api/v1")
	v1.GET("/version", s.getVersion)

	op := v1.Group("", requireOperatorToken(d.OperatorToken))
	op.GET("/guilds/:guild/events/volume", s.getEventVolume)
	op.GET("/guilds/:guild/events/breakdown", s.getEventBreakdown)
	op.GET("/guilds/:guild/events/storage", s.getEventStorage)
	op.GET("/platform/shards", s.getShards)
	return s
}

// Handler is the server's http.Handler.
func (s *Server) Handler() http.Handler { return s.engine }

func (s *Server) getVersion(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"version": s.deps.Version})
}
