-- Single sign-on by OpenID Connect (issue 19; src/server/auth/single-sign-on.ts).

-- The one identity provider a warehouse trusts, set by an administrator (kernel sso configure).
CREATE TABLE sso_provider (
  provider_key TEXT PRIMARY KEY,
  issuer TEXT NOT NULL,
  client_id TEXT NOT NULL,
  client_secret TEXT,
  redirect_uri TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- Rules mapping the provider's claims to a Kernel role (and organisation), tried in order:
-- a person whose claim `claim` equals, or as a list holds, `claim_value` gets `role`.
CREATE TABLE sso_rules (
  rule_id TEXT PRIMARY KEY,
  position INTEGER NOT NULL,
  claim TEXT NOT NULL,
  claim_value TEXT NOT NULL,
  role TEXT NOT NULL,
  org_code TEXT,
  created_at TEXT NOT NULL
);

-- A sign-in sent to the provider and not yet back: the state (its SHA-256), the nonce and the
-- PKCE verifier (RFC 7636) stay here, never in the browser.
CREATE TABLE sso_requests (
  state_hash TEXT PRIMARY KEY,
  nonce TEXT NOT NULL,
  code_verifier TEXT NOT NULL,
  next_path TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
