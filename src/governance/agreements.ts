/**
 * Data sharing agreements: between one controller and the programme, covering datasets,
 * purposes and a period of months.
 *
 * API (other domains call these):
 * - `assertAgreementInForce(q, org, dataset, period)` — resolves when an agreement in force
 *   covers that organisation sending that dataset for that month ('YYYY-MM'); otherwise
 *   throws `KernelError('refused')` saying what is missing and what to do. The loader calls
 *   it inside its transaction, before anything is written.
 * - `createAgreement(q, {org, datasets, purposes?, from, to, title?, signedBy?}, actor)` —
 *   records an agreement in force (audited `agreement.created`). The organisation must be
 *   registered first (`registerOrganisation` / `seedOrganisations` in organisations.ts).
 *   `q` may be the store (own transaction) or an open transaction.
 * - `controllersWithAgreement(q, dataset, purpose)` — the organisations whose agreement in
 *   force covers a dataset for a purpose; the access policy narrows every read to them.
 */
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import { parseOneOf } from '../parse-one-of.ts';
import { SqlFilter } from '../store/sql-filter.ts';
import type { Queryable, Row } from '../store/store.ts';
import { checkDatasetIds } from './datasets.ts';
import {
  inTransaction,
  nowIso,
  parseDate,
  parseOrgCode,
  parsePeriod,
  parsePurpose,
  placeholders,
  PURPOSES,
  type Purpose,
} from './governance-values.ts';
import { getOrganisation } from './organisations.ts';

export const AGREEMENT_STATES = ['in-force', 'suspended', 'ended'] as const;
export type AgreementState = (typeof AGREEMENT_STATES)[number];

export interface Agreement {
  id: string;
  org: string;
  title: string;
  datasets: string[];
  purposes: Purpose[];
  /** first month covered, 'YYYY-MM' */
  from: string;
  /** last month covered, 'YYYY-MM' */
  to: string;
  state: AgreementState;
  signedBy: string | null;
  signedAt: string | null;
}

export interface NewAgreement {
  org: string;
  datasets: readonly string[];
  /** defaults to every purpose */
  purposes?: readonly (Purpose | string)[];
  from: string;
  to: string;
  title?: string;
  /** who signed for the controller (a role, e.g. "Caldicott Guardian"); defaults to the actor */
  signedBy?: string;
  /** 'YYYY-MM-DD'; defaults to today */
  signedOn?: string;
}

interface AgreementRow extends Row {
  agreement_id: string;
  org_code: string;
  title: string;
  start_period: string;
  end_period: string;
  state: string;
  signed_by: string | null;
  signed_at: string | null;
}

export async function createAgreement(q: Queryable, input: NewAgreement, actor: string): Promise<Agreement> {
  const org = parseOrgCode(input.org);
  const from = parsePeriod(input.from, 'from');
  const to = parsePeriod(input.to, 'to');
  if (to < from) {
    throw new KernelError('usage', `The agreement would end (${to}) before it starts (${from})`, {
      where: { field: 'to' },
      hint: 'Give the first and last months it covers, e.g. --from 2019-04 --to 2022-03',
    });
  }
  const datasets = [...new Set(input.datasets.map((d) => d.trim()))];
  if (datasets.length === 0) {
    throw new KernelError('usage', 'An agreement must cover at least one dataset', {
      where: { field: 'dataset' },
    });
  }
  checkDatasetIds(datasets);
  const purposes = [...new Set((input.purposes ?? PURPOSES).map((p) => parsePurpose(p)))];
  const signedOn =
    input.signedOn === undefined ? nowIso().slice(0, 10) : parseDate(input.signedOn, 'signedOn');
  return inTransaction(q, async (tx) => {
    const organisation = await getOrganisation(tx, org);
    const [count] = await tx.query<{ n: number }>(
      'SELECT count(*) AS n FROM agreements WHERE org_code = $1',
      [org],
    );
    const id = `DSA-${org}-${String(Number(count?.n ?? 0) + 1).padStart(3, '0')}`;
    const agreement: Agreement = {
      id,
      org,
      title:
        input.title?.trim() || `Data sharing agreement between ${organisation.name} and the Kernel programme`,
      datasets,
      purposes,
      from,
      to,
      state: 'in-force',
      signedBy: input.signedBy?.trim() || actor,
      signedAt: signedOn,
    };
    await tx.run(
      `INSERT INTO agreements (agreement_id, org_code, title, start_period, end_period, state, signed_by, signed_at, created_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        id,
        org,
        agreement.title,
        from,
        to,
        agreement.state,
        agreement.signedBy,
        agreement.signedAt,
        nowIso(),
        actor,
      ],
    );
    await tx.insertRows(
      'agreement_datasets',
      ['agreement_id', 'dataset_id'],
      datasets.map((d) => [id, d]),
    );
    await tx.insertRows(
      'agreement_purposes',
      ['agreement_id', 'purpose'],
      purposes.map((p) => [id, p]),
    );
    await appendAudit(tx, {
      actor,
      action: 'agreement.created',
      target: `agreement:${id}`,
      details: { org, datasets, purposes, from, to },
    });
    return agreement;
  });
}

/** Suspends, ends or reinstates an agreement. Loads and reads stop at once when it leaves force. */
export async function setAgreementState(
  q: Queryable,
  id: string,
  requested: AgreementState,
  actor: string,
): Promise<Agreement> {
  // The operation's schema checks the API's and the CLI's input; this checks any other caller's.
  const state = parseOneOf(requested, AGREEMENT_STATES, { noun: 'an agreement state', field: 'state' });
  return inTransaction(q, async (tx) => {
    const current = await getAgreement(tx, id);
    if (current.state === 'ended') {
      throw new KernelError('conflict', `Agreement ${id} has ended and cannot change`, {
        hint: 'Record a new agreement instead',
      });
    }
    if (current.state === state) return current;
    await tx.run('UPDATE agreements SET state = $2 WHERE agreement_id = $1', [id, state]);
    await appendAudit(tx, {
      actor,
      action: `agreement.${state === 'in-force' ? 'reinstated' : state}`,
      target: `agreement:${id}`,
      details: { org: current.org, from: current.state, to: state },
    });
    return { ...current, state };
  });
}

async function hydrate(q: Queryable, rows: AgreementRow[]): Promise<Agreement[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.agreement_id);
  const datasets = await q.query<{ agreement_id: string; dataset_id: string }>(
    `SELECT agreement_id, dataset_id FROM agreement_datasets WHERE agreement_id IN (${placeholders(ids.length)}) ORDER BY dataset_id`,
    ids,
  );
  const purposes = await q.query<{ agreement_id: string; purpose: string }>(
    `SELECT agreement_id, purpose FROM agreement_purposes WHERE agreement_id IN (${placeholders(ids.length)}) ORDER BY purpose`,
    ids,
  );
  return rows.map((row) => ({
    id: row.agreement_id,
    org: row.org_code,
    title: row.title,
    datasets: datasets.filter((d) => d.agreement_id === row.agreement_id).map((d) => d.dataset_id),
    purposes: purposes.filter((p) => p.agreement_id === row.agreement_id).map((p) => p.purpose as Purpose),
    from: row.start_period,
    to: row.end_period,
    state: row.state as AgreementState,
    signedBy: row.signed_by,
    signedAt: row.signed_at,
  }));
}

/**
 * Agreements, of one organisation or covering one dataset when asked. An organisation not
 * registered or a dataset Kernel does not know is refused: it would list nothing, as if it
 * had no agreement.
 */
export async function listAgreements(
  q: Queryable,
  filter: { org?: string; dataset?: string } = {},
): Promise<Agreement[]> {
  const org = filter.org ? (await getOrganisation(q, parseOrgCode(filter.org))).code : undefined;
  if (filter.dataset) checkDatasetIds([filter.dataset]);
  return selectAgreements(q, {
    ...(org ? { org } : {}),
    ...(filter.dataset ? { dataset: filter.dataset.trim() } : {}),
  });
}

async function selectAgreements(
  q: Queryable,
  filter: { org?: string; dataset?: string },
): Promise<Agreement[]> {
  const sql = new SqlFilter();
  if (filter.org) sql.add('org_code = ?', filter.org);
  if (filter.dataset) {
    sql.add(
      'agreement_id IN (SELECT agreement_id FROM agreement_datasets WHERE dataset_id = ?)',
      filter.dataset,
    );
  }
  const rows = await q.query<AgreementRow>(
    `SELECT * FROM agreements ${sql.where()} ORDER BY org_code, agreement_id`,
    sql.params,
  );
  return hydrate(q, rows);
}

export async function getAgreement(q: Queryable, id: string): Promise<Agreement> {
  const rows = await q.query<AgreementRow>('SELECT * FROM agreements WHERE agreement_id = $1', [id]);
  const [agreement] = await hydrate(q, rows);
  if (!agreement) {
    throw new KernelError('not-found', `No agreement ${id}`, { hint: 'See `kernel agreements list`' });
  }
  return agreement;
}

/**
 * Refuses, with the reason, unless an agreement in force covers `org` sending `dataset`
 * for `period` ('YYYY-MM'). Read-only: safe inside the loader's transaction.
 */
export async function assertAgreementInForce(
  q: Queryable,
  org: string,
  dataset: string,
  period: string,
): Promise<void> {
  const code = org.trim().toUpperCase();
  const month = parsePeriod(period);
  // A dataset Kernel does not know is that, not a missing agreement (which would suggest adding one).
  checkDatasetIds([dataset]);
  const agreements = (await selectAgreements(q, { org: code })).filter((a) => a.datasets.includes(dataset));
  if (agreements.some((a) => a.state === 'in-force' && a.from <= month && month <= a.to)) return;
  const addCommand = `kernel agreements add --org ${code} --dataset ${dataset} --from YYYY-MM --to YYYY-MM`;
  if (agreements.length === 0) {
    throw new KernelError('refused', `No data sharing agreement covers ${code} sending ${dataset}`, {
      where: { field: 'dataset' },
      hint: `Kernel takes a feed only under an agreement in force; record the signed agreement first (${addCommand})`,
    });
  }
  const inForce = agreements.filter((a) => a.state === 'in-force');
  if (inForce.length === 0) {
    const states = agreements.map((a) => `${a.id} is ${a.state}`).join('; ');
    throw new KernelError(
      'refused',
      `No data sharing agreement in force covers ${code} sending ${dataset} (${states})`,
      {
        where: { field: 'dataset' },
        hint: 'Ask the programme team to reinstate the agreement or record a new one',
      },
    );
  }
  const spans = inForce.map((a) => `${a.from} to ${a.to}`).join(', ');
  throw new KernelError(
    'refused',
    `The data sharing agreement for ${code} sending ${dataset} covers ${spans}, not ${month}`,
    {
      where: { field: 'period' },
      hint: 'Check the period of the file, or record an agreement that covers it',
    },
  );
}

/**
 * Organisations whose agreement in force covers `dataset` for `purpose` (on `date`,
 * 'YYYY-MM-DD', when given: the month must fall within the agreement's period).
 */
export async function controllersWithAgreement(
  q: Queryable,
  dataset: string,
  purpose: Purpose,
  date?: string,
): Promise<string[]> {
  const params: string[] = [dataset, purpose];
  let period = '';
  if (date) {
    params.push(date.slice(0, 7));
    period = 'AND a.start_period <= $3 AND a.end_period >= $3';
  }
  const rows = await q.query<{ org_code: string }>(
    `SELECT DISTINCT a.org_code FROM agreements a
       JOIN agreement_datasets d ON d.agreement_id = a.agreement_id
       JOIN agreement_purposes p ON p.agreement_id = a.agreement_id
     WHERE a.state = 'in-force' AND d.dataset_id = $1 AND p.purpose = $2 ${period}
     ORDER BY a.org_code`,
    params,
  );
  return rows.map((r) => r.org_code);
}
