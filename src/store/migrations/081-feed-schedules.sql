-- Feed schedules (issue 16; docs/feeds.md): which organisation sends which dataset, how often,
-- and by which working day of the following month, from which month on. Late and missing
-- feeds are found against these (src/signoff/feed-schedules.ts).
CREATE TABLE feed_schedules (
  org_code TEXT NOT NULL,
  dataset_id TEXT NOT NULL,
  frequency TEXT NOT NULL,
  due_working_day INTEGER NOT NULL,
  from_period TEXT NOT NULL,
  -- the last month the schedule covers, or NULL while it runs on
  until_period TEXT,
  changed_at TEXT NOT NULL,
  changed_by TEXT NOT NULL,
  PRIMARY KEY (org_code, dataset_id)
);
