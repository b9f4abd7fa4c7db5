-- Emails Kernel has sent (issue 16; docs/signoff.md): a reminder for a month waiting for
-- sign-off, a notice of a late feed. One row per notice and recipient, so each goes once.
CREATE TABLE notifications_sent (
  kind TEXT NOT NULL,
  org_code TEXT NOT NULL,
  dataset_id TEXT NOT NULL,
  period TEXT NOT NULL,
  recipient TEXT NOT NULL,
  sent_at TEXT NOT NULL,
  PRIMARY KEY (kind, org_code, dataset_id, period, recipient)
);
