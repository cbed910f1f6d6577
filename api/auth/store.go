package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/synapsehq/synapse/infra/apperr"
)

// User is a Discord user who logged in.
type User struct {
	ID         int64  `json:"id,string"`
	Username   string `json:"username"`
	GlobalName string `json:"global_name"`
	Avatar     string `json:"avatar"`
}

// Session is a logged-in browser.
type Session struct {
	UserID    int64
	CSRFToken string
	ExpiresAt time.Time
}

// DiscordTokens are the user's OAuth2 tokens, kept sealed with the session.
type DiscordTokens struct {
	Access    string
	Refresh   string
	ExpiresAt time.Time
	// GuildID is the guild the user added the bot to, when the consent
	// included the bot scope (Discord names it in the token response).
	GuildID int64
}

// Token is a personal API token as listed (never its secret).
type Token struct {
	ID         int64      `json:"id,string"`
	TenantID   *int64     `json:"tenant_id,omitempty"`
	UserID     int64      `json:"user_id,string"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// TenantRole is a user's tenant-wide role.
type TenantRole struct {
	TenantID   int64  `json:"tenant_id"`
	TenantName string `json:"tenant_name"`
	Role       string `json:"role"`
}

// Operator is one row of a tenant's member list.
type Operator struct {
	UserID    int64     `json:"user_id,string"`
	Username  string    `json:"username"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// TokenPrefix marks Synapse API tokens so they are recognisable in logs and
// secret scanners.
const TokenPrefix = "syn_"

// Store keeps users, sessions and API tokens.
type Store struct {
	pool *pgxpool.Pool
	keys *Keys
}

// NewStore binds the store to a pool; keys seal Discord tokens.
func NewStore(pool *pgxpool.Pool, keys *Keys) *Store { return &Store{pool: pool, keys: keys} }

// UpsertUser records a login.
func (s *Store) UpsertUser(ctx context.Context, u User) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO users (id, username, global_name, avatar, last_login_at) VALUES ($1, $2, $3, $4, now())
		ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username, global_name = EXCLUDED.global_name,
			avatar = EXCLUDED.avatar, last_login_at = now(), updated_at = now()`,
		u.ID, u.Username, u.GlobalName, u.Avatar)
	if err != nil {
		return fmt.Errorf("upsert user: %w", err)
	}
	return nil
}

// User returns one user.
func (s *Store) User(ctx context.Context, id int64) (User, error) {
	u := User{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT username, global_name, avatar FROM users WHERE id = $1`, id).
		Scan(&u.Username, &u.GlobalName, &u.Avatar)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, apperr.NotFound("user")
	}
	if err != nil {
		return User{}, fmt.Errorf("read user: %w", err)
	}
	return u, nil
}

// CreateSession starts a session and returns its secret id (for the cookie)
// and its CSRF token.
func (s *Store) CreateSession(ctx context.Context, userID int64, ttl time.Duration, dt DiscordTokens) (string, string, error) {
	raw, csrf := RandomToken(32), RandomToken(24)
	var dexp *time.Time
	if !dt.ExpiresAt.IsZero() {
		dexp = &dt.ExpiresAt
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO sessions (id_hash, user_id, csrf_token, discord_access, discord_refresh, discord_expires_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, now() + $7::interval)`,
		Hash(raw), userID, csrf, s.keys.Seal(dt.Access), s.keys.Seal(dt.Refresh), dexp, ttl.String())
	if err != nil {
		return "", "", fmt.Errorf("create session: %w", err)
	}
	// A login is a good moment to forget the user's expired sessions.
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND expires_at <= now()`, userID); err != nil {
		return "", "", fmt.Errorf("delete expired sessions: %w", err)
	}
	return raw, csrf, nil
}

// Session returns a live session, or ErrUnauthenticated.
func (s *Store) Session(ctx context.Context, raw string) (Session, error) {
	var ss Session
	err := s.pool.QueryRow(ctx, `SELECT user_id, csrf_token, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > now()`,
		Hash(raw)).Scan(&ss.UserID, &ss.CSRFToken, &ss.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, apperr.ErrUnauthenticated
	}
	if err != nil {
		return Session{}, fmt.Errorf("read session: %w", err)
	}
	return ss, nil
}

// DiscordAccess returns the Discord access token the session was opened
// with, to ask Discord about the user (their servers).
func (s *Store) DiscordAccess(ctx context.Context, raw string) (string, error) {
	var sealed []byte
	err := s.pool.QueryRow(ctx, `SELECT discord_access FROM sessions WHERE id_hash = $1 AND expires_at > now()`, Hash(raw)).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", apperr.ErrUnauthenticated
	}
	if err != nil {
		return "", fmt.Errorf("read session: %w", err)
	}
	access, err := s.keys.Open(sealed)
	if err != nil || access == "" {
		return "", fmt.Errorf("the session holds no Discord token; log in again: %w", apperr.ErrUnauthenticated)
	}
	return access, nil
}

// DeleteSession ends a session (logout); an unknown one is no error.
func (s *Store) DeleteSession(ctx context.Context, raw string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, Hash(raw)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= now()`)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// CreateToken issues a personal API token; the secret is returned once and
// only its hash is stored.
func (s *Store) CreateToken(ctx context.Context, userID int64, tenantID *int64, name string, scopes []string) (Token, string, error) {
	raw := TokenPrefix + RandomToken(32)
	t := Token{UserID: userID, TenantID: tenantID, Name: name, Scopes: scopes}
	err := s.pool.QueryRow(ctx, `
		INSERT INTO api_tokens (tenant_id, user_id, name, scopes, hash) VALUES ($1, $2, $3, $4, $5)
		RETURNING id, created_at`, tenantID, userID, name, scopes, Hash(raw)).Scan(&t.ID, &t.CreatedAt)
	if err != nil {
		return Token{}, "", fmt.Errorf("create api token: %w", err)
	}
	return t, raw, nil
}

// TokenBySecret returns the live token with this secret, or
// ErrUnauthenticated, and records its use (at most once a minute).
func (s *Store) TokenBySecret(ctx context.Context, raw string) (Token, error) {
	if !strings.HasPrefix(raw, TokenPrefix) {
		return Token{}, apperr.ErrUnauthenticated
	}
	var t Token
	err := s.pool.QueryRow(ctx, `
		UPDATE api_tokens SET last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < now() - interval '1 minute'
			THEN now() ELSE last_used_at END
		WHERE hash = $1 AND revoked_at IS NULL
		RETURNING id, tenant_id, user_id, name, scopes, created_at, last_used_at, revoked_at`, Hash(raw)).
		Scan(&t.ID, &t.TenantID, &t.UserID, &t.Name, &t.Scopes, &t.CreatedAt, &t.LastUsedAt, &t.RevokedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Token{}, apperr.ErrUnauthenticated
	}
	if err != nil {
		return Token{}, fmt.Errorf("read api token: %w", err)
	}
	return t, nil
}

// ListTokens pages through a user's tokens (revoked ones included) by id.
func (s *Store) ListTokens(ctx context.Context, userID, afterID int64, limit int) ([]Token, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, tenant_id, user_id, name, scopes, created_at, last_used_at, revoked_at
		FROM api_tokens WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3`, userID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	out := []Token{}
	for rows.Next() {
		var t Token
		if err := rows.Scan(&t.ID, &t.TenantID, &t.UserID, &t.Name, &t.Scopes, &t.CreatedAt, &t.LastUsedAt, &t.RevokedAt); err != nil {
			return nil, fmt.Errorf("scan api token: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes one of the user's tokens; another user's token is
// ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, userID, id int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE user_id = $1 AND id = $2`, userID, id)
	if err != nil {
		return fmt.Errorf("revoke api token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFound("api token")
	}
	return nil
}

// TenantRoles lists the user's tenant-wide roles (tenant_members).
func (s *Store) TenantRoles(ctx context.Context, userID int64) ([]TenantRole, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT m.tenant_id, t.name, m.role FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
		WHERE m.user_id = $1 ORDER BY m.tenant_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list tenant roles: %w", err)
	}
	out := []TenantRole{}
	for rows.Next() {
		var r TenantRole
		if err := rows.Scan(&r.TenantID, &r.TenantName, &r.Role); err != nil {
			return nil, fmt.Errorf("scan tenant role: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Operators pages through one tenant's members by user id.
func (s *Store) Operators(ctx context.Context, tenantID, afterUserID int64, limit int) ([]Operator, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT m.user_id, coalesce(u.username, ''), m.role, m.created_at
		FROM tenant_members m LEFT JOIN users u ON u.id = m.user_id
		WHERE m.tenant_id = $1 AND m.user_id > $2 ORDER BY m.user_id LIMIT $3`, tenantID, afterUserID, limit)
	if err != nil {
		return nil, fmt.Errorf("list operators: %w", err)
	}
	out := []Operator{}
	for rows.Next() {
		var o Operator
		if err := rows.Scan(&o.UserID, &o.Username, &o.Role, &o.CreatedAt); err != nil {
			return nil, fmt.Errorf("scan operator: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// KnownGuilds returns, of ids, the guilds Synapse has, with their tenants.
func (s *Store) KnownGuilds(ctx context.Context, ids []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT id, tenant_id FROM guilds WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("known guilds: %w", err)
	}
	for rows.Next() {
		var g, t int64
		if err := rows.Scan(&g, &t); err != nil {
			return nil, fmt.Errorf("scan guild: %w", err)
		}
		out[g] = t
	}
	return out, rows.Err()
}
