-- Ledger: currencies each guild defines, member wallets, and an append-only
-- double-entry journal (transactions and their postings). Every table
-- carries tenant_id first in its keys.
--
-- Accounts: a posting's account is a Discord user id (> 0) for a member
-- wallet, or a negative number for a system account (-1 issuer, -2 shop
-- sink, -3 season reserve). System accounts have no wallet row: their
-- balance is derived from their postings, so no hot row is ever locked.

CREATE TABLE ledger_currencies (
    tenant_id      bigint      NOT NULL,
    guild_id       bigint      NOT NULL,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    code           text        NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
    name           text        NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    symbol         text        NOT NULL DEFAULT '' CHECK (length(symbol) <= 64),
    decimals       smallint    NOT NULL DEFAULT 0 CHECK (decimals BETWEEN 0 AND 4),
    transferable   boolean     NOT NULL DEFAULT false,
    spendable      boolean     NOT NULL DEFAULT false,
    allow_negative boolean     NOT NULL DEFAULT false,
    seasonal       boolean     NOT NULL DEFAULT false,
    is_primary     boolean     NOT NULL DEFAULT false,
    level_curve    jsonb       CHECK (level_curve IS NULL OR jsonb_typeof(level_curve) = 'object'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, guild_id, id),
    UNIQUE (tenant_id, guild_id, code),
    FOREIGN KEY (tenant_id, guild_id) REFERENCES guilds (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX ledger_currencies_one_primary_idx ON ledger_currencies (tenant_id, guild_id) WHERE is_primary;

-- One wallet per member and currency. balance always equals the sum of the
-- member's postings in that currency; version counts changes.
CREATE TABLE ledger_wallets (
    tenant_id       bigint      NOT NULL,
    guild_id        bigint      NOT NULL,
    currency_id     bigint      NOT NULL,
    user_id         bigint      NOT NULL CHECK (user_id > 0),
    balance         bigint      NOT NULL DEFAULT 0,
    lifetime_earned bigint      NOT NULL DEFAULT 0,
    version         bigint      NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, guild_id, currency_id, user_id),
    FOREIGN KEY (tenant_id, guild_id, currency_id) REFERENCES ledger_currencies (tenant_id, guild_id, id) ON DELETE CASCADE
) WITH (fillfactor = 70); -- updated all the time: room for new row versions on the same page
-- Leaderboards: top N is an index scan, a rank is an index-only count.
CREATE INDEX ledger_wallets_rank_idx ON ledger_wallets (tenant_id, guild_id, currency_id, balance DESC, user_id);

-- The journal (transactions, postings) has no foreign keys, on purpose: a
-- per-row check would double the cost of the batched insert and take a KEY
-- SHARE lock on the guild row for every transaction, a hot row under
-- concurrent batches. The posting engine writes a transaction and its
-- postings in one database transaction, and the tests check that no
-- posting lacks its transaction. A journal also outlives its guild: rows
-- are removed only by a deliberate purge (see ledger_append_only).

-- How many wallets of a currency sit in each balance bucket. Buckets are
-- log-linear (16 per power of two, exact below 16, mirrored for negative
-- balances), so a member's rank is the sum of the counts above their
-- bucket plus a short index range scan inside it, whatever the guild's
-- size. The posting engine keeps the counts in the same transaction as the
-- balances; a row changes only when a wallet is created or crosses into
-- another bucket.
CREATE TABLE ledger_rank_buckets (
    tenant_id   bigint  NOT NULL,
    guild_id    bigint  NOT NULL,
    currency_id bigint  NOT NULL,
    bucket      integer NOT NULL,
    wallets     bigint  NOT NULL, -- no CHECK: ON CONFLICT evaluates it on the proposed row, whose delta may be negative
    PRIMARY KEY (tenant_id, guild_id, currency_id, bucket),
    FOREIGN KEY (tenant_id, guild_id, currency_id) REFERENCES ledger_currencies (tenant_id, guild_id, id) ON DELETE CASCADE
);

-- Ids are reserved in bulk (nextval over generate_series) so a batch can
-- write transactions and postings without a round trip per row.
CREATE SEQUENCE ledger_transactions_id_seq;

CREATE TABLE ledger_transactions (
    tenant_id       bigint      NOT NULL,
    id              bigint      NOT NULL DEFAULT nextval('ledger_transactions_id_seq'),
    guild_id        bigint      NOT NULL,
    idempotency_key text        NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    request_hash    bytea       NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('credit', 'debit', 'transfer', 'spend', 'reversal', 'season_reset')),
    reason          text        NOT NULL DEFAULT '',
    actor           text        NOT NULL DEFAULT '',
    source          text        NOT NULL DEFAULT '',
    reverses_id     bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
ALTER SEQUENCE ledger_transactions_id_seq OWNED BY ledger_transactions.id;
CREATE UNIQUE INDEX ledger_transactions_key_idx ON ledger_transactions (tenant_id, idempotency_key);
-- A transaction is reversed at most once.
CREATE UNIQUE INDEX ledger_transactions_reverses_idx ON ledger_transactions (tenant_id, reverses_id) WHERE reverses_id IS NOT NULL;

CREATE TABLE ledger_postings (
    tenant_id      bigint NOT NULL,
    transaction_id bigint NOT NULL,
    guild_id       bigint NOT NULL,
    currency_id    bigint NOT NULL,
    account        bigint NOT NULL CHECK (account <> 0),
    amount         bigint NOT NULL CHECK (amount <> 0),
    -- the member wallet's balance after this posting; NULL for system accounts
    balance_after  bigint,
    PRIMARY KEY (tenant_id, transaction_id, currency_id, account)
);
CREATE INDEX ledger_postings_account_idx ON ledger_postings (tenant_id, guild_id, account, currency_id, transaction_id);

-- Postings of one transaction are written by one statement; this check
-- refuses any statement whose postings do not sum to zero per transaction
-- and currency, whatever code wrote them.
CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_postings GROUP BY tenant_id, transaction_id, currency_id HAVING sum(amount) <> 0) THEN
        RAISE EXCEPTION 'ledger: postings of a transaction must sum to zero per currency' USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ledger_postings_balanced AFTER INSERT ON ledger_postings
    REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_balanced();

-- The journal is append-only: corrections are compensating transactions.
-- The one exception is a retention purge of a departed tenant, which must
-- say so in its own transaction: SET LOCAL ledger.purge = 'on'.
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('ledger.purge', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'ledger: % is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = '42501';
END $$;
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

CREATE TABLE ledger_seasons (
    tenant_id  bigint      NOT NULL,
    guild_id   bigint      NOT NULL,
    id         bigint GENERATED ALWAYS AS IDENTITY,
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    started_at timestamptz NOT NULL DEFAULT now(),
    ended_at   timestamptz,
    PRIMARY KEY (tenant_id, guild_id, id),
    FOREIGN KEY (tenant_id, guild_id) REFERENCES guilds (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX ledger_seasons_one_open_idx ON ledger_seasons (tenant_id, guild_id) WHERE ended_at IS NULL;

-- Balances and ranks of every wallet when a season ended: past seasons'
-- leaderboards are read from here.
CREATE TABLE ledger_season_snapshots (
    tenant_id   bigint NOT NULL,
    guild_id    bigint NOT NULL,
    season_id   bigint NOT NULL,
    currency_id bigint NOT NULL,
    user_id     bigint NOT NULL,
    balance     bigint NOT NULL,
    rank        bigint NOT NULL,
    PRIMARY KEY (tenant_id, guild_id, season_id, currency_id, user_id),
    FOREIGN KEY (tenant_id, guild_id, season_id) REFERENCES ledger_seasons (tenant_id, guild_id, id) ON DELETE CASCADE
);
CREATE INDEX ledger_season_snapshots_rank_idx ON ledger_season_snapshots (tenant_id, guild_id, season_id, currency_id, rank, user_id);

CREATE TABLE ledger_shop_items (
    tenant_id   bigint      NOT NULL,
    guild_id    bigint      NOT NULL,
    code        text        NOT NULL CHECK (code ~ '^[a-z][a-z0-9_-]{0,31}$'),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description text        NOT NULL DEFAULT '',
    currency_id bigint      NOT NULL,
    price       bigint      NOT NULL CHECK (price > 0),
    active      boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, guild_id, code),
    FOREIGN KEY (tenant_id, guild_id, currency_id) REFERENCES ledger_currencies (tenant_id, guild_id, id) ON DELETE CASCADE
);
