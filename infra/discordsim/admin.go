package discordsim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// FaultRequest is a fault in scenarios and POST /_sim/faults.
type FaultRequest struct {
	Kind      string `json:"kind"`
	Shard     int    `json:"shard,omitempty"`
	Code      int    `json:"code,omitempty"`
	Resumable bool   `json:"resumable,omitempty"`
	// Count: refuse_resume attempts, or REST requests affected (0: until cleared).
	Count      int      `json:"count,omitempty"`
	Method     string   `json:"method,omitempty"`
	PathPrefix string   `json:"path_prefix,omitempty"`
	Delay      Duration `json:"delay,omitempty"`
	RetryAfter Duration `json:"retry_after,omitempty"`
	Status     int      `json:"status,omitempty"`
	Global     bool     `json:"global,omitempty"`
}

// ApplyFault injects a fault and returns how many connections it hit
// (REST faults and refuse_resume return 0). Faults that end connections
// wait (up to 5 s) until those connections are gone, so the next step sees
// the client's recovery rather than the old connection.
func (s *Server) ApplyFault(ctx context.Context, f FaultRequest) (int, error) {
	var cs []*gwConn
	if f.Kind != FaultRefuseResume && f.Kind != FaultRESTSlow && f.Kind != FaultREST429 && f.Kind != FaultREST5xx {
		cs = s.faults.liveConns(f.Shard)
	}
	n := 0
	switch f.Kind {
	case FaultDrop:
		n = s.faults.DropConnection(f.Shard)
	case FaultZombie:
		return s.faults.Zombie(f.Shard), nil
	case FaultReconnect:
		n = s.faults.Reconnect(f.Shard)
	case FaultInvalidSession:
		n = s.faults.InvalidSession(f.Shard, f.Resumable)
	case FaultClose:
		if f.Code < 1000 || f.Code > 4999 {
			return 0, invalid("close code %d", f.Code)
		}
		n = s.faults.Close(f.Shard, f.Code)
	case FaultRefuseResume:
		s.faults.RefuseResume(max(f.Count, 1))
		return 0, nil
	case FaultRESTSlow, FaultREST429, FaultREST5xx:
		s.faults.AddREST(RESTFault{Kind: f.Kind, Method: f.Method, PathPrefix: f.PathPrefix, Count: f.Count,
			Delay: time.Duration(f.Delay), RetryAfter: time.Duration(f.RetryAfter), Status: f.Status, Global: f.Global})
		return 0, nil
	default:
		return 0, invalid("unknown fault %q", f.Kind)
	}
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for _, c := range cs {
		select {
		case <-c.done:
		case <-timeout.C:
			return n, nil
		case <-ctx.Done():
			return n, ctx.Err()
		}
	}
	return n, nil
}

// adminRoutes serves the JSON admin API:
//
//	GET  /_sim/info                      urls, token, application id, guilds
//	GET  /_sim/stats                     Stats
//	GET  /_sim/groundtruth?after=N&limit=M   records with Index > N
//	POST /_sim/faults                    FaultRequest -> {"connections": n}
//	DELETE /_sim/faults/rest             clear REST faults
//	POST /_sim/steps                     [Step...] run now -> {"refs": {...}}
//	POST /_sim/scenario                  Scenario (YAML or JSON) -> ScenarioResult
//	POST /_sim/generate                  GenerateOptions (runs in background)
//	POST /_sim/identify-budget           {"remaining": n}
//	GET  /_sim/dms?user_id=ID            DMs the bot sent (to that user), oldest first
func (s *Server) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sim/{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"endpoints": []string{
			"GET /_sim/info", "GET /_sim/stats", "GET /_sim/groundtruth?after=N&limit=M",
			"POST /_sim/faults", "DELETE /_sim/faults/rest", "POST /_sim/steps", "POST /_sim/scenario",
			"POST /_sim/generate", "POST /_sim/identify-budget", "GET /_sim/dms?user_id=ID",
		}})
	})
	mux.HandleFunc("GET /_sim/info", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Info())
	})
	mux.HandleFunc("GET /_sim/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("GET /_sim/groundtruth", func(w http.ResponseWriter, r *http.Request) {
		after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		writeJSON(w, http.StatusOK, s.GroundTruthSince(after, limit))
	})
	mux.HandleFunc("GET /_sim/dms", func(w http.ResponseWriter, r *http.Request) {
		var users []ID
		if v := r.URL.Query().Get("user_id"); v != "" {
			id, err := ParseID(v)
			if err != nil {
				writeError(w, invalid("user_id must be a snowflake"))
				return
			}
			users = append(users, id)
		}
		writeJSON(w, http.StatusOK, s.DirectMessages(users...))
	})
	mux.HandleFunc("POST /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		var f FaultRequest
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil {
			writeError(w, invalid("fault body: %v", err))
			return
		}
		n, err := s.ApplyFault(r.Context(), f)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"connections": n})
	})
	mux.HandleFunc("DELETE /_sim/faults/rest", func(w http.ResponseWriter, r *http.Request) {
		s.faults.ClearREST()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sim/steps", func(w http.ResponseWriter, r *http.Request) {
		var steps []Step
		if err := json.NewDecoder(r.Body).Decode(&steps); err != nil {
			writeError(w, invalid("steps body: %v", err))
			return
		}
		refs, err := s.RunSteps(r.Context(), steps)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"refs": refs})
	})
	mux.HandleFunc("POST /_sim/scenario", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err != nil {
			writeError(w, invalid("scenario body: %v", err))
			return
		}
		sc, err := ParseScenario(body)
		if err != nil {
			writeError(w, invalid("%v", err))
			return
		}
		res, err := s.RunScenario(r.Context(), sc)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
	mux.HandleFunc("POST /_sim/generate", func(w http.ResponseWriter, r *http.Request) {
		var o GenerateOptions
		if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
			writeError(w, invalid("generate body: %v", err))
			return
		}
		if _, err := s.newGenerator(o); err != nil {
			writeError(w, err)
			return
		}
		s.connMu.Lock()
		if s.closed {
			s.connMu.Unlock()
			writeError(w, invalid("server is closing"))
			return
		}
		s.bg.Add(1) // under connMu so Close cannot be waiting yet
		s.connMu.Unlock()
		go func() {
			defer s.bg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				select {
				case <-s.doneCh():
					cancel()
				case <-ctx.Done():
				}
			}()
			_, _ = s.Generate(ctx, o)
		}()
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("POST /_sim/identify-budget", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Remaining int `json:"remaining"`
		}
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			writeError(w, invalid("body: %v", err))
			return
		}
		s.SetIdentifyRemaining(b.Remaining)
		writeJSON(w, http.StatusOK, s.limiter.snapshot())
	})
}

// GuildInfo summarises a guild for tests and demos.
type GuildInfo struct {
	ID         ID            `json:"id"`
	Name       string        `json:"name"`
	Shard      int           `json:"shard"`
	BotPresent bool          `json:"bot_present"`
	OwnerID    ID            `json:"owner_id"`
	AFKChannel ID            `json:"afk_channel_id"`
	Channels   map[string]ID `json:"channels"`
	Roles      map[string]ID `json:"roles"`
	Members    []ID          `json:"members"` // humans in join order; [0] is the owner
}

// Info describes the running simulator.
type Info struct {
	URL           string      `json:"url"`
	RESTURL       string      `json:"rest_url"`
	GatewayURL    string      `json:"gateway_url"`
	Token         string      `json:"token"`
	ApplicationID ID          `json:"application_id"`
	ClientSecret  string      `json:"client_secret"`
	Shards        int         `json:"shards"`
	Guilds        []GuildInfo `json:"guilds"`
}

// Info returns URLs, credentials and a summary of every guild.
func (s *Server) Info() Info {
	return Info{URL: s.URL(), RESTURL: s.RESTURL(), GatewayURL: s.GatewayURL(), Token: s.token,
		ApplicationID: s.AppID(), ClientSecret: s.cfg.ClientSecret, Shards: s.cfg.Shards, Guilds: s.Guilds()}
}

// Guilds summarises every guild (with and without the bot) in creation order.
func (s *Server) Guilds() []GuildInfo {
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	out := make([]GuildInfo, 0, len(s.world.order))
	for _, gid := range s.world.order {
		g := s.world.guilds[gid]
		gi := GuildInfo{ID: g.ID, Name: g.Name, Shard: ShardFor(g.ID, s.cfg.Shards), BotPresent: g.BotPresent,
			OwnerID: g.OwnerID, AFKChannel: g.AFKChannelID, Channels: map[string]ID{}, Roles: map[string]ID{}}
		for _, c := range g.Channels {
			gi.Channels[c.Name] = c.ID
		}
		for _, r := range g.Roles {
			gi.Roles[r.Name] = r.ID
		}
		for _, m := range g.humanMembers() {
			gi.Members = append(gi.Members, m.User.ID)
		}
		out = append(out, gi)
	}
	return out
}
