-- Strong sign-in (issue 19; src/server/auth/, docs/portal.md "Signing in").

-- A TOTP authenticator per account (RFC 6238), written when the person has typed its first
-- code. The shared secret is never shown again after enrolment; `last_step` is the last time
-- step accepted, so no code is accepted twice (RFC 6238 §5.2).
CREATE TABLE user_totp (
  user_id TEXT PRIMARY KEY,
  secret TEXT NOT NULL,
  enrolled_at TEXT NOT NULL,
  last_step BIGINT
);

-- Recovery codes: 80-bit random values, shown once, kept only as SHA-256, used once.
CREATE TABLE recovery_codes (
  code_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  used_at TEXT
);

-- A sign-in whose password was right and whose second factor is still to come. It is not a
-- session: it opens nothing but the second-factor page, for a few minutes and a few tries.
-- An account enrolling holds its new secret here until the first code proves it was copied.
CREATE TABLE pending_sign_ins (
  id_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  failures INTEGER NOT NULL,
  enrol_secret TEXT
);

-- Sessions: when last used (the idle timeout), how the second factor was given, and a label
-- of the browser, for the list of a person's sessions.
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT;
ALTER TABLE sessions ADD COLUMN second_factor TEXT;
ALTER TABLE sessions ADD COLUMN label TEXT;
-- Sessions begun before a second factor was asked for end: everyone signs in again.
DELETE FROM sessions;

-- API tokens: an expiry (null: none, as tokens made before this had) and a scope.
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE api_tokens ADD COLUMN scope TEXT DEFAULT 'full';
