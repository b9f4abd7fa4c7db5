-- Risk of an emergency admission in the next 12 months (src/kid/risk.ts, docs/kid.md): a
-- logistic regression fitted on the warehouse's own history, kept with each build version.
-- The fit: when and from what it was made, and how well it does.
CREATE TABLE kid_risk_fit (
  version INTEGER NOT NULL,
  -- the model's date: everyone in the population on it is scored
  as_of DATE NOT NULL,
  -- twelve months before as_of: features on this day, the outcome in the twelve months after
  fitted_on DATE NOT NULL,
  fitted_at TEXT NOT NULL,
  -- the build version the fit was made in (an earlier one when this version reused it)
  fitted_in_version INTEGER NOT NULL,
  -- why it was fitted: no stored model, inputs changed, or asked (kernel kid risk --refit)
  reason TEXT NOT NULL,
  -- a digest of what the fit was made from: loads, opt-outs, the model's terms and code lists
  inputs TEXT NOT NULL,
  ridge DOUBLE PRECISION NOT NULL,
  iterations INTEGER NOT NULL,
  fitting_people BIGINT NOT NULL,
  fitting_events BIGINT NOT NULL,
  held_out_people BIGINT NOT NULL,
  held_out_events BIGINT NOT NULL,
  auroc_fitting DOUBLE PRECISION,
  auroc_held_out DOUBLE PRECISION,
  -- people scored on as_of (every version scores its own population)
  scored BIGINT NOT NULL
);
-- One row a term: its coefficient on the log-odds scale and standard error.
CREATE TABLE kid_risk_model (
  version INTEGER NOT NULL,
  position INTEGER NOT NULL,
  term TEXT NOT NULL,
  description TEXT NOT NULL,
  coefficient DOUBLE PRECISION NOT NULL,
  standard_error DOUBLE PRECISION NOT NULL,
  -- people in the fitting data for whom the term is not 0
  people BIGINT NOT NULL
);
-- Calibration by decile of predicted risk, among the held-out people.
CREATE TABLE kid_risk_calibration (
  version INTEGER NOT NULL,
  decile INTEGER NOT NULL,
  people BIGINT NOT NULL,
  predicted DOUBLE PRECISION NOT NULL,
  events DOUBLE PRECISION NOT NULL,
  observed DOUBLE PRECISION NOT NULL
);
-- Each person's risk on as_of.
CREATE TABLE kid_risk (
  version INTEGER NOT NULL,
  person_token TEXT NOT NULL,
  probability DOUBLE PRECISION NOT NULL
);
CREATE VIEW kid_person_risk AS
  SELECT r.* FROM kid_risk r JOIN kid_current c ON c.id = 1 AND r.version = c.version;
