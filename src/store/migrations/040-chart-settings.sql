-- What a chart's owner records about it (issue 17; docs/maternity-dashboard.md): rebases at a
-- known change in the process, and targets. Both are kept as data, changed only through
-- src/analytics/chart-settings.ts, which audits every change. A chart is named
-- '<dashboard>/<measure>' (e.g. 'maternity/robson-1'); a scope is an ODS code, or 'all' for
-- the whole-system series and every provider's.
CREATE TABLE chart_rebases (
  chart TEXT NOT NULL,
  scope TEXT NOT NULL,
  -- the first month of the new period, YYYY-MM
  period TEXT NOT NULL,
  reason TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  PRIMARY KEY (chart, scope, period)
);

CREATE TABLE chart_targets (
  chart TEXT NOT NULL,
  scope TEXT NOT NULL,
  -- in the measure's own unit (a percentage, a rate per 1,000, a count)
  target DOUBLE PRECISION NOT NULL,
  reason TEXT NOT NULL,
  set_by TEXT NOT NULL,
  set_at TEXT NOT NULL,
  PRIMARY KEY (chart, scope)
);
