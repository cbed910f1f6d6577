package discordsim

import (
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

const oauthTokenTTL = 7 * 24 * time.Hour

type oauthGrant struct {
	userID      ID
	scopes      []string
	redirectURI string
	guildID     ID
	expires     time.Time
}

type oauthStore struct {
	mu      sync.Mutex
	codes   map[string]*oauthGrant
	tokens  map[string]*oauthGrant
	refresh map[string]*oauthGrant
}

func newOAuthStore() *oauthStore {
	return &oauthStore{codes: map[string]*oauthGrant{}, tokens: map[string]*oauthGrant{}, refresh: map[string]*oauthGrant{}}
}

func randomToken() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b)
}

// access resolves a Bearer token to its grant.
func (o *oauthStore) access(tok string) (*oauthGrant, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.tokens[tok]
	if g == nil || time.Now().After(g.expires) {
		return nil, false
	}
	return g, true
}

type authorizeRequest struct {
	ClientID     string
	RedirectURI  string
	ResponseType string
	Scope        []string
	State        string
	GuildID      string
	Permissions  string
}

func parseAuthorize(v url.Values) authorizeRequest {
	return authorizeRequest{
		ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"), ResponseType: v.Get("response_type"),
		Scope: strings.Fields(v.Get("scope")), State: v.Get("state"), GuildID: v.Get("guild_id"), Permissions: v.Get("permissions"),
	}
}

var consentTmpl = template.Must(template.New("consent").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Authorize {{.App}} — Discord (simulated)</title></head>
<body>
<h1>{{.App}} wants to access your account</h1>
<p id="scopes">Scopes: {{range .Req.Scope}}<code>{{.}}</code> {{end}}</p>
<form method="post" action="/oauth2/authorize">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<label>Log in as <select name="login_as" id="login_as">{{range .Users}}<option value="{{.ID}}"{{if .Selected}} selected{{end}}>{{.Name}}</option>{{end}}</select></label>
{{if .Bot}}<label>Add to server <select name="guild_id" id="guild_id">{{range .Guilds}}<option value="{{.ID}}"{{if .Selected}} selected{{end}}>{{.Name}}</option>{{end}}</select></label>{{end}}
<button type="submit" name="decision" value="deny" id="deny">Cancel</button>
<button type="submit" name="decision" value="approve" id="authorize">Authorize</button>
</form></body></html>`))

type option struct {
	ID       string
	Name     string
	Selected bool
}

// oauthAuthorizePage renders Discord's consent screen, or approves at once
// in auto-approve mode (Config.OAuthAutoApprove or ?sim_auto_approve=1).
func (s *Server) oauthAuthorizePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := parseAuthorize(q)
	if req.ClientID != s.AppID().String() {
		http.Error(w, "Unknown Application", http.StatusBadRequest)
		return
	}
	if s.cfg.OAuthAutoApprove || q.Get("sim_auto_approve") == "1" {
		s.oauthApprove(w, r, req, q.Get("login_as"))
		return
	}
	s.world.mu.RLock()
	loginAs := q.Get("login_as")
	if loginAs == "" {
		loginAs = s.defaultOAuthUserLocked().String()
	}
	var users, guilds []option
	seen := map[ID]bool{}
	for _, gid := range s.world.order {
		g := s.world.guilds[gid]
		for i, uid := range g.MemberOrder {
			if i >= 5 {
				break
			}
			if u := g.Members[uid].User; !u.Bot && !seen[uid] {
				seen[uid] = true
				label := u.Username
				if uid == g.OwnerID {
					label += " (owner of " + g.Name + ")"
				}
				users = append(users, option{ID: uid.String(), Name: label, Selected: uid.String() == loginAs})
			}
		}
		guilds = append(guilds, option{ID: gid.String(), Name: g.Name, Selected: gid.String() == req.GuildID})
	}
	s.world.mu.RUnlock()
	hidden := map[string]string{"client_id": req.ClientID, "redirect_uri": req.RedirectURI, "response_type": req.ResponseType,
		"scope": strings.Join(req.Scope, " "), "state": req.State, "permissions": req.Permissions}
	if !slices.Contains(req.Scope, "bot") && req.GuildID != "" {
		hidden["guild_id"] = req.GuildID
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = consentTmpl.Execute(w, map[string]any{"App": "Synapse", "Req": req, "Hidden": hidden, "Users": users,
		"Guilds": guilds, "Bot": slices.Contains(req.Scope, "bot")})
}

func (s *Server) oauthAuthorizeSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	req := parseAuthorize(r.PostForm)
	if req.ClientID != s.AppID().String() {
		http.Error(w, "Unknown Application", http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("decision") != "approve" {
		if req.RedirectURI == "" {
			http.Error(w, "access denied", http.StatusForbidden)
			return
		}
		redirectWith(w, r, req.RedirectURI, url.Values{"error": {"access_denied"},
			"error_description": {"The resource owner or authorization server denied the request"}, "state": {req.State}})
		return
	}
	s.oauthApprove(w, r, req, r.PostForm.Get("login_as"))
}

func (s *Server) defaultOAuthUserLocked() ID {
	if len(s.world.order) == 0 {
		return 0
	}
	return s.world.guilds[s.world.order[0]].OwnerID
}

// oauthApprove issues a code (and for scope bot adds the bot to guild_id,
// which dispatches GUILD_CREATE on that guild's shard) and redirects.
func (s *Server) oauthApprove(w http.ResponseWriter, r *http.Request, req authorizeRequest, loginAs string) {
	s.world.mu.RLock()
	uid := s.defaultOAuthUserLocked()
	if loginAs != "" {
		id, err := ParseID(loginAs)
		if err != nil || s.world.users[id] == nil {
			s.world.mu.RUnlock()
			http.Error(w, "unknown user", http.StatusBadRequest)
			return
		}
		uid = id
	}
	s.world.mu.RUnlock()

	var guildID ID
	if slices.Contains(req.Scope, "bot") {
		gid, err := ParseID(req.GuildID)
		if err != nil {
			http.Error(w, "guild_id is required to add a bot", http.StatusBadRequest)
			return
		}
		s.world.mu.RLock()
		g := s.world.guilds[gid]
		allowed := g != nil && g.memberPermissions(uid)&PermManageGuild != 0
		s.world.mu.RUnlock()
		if !allowed {
			http.Error(w, "you need Manage Server in that guild", http.StatusForbidden)
			return
		}
		if err := s.AddBot(r.Context(), gid); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		guildID = gid
	}
	if req.RedirectURI == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><p id="authorized">Authorized</p>`))
		return
	}
	code := randomToken()
	s.oauth.mu.Lock()
	s.oauth.codes[code] = &oauthGrant{userID: uid, scopes: req.Scope, redirectURI: req.RedirectURI, guildID: guildID, expires: time.Now().Add(10 * time.Minute)}
	s.oauth.mu.Unlock()
	v := url.Values{"code": {code}}
	if req.State != "" {
		v.Set("state", req.State)
	}
	if guildID != 0 {
		v.Set("guild_id", guildID.String())
		v.Set("permissions", req.Permissions)
	}
	redirectWith(w, r, req.RedirectURI, v)
}

func redirectWith(w http.ResponseWriter, r *http.Request, base string, v url.Values) {
	u, err := url.Parse(base)
	if err != nil {
		http.Error(w, "invalid redirect_uri", http.StatusBadRequest)
		return
	}
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// restOAuthToken exchanges codes and refresh tokens (RFC 6749 as Discord does it).
func (s *Server) restOAuthToken(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return nil
	}
	f := r.PostForm
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = f.Get("client_id"), f.Get("client_secret")
	}
	if id != s.AppID().String() || secret != s.cfg.ClientSecret {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Invalid client")
		return nil
	}
	var g *oauthGrant
	s.oauth.mu.Lock()
	switch f.Get("grant_type") {
	case "authorization_code":
		g = s.oauth.codes[f.Get("code")]
		delete(s.oauth.codes, f.Get("code")) // codes are single use
		if g != nil && (time.Now().After(g.expires) || g.redirectURI != f.Get("redirect_uri")) {
			g = nil
		}
	case "refresh_token":
		g = s.oauth.refresh[f.Get("refresh_token")]
		delete(s.oauth.refresh, f.Get("refresh_token"))
	default:
		s.oauth.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type")
		return nil
	}
	if g == nil {
		s.oauth.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "invalid_grant", `Invalid "code" in request.`)
		return nil
	}
	access, refresh := randomToken(), randomToken()
	ng := &oauthGrant{userID: g.userID, scopes: g.scopes, guildID: g.guildID, expires: time.Now().Add(oauthTokenTTL)}
	s.oauth.tokens[access] = ng
	s.oauth.refresh[refresh] = ng
	s.oauth.mu.Unlock()
	out := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(oauthTokenTTL.Seconds()),
		"refresh_token": refresh, "scope": strings.Join(g.scopes, " ")}
	if g.guildID != 0 {
		s.world.mu.RLock()
		if gd := s.world.guilds[g.guildID]; gd != nil {
			out["guild"] = gd.restGuildLocked()
		}
		s.world.mu.RUnlock()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
