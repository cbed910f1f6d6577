package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/synapsehq/synapse/infra/apperr"
)

// Discord permission bits: Administrator and Manage Server make a user a
// guild admin in Synapse; the others are what the bot asks for.
const (
	PermAdministrator      = 1 << 3
	PermManageGuild        = 1 << 5
	PermViewChannel        = 1 << 10
	PermSendMessages       = 1 << 11
	PermEmbedLinks         = 1 << 14
	PermReadMessageHistory = 1 << 16
	PermManageRoles        = 1 << 28
)

// DiscordConfig points the OAuth2 client at Discord or discordsim.
type DiscordConfig struct {
	ClientID     string
	ClientSecret string
	AuthorizeURL string // https://discord.com/oauth2/authorize, or discordsim URL()+"/oauth2/authorize"
	RESTURL      string // https://discord.com/api/v10, or discordsim RESTURL()
	RedirectURL  string // PublicURL + "/api/v1/auth/callback"
	HTTP         *http.Client
}

// Discord is the OAuth2 client of "Login with Discord".
type Discord struct{ cfg DiscordConfig }

// NewDiscord returns a client; a nil HTTP client gets a 10 s timeout one.
func NewDiscord(cfg DiscordConfig) *Discord {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	return &Discord{cfg: cfg}
}

// Configured reports whether login can work at all.
func (d *Discord) Configured() bool {
	return d.cfg.ClientID != "" && d.cfg.ClientSecret != "" && d.cfg.AuthorizeURL != "" && d.cfg.RESTURL != ""
}

// AuthorizeURL is where the browser goes to consent.
func (d *Discord) AuthorizeURL(state string) string {
	v := url.Values{"client_id": {d.cfg.ClientID}, "redirect_uri": {d.cfg.RedirectURL}, "response_type": {"code"},
		"scope": {"identify guilds"}, "state": {state}, "prompt": {"none"}}
	sep := "?"
	if strings.Contains(d.cfg.AuthorizeURL, "?") {
		sep = "&"
	}
	return d.cfg.AuthorizeURL + sep + v.Encode()
}

// BotPermissions are what the bot asks for when added to a guild: see
// channels and read their history (capture, backfill), send messages
// and embeds (announcements, slash command replies), manage roles
// (milestone role rewards).
const BotPermissions = PermViewChannel | PermSendMessages | PermEmbedLinks | PermReadMessageHistory | PermManageRoles

// AddBotURL is the consent page that adds the bot to a guild (preselected
// when guildID is not 0) and logs the user in: the callback is the login's.
func (d *Discord) AddBotURL(state string, guildID int64) string {
	v := url.Values{"client_id": {d.cfg.ClientID}, "redirect_uri": {d.cfg.RedirectURL}, "response_type": {"code"},
		"scope": {"identify guilds bot applications.commands"}, "state": {state},
		"permissions": {strconv.FormatInt(BotPermissions, 10)}}
	if guildID != 0 {
		v.Set("guild_id", strconv.FormatInt(guildID, 10))
		v.Set("disable_guild_select", "true")
	}
	sep := "?"
	if strings.Contains(d.cfg.AuthorizeURL, "?") {
		sep = "&"
	}
	return d.cfg.AuthorizeURL + sep + v.Encode()
}

// Exchange trades an authorization code for tokens.
func (d *Discord) Exchange(ctx context.Context, code string) (DiscordTokens, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {d.cfg.RedirectURL}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.cfg.RESTURL+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return DiscordTokens{}, fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(d.cfg.ClientID, d.cfg.ClientSecret)
	var out struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int    `json:"expires_in"`
		Guild        *struct {
			ID string `json:"id"`
		} `json:"guild"`
	}
	if err := d.do(req, &out); err != nil {
		return DiscordTokens{}, fmt.Errorf("exchange code: %w", err)
	}
	if out.AccessToken == "" {
		return DiscordTokens{}, fmt.Errorf("exchange code: no access token: %w", apperr.ErrUnauthenticated)
	}
	tokens := DiscordTokens{Access: out.AccessToken, Refresh: out.RefreshToken,
		ExpiresAt: time.Now().Add(time.Duration(out.ExpiresIn) * time.Second)}
	if out.Guild != nil {
		id, err := strconv.ParseInt(out.Guild.ID, 10, 64)
		if err != nil {
			return DiscordTokens{}, fmt.Errorf("exchange code: bad guild id %q", out.Guild.ID)
		}
		tokens.GuildID = id
	}
	return tokens, nil
}

// DiscordGuild is one entry of users/@me/guilds.
type DiscordGuild struct {
	ID          int64
	Name        string
	Owner       bool
	Permissions int64
}

// CanManage reports whether the user may manage the guild in Discord.
func (g DiscordGuild) CanManage() bool {
	return g.Owner || g.Permissions&(PermAdministrator|PermManageGuild) != 0
}

// Me returns the logged-in user.
func (d *Discord) Me(ctx context.Context, access string) (User, error) {
	var raw struct {
		ID         string  `json:"id"`
		Username   string  `json:"username"`
		GlobalName *string `json:"global_name"`
		Avatar     *string `json:"avatar"`
	}
	if err := d.get(ctx, access, "/users/@me", &raw); err != nil {
		return User{}, err
	}
	id, err := strconv.ParseInt(raw.ID, 10, 64)
	if err != nil {
		return User{}, fmt.Errorf("users/@me: bad id %q", raw.ID)
	}
	u := User{ID: id, Username: raw.Username}
	if raw.GlobalName != nil {
		u.GlobalName = *raw.GlobalName
	}
	if raw.Avatar != nil {
		u.Avatar = *raw.Avatar
	}
	return u, nil
}

// Guilds returns the user's guilds with their permissions.
func (d *Discord) Guilds(ctx context.Context, access string) ([]DiscordGuild, error) {
	var raw []struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Owner       bool   `json:"owner"`
		Permissions string `json:"permissions"`
	}
	if err := d.get(ctx, access, "/users/@me/guilds", &raw); err != nil {
		return nil, err
	}
	out := make([]DiscordGuild, 0, len(raw))
	for _, g := range raw {
		id, err := strconv.ParseInt(g.ID, 10, 64)
		if err != nil {
			continue
		}
		perms, _ := strconv.ParseInt(g.Permissions, 10, 64)
		out = append(out, DiscordGuild{ID: id, Name: g.Name, Owner: g.Owner, Permissions: perms})
	}
	return out, nil
}

func (d *Discord) get(ctx context.Context, access, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.cfg.RESTURL+path, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+access)
	if err := d.do(req, out); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func (d *Discord) do(req *http.Request, out any) error {
	resp, err := d.cfg.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("discord unreachable: %v: %w", err, apperr.ErrUnavailable)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read discord response: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("discord refused (%d): %w", resp.StatusCode, apperr.ErrUnauthenticated)
	case resp.StatusCode >= 300:
		return fmt.Errorf("discord answered %d: %w", resp.StatusCode, apperr.ErrUnavailable)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode discord response: %w", err)
	}
	return nil
}
