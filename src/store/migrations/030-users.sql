-- Portal and API accounts, sessions and API tokens (src/server/auth/).
-- Passwords are Argon2id PHC strings; session ids and API tokens are stored only as
-- SHA-256 hashes, so a copy of the database cannot be replayed as a sign-in.
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  org_code TEXT,
  password_hash TEXT NOT NULL,
  must_change_password BOOLEAN NOT NULL,
  failed_attempts INTEGER NOT NULL,
  locked_until TEXT,
  created_at TEXT NOT NULL,
  disabled_at TEXT
);

CREATE TABLE IF NOT EXISTS sessions (
  id_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS api_tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
