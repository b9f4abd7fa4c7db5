-- Governance: the organisation register and each member's onboarding checklist.
-- An organisation is keyed by its ODS code; councils and others without a verified ODS
-- code use their ONS GSS code (reference §8), and code_verified says which codes are
-- still to be checked against ODS.
CREATE TABLE organisations (
  org_code TEXT PRIMARY KEY,
  code_system TEXT NOT NULL,
  code_verified BOOLEAN NOT NULL,
  code_note TEXT,
  name TEXT NOT NULL,
  org_type TEXT NOT NULL,
  kernel_role TEXT NOT NULL,
  population BIGINT,
  income_pence BIGINT,
  contacts TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- One row per completed checklist step: who and when (the checklist is a state machine
-- whose order lives in src/governance/onboarding.ts).
CREATE TABLE onboarding_steps (
  org_code TEXT NOT NULL,
  step TEXT NOT NULL,
  done_by TEXT NOT NULL,
  done_at TEXT NOT NULL,
  note TEXT
);
