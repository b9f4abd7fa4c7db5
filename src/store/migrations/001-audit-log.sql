-- The hash-chained audit log (src/audit/audit-log.ts). Append-only: nothing in Kernel
-- updates or deletes a row; `kernel audit verify` proves it.
CREATE TABLE IF NOT EXISTS audit_events (
  seq BIGINT PRIMARY KEY,
  occurred_at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  purpose TEXT,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
