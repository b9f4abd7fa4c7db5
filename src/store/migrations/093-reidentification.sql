-- Re-identification for direct care (issue 19; docs/reidentification.md). The warehouse holds
-- tokens, never identifiers: a request names a controller and its cohort as person tokens;
-- two approvals release the tokens sealed to that controller's agent encryption key, signed
-- by Kernel; the controller's agent matches them against its own records.

-- X25519 public keys (SPKI PEM) of each controller's agent, for sealing releases to it.
-- The latest trusted is the one a release is sealed to.
CREATE TABLE reid_encryption_keys (
  org_code TEXT NOT NULL,
  key_id TEXT NOT NULL,
  public_key_pem TEXT NOT NULL,
  trusted_at TEXT NOT NULL,
  trusted_by TEXT NOT NULL,
  PRIMARY KEY (org_code, key_id)
);

-- Per use case: the most people one request may name, the users (besides administrators)
-- who may give the second approval (JSON list of user ids), and whether people on the
-- opt-out list are refused (the national data opt-out never applies to direct care; local
-- policy may still honour objections).
CREATE TABLE reid_settings (
  use_case_id TEXT PRIMARY KEY,
  size_limit INTEGER NOT NULL,
  approvers_json TEXT NOT NULL,
  honour_optout BOOLEAN NOT NULL,
  set_by TEXT NOT NULL,
  set_at TEXT NOT NULL
);

-- state: awaiting-approval → released | refused
CREATE TABLE reid_requests (
  request_id TEXT PRIMARY KEY,
  use_case_id TEXT NOT NULL,
  controller_org TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  requester_org TEXT,
  reason TEXT NOT NULL,
  fields_json TEXT NOT NULL,
  cohort_size INTEGER NOT NULL,
  state TEXT NOT NULL,
  created_at TEXT NOT NULL,
  decided_at TEXT,
  -- the sealed file (JSON: tokens encrypted to the controller, signed by Kernel), once released
  sealed_json TEXT,
  sealed_sha256 TEXT,
  recipient_key_id TEXT,
  signer_key_id TEXT,
  downloaded_at TEXT
);

-- The cohort, in the requester's order.
CREATE TABLE reid_request_tokens (
  request_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  person_token TEXT NOT NULL,
  PRIMARY KEY (request_id, position)
);

-- capacity: ig-lead (the controller's) or second (an administrator or a named approver)
CREATE TABLE reid_approvals (
  request_id TEXT NOT NULL,
  approver_id TEXT NOT NULL,
  approver_role TEXT NOT NULL,
  approver_org TEXT,
  capacity TEXT NOT NULL,
  decision TEXT NOT NULL,
  comment TEXT NOT NULL,
  decided_at TEXT NOT NULL,
  PRIMARY KEY (request_id, approver_id),
  -- one approval (or refusal) per capacity: two IG leads never make two approvals
  UNIQUE (request_id, capacity)
);
