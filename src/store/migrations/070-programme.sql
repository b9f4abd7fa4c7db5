-- Reporting: the programme office's plan (workstreams and milestones), its RAID log and
-- the monthly updates (src/reporting/). Months are 'YYYY-MM', dates 'YYYY-MM-DD', times
-- ISO-8601 UTC text. Join and history tables carry no primary key, as in 022: the code
-- that writes them keeps them consistent.

CREATE TABLE programme_workstreams (
  workstream_id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  -- an organisation code (owner_kind 'organisation') or a supplier's name ('supplier')
  owner TEXT NOT NULL,
  owner_kind TEXT NOT NULL,
  start_month TEXT NOT NULL,
  end_month TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL
);

-- state: planned | done | slipped. `tie` is the Kernel fact that completes the milestone
-- (src/reporting/milestone-ties.ts), written as text such as 'loads:RWF:apc+op+ecds'.
CREATE TABLE programme_milestones (
  milestone_id TEXT PRIMARY KEY,
  workstream_id TEXT NOT NULL,
  title TEXT NOT NULL,
  due_month TEXT NOT NULL,
  state TEXT NOT NULL,
  done_on TEXT,
  evidence TEXT,
  evidence_href TEXT,
  tie TEXT,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL
);

-- RAID: risks, issues, assumptions, dependencies. Automatic items carry the rule and the
-- key of the state that raised them, so the same state reopens the same item.
CREATE TABLE raid_items (
  item_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  owner TEXT NOT NULL,
  state TEXT NOT NULL,
  likelihood INTEGER,
  impact INTEGER,
  mitigation TEXT,
  review_on TEXT,
  raised_on TEXT NOT NULL,
  closed_on TEXT,
  evidence_href TEXT,
  auto_key TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- Every change to a RAID item or milestone: who, when, what (a small JSON object).
CREATE TABLE programme_history (
  subject_id TEXT NOT NULL,
  -- 1, 2, 3… per subject: the order of changes, which times alone may not give (two in a millisecond)
  seq INTEGER NOT NULL,
  changed_at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  changes TEXT NOT NULL,
  note TEXT
);

CREATE INDEX programme_history_by_subject ON programme_history (subject_id);

-- Numbering of workstreams (WS-01), milestones (M-01) and RAID items (R-001, I-001…),
-- serialised like invoice_series.
CREATE TABLE programme_series (
  series TEXT PRIMARY KEY,
  last_seq INTEGER NOT NULL
);

-- One update per month. A draft holds the team's own words (summary and manual entries);
-- issuing freezes the whole update as JSON in `issued_content`, never changed again.
CREATE TABLE programme_updates (
  month TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  summary TEXT NOT NULL,
  issued_content TEXT,
  issued_sha256 TEXT,
  issued_at TEXT,
  issued_by TEXT,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL
);

-- section: completed | outstanding | events | issues | risks
CREATE TABLE programme_update_entries (
  entry_id TEXT PRIMARY KEY,
  month TEXT NOT NULL,
  section TEXT NOT NULL,
  text TEXT NOT NULL,
  href TEXT,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL
);
