-- Governance: data sharing agreements and the use-case register.
-- Join tables carry no primary key on purpose: the code replaces their rows wholesale,
-- and DuckDB checks unique indexes eagerly within a transaction (delete + re-insert of
-- the same key fails), so uniqueness is kept by the code that writes them.
CREATE TABLE agreements (
  agreement_id TEXT PRIMARY KEY,
  org_code TEXT NOT NULL,
  title TEXT NOT NULL,
  start_period TEXT NOT NULL,
  end_period TEXT NOT NULL,
  state TEXT NOT NULL,
  signed_by TEXT,
  signed_at TEXT,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL
);

CREATE TABLE agreement_datasets (
  agreement_id TEXT NOT NULL,
  dataset_id TEXT NOT NULL
);

CREATE TABLE agreement_purposes (
  agreement_id TEXT NOT NULL,
  purpose TEXT NOT NULL
);

CREATE TABLE use_cases (
  use_case_id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  summary TEXT NOT NULL,
  sponsor_org TEXT NOT NULL,
  purpose TEXT NOT NULL,
  legal_basis TEXT NOT NULL,
  start_date TEXT NOT NULL,
  end_date TEXT NOT NULL,
  state TEXT NOT NULL,
  pseudonym_salt TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE use_case_datasets (
  use_case_id TEXT NOT NULL,
  dataset_id TEXT NOT NULL
);

CREATE TABLE use_case_controllers (
  use_case_id TEXT NOT NULL,
  org_code TEXT NOT NULL
);

-- A member is a user id, or `role:<role>` for everyone holding that role.
CREATE TABLE use_case_users (
  use_case_id TEXT NOT NULL,
  member TEXT NOT NULL
);

CREATE TABLE use_case_approvals (
  use_case_id TEXT NOT NULL,
  org_code TEXT NOT NULL,
  approved_by TEXT NOT NULL,
  approved_at TEXT NOT NULL
);
