-- Reporting: the programme office's settings, one row each (src/reporting/raid-rules.ts):
-- 'sign-off-weeks' is how long a first load may wait for sign-off before Kernel raises an
-- issue. A missing row means the default.

CREATE TABLE programme_settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  changed_at TEXT NOT NULL,
  changed_by TEXT NOT NULL
);
