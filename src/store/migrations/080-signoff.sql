-- Sign-off (src/signoff/, docs/signoff.md): where each organisation × dataset × month stands
-- on its way from loaded to published. A row names the load its state is about: when a newer
-- load of the month stands, the row no longer applies and the month is `loaded` again.
-- state: checked | signed-off | published | rejected (loaded is the absence of a row for the
-- standing load). Every change is also a row of signoff_history and an audit event.
CREATE TABLE signoffs (
  org_code TEXT NOT NULL,
  dataset_id TEXT NOT NULL,
  period TEXT NOT NULL,
  load_id TEXT NOT NULL,
  state TEXT NOT NULL,
  changed_at TEXT NOT NULL,
  changed_by TEXT NOT NULL,
  note TEXT,
  PRIMARY KEY (org_code, dataset_id, period)
);

CREATE TABLE signoff_history (
  org_code TEXT NOT NULL,
  dataset_id TEXT NOT NULL,
  period TEXT NOT NULL,
  load_id TEXT NOT NULL,
  state TEXT NOT NULL,
  changed_at TEXT NOT NULL,
  changed_by TEXT NOT NULL,
  note TEXT
);
