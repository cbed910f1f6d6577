-- Login with Discord, sessions, personal API tokens and the casbin policy
-- table. Secrets are stored hashed (session ids, API tokens) or encrypted
-- (Discord OAuth2 tokens) and never returned by the API.

-- Discord users who logged in to the dashboard.
CREATE TABLE users (
    id            bigint      PRIMARY KEY, -- Discord user id
    username      text        NOT NULL,
    global_name   text        NOT NULL DEFAULT '',
    avatar        text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);

-- Dashboard sessions; the cookie carries the id, the table its sha256.
CREATE TABLE sessions (
    id_hash            bytea       PRIMARY KEY,
    user_id            bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token         text        NOT NULL,
    discord_access     bytea,      -- AES-GCM sealed, never returned
    discord_refresh    bytea,      -- AES-GCM sealed, never returned
    discord_expires_at timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    CHECK (length(id_hash) = 32)
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Personal API tokens: owned by a user, optionally restricted to one tenant,
-- limited to scopes ("object:action" patterns), stored as sha256 only.
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    bigint      REFERENCES tenants (id) ON DELETE CASCADE, -- NULL: every tenant the user may act in
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    scopes       text[]      NOT NULL CHECK (cardinality(scopes) > 0),
    hash         bytea       NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, id);
CREATE INDEX api_tokens_tenant_idx ON api_tokens (tenant_id, id) WHERE tenant_id IS NOT NULL;

-- casbin policy rules (p: role, domain, object, action; g: subject, role,
-- domain). tenant_id is the tenant of the rule's domain (NULL for
-- platform-wide rules), so a tenant's grants go with the tenant.
CREATE TABLE casbin_rules (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id bigint REFERENCES tenants (id) ON DELETE CASCADE,
    ptype     text   NOT NULL CHECK (ptype IN ('p', 'g')),
    v0        text   NOT NULL DEFAULT '',
    v1        text   NOT NULL DEFAULT '',
    v2        text   NOT NULL DEFAULT '',
    v3        text   NOT NULL DEFAULT '',
    v4        text   NOT NULL DEFAULT '',
    v5        text   NOT NULL DEFAULT '',
    UNIQUE (ptype, v0, v1, v2, v3, v4, v5)
);
CREATE INDEX casbin_rules_tenant_idx ON casbin_rules (tenant_id) WHERE tenant_id IS NOT NULL;
