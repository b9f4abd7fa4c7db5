-- Governance: subscriptions per financial year, the funding model, invoices.
CREATE TABLE subscriptions (
  org_code TEXT NOT NULL,
  financial_year TEXT NOT NULL,
  state TEXT NOT NULL,
  tier TEXT,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (org_code, financial_year)
);

-- The programme's cost for a year and the rule (JSON, see src/governance/funding.ts)
-- that shares it between confirmed subscribers. Money is always integer pence.
CREATE TABLE funding_models (
  financial_year TEXT PRIMARY KEY,
  cost_pence BIGINT NOT NULL,
  rule TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL
);

-- Money from elsewhere (e.g. a one-off allocation) that reduces what members pay.
CREATE TABLE funding_sources (
  source_id TEXT NOT NULL,
  financial_year TEXT NOT NULL,
  name TEXT NOT NULL,
  amount_pence BIGINT NOT NULL,
  created_at TEXT NOT NULL
);

-- Invoices: a draft has no number; raising one takes the next number of its year's
-- series, so numbers have no gaps. No unique index on `number`: DuckDB rewrites an
-- update of an indexed column as delete + insert, so uniqueness comes from
-- invoice_series, whose row lock (PostgreSQL) or single writer (DuckDB) serialises it.
CREATE TABLE invoices (
  invoice_id TEXT PRIMARY KEY,
  financial_year TEXT NOT NULL,
  org_code TEXT NOT NULL,
  state TEXT NOT NULL,
  amount_pence BIGINT NOT NULL,
  basis TEXT NOT NULL,
  seq INTEGER,
  number TEXT,
  replaces TEXT,
  created_at TEXT NOT NULL,
  raised_at TEXT,
  paid_at TEXT,
  cancelled_at TEXT,
  cancel_reason TEXT
);

CREATE TABLE invoice_series (
  financial_year TEXT PRIMARY KEY,
  last_seq INTEGER NOT NULL
);
