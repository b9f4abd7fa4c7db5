/**
 * The three base tables the maternity measures count from, built over governed reads of
 * the MSDS warehouse tables (each `sources[dataset]` is the access policy's subquery,
 * used in place of the table). Column names are the catalogue's (src/catalogue/datasets/
 * msds-*.json, accepted shape); they are named once here, in `MSDS_COLUMNS`, and a test
 * checks them against the specifications.
 *
 * - `bk`: a booking: `org_code, subject, month_index, gest_age, smoking` (1 smoker,
 *   0 non-smoker or ex-smoker, NULL unknown), month of the booking appointment;
 * - `dl`: a labour and delivery: `org_code, token, subject, month_index, singleton,
 *   smoking, blood_loss, lesion`, month of delivery;
 * - `bb`: a baby: `org_code, subject, mother, month_index, singleton, outcome, gestation,
 *   method, apgar, first_feed, birthweight, presentation, neonatal_admission (1, 0 or NULL),
 *   age_at_death` (days), in its month of birth: the month of its
 *   mother's latest delivery at the provider up to the record's reporting period, or the
 *   reporting period where there is none. A baby sent again in a later period (the same
 *   token at the same provider) is counted once, from its latest record, which supersedes
 *   the earlier (`RPStartDate` orders them); with its delivery's singleton flag;
 * - `mat`: a maternity (one row per delivery) with what its babies show: `gave_birth`
 *   (any baby PregOutcome 01–04), `elective` (method 7), `emergency` (8), `vaginal`
 *   (0–4), `spontaneous_vaginal` (0–1), `method_known` (0–9), `term` (259–315 days),
 *   `cephalic` (every baby FetusPresentation 01), `presentation_known`, `gestation_known`;
 *   and the delivery's own `onset` (1–5, else NULL), `parity` (previous live births and
 *   stillbirths), `previous_cs`, and the interventions `episiotomy`, `anaesthesia`,
 *   `arom`, `oxytocin` (1, 0 or NULL).
 *
 * A baby meets its delivery by organisation, mother's token and month. Not by
 * `LabourDeliveryID` or the baby's birth year-month: the access policy hides those
 * quasi-identifiers from aggregate-only roles, and every role must see the same figures.
 * (For those roles tokens are use-case pseudonyms, the same function of the same token in
 * every table, so the join still holds.) A baby with no delivery record, or no mother's
 * token, still counts where a measure needs no delivery fact (births, breastfeeding), and
 * drops out of the singleton measures.
 */
import { quoteIdentifier } from '../store/sql.ts';

export const MSDS_DATASETS = ['msds-booking', 'msds-delivery', 'msds-baby'] as const;
export type MsdsDataset = (typeof MSDS_DATASETS)[number];

/** The warehouse columns each base table reads, by dataset. */
export const MSDS_COLUMNS = {
  'msds-booking': {
    mother: 'person_token',
    bookingDate: 'AntenatalAppDate',
    gestationAtBooking: 'GestAgeBooking',
    smoking: 'SmokingStatusBooking',
  },
  'msds-delivery': {
    mother: 'person_token',
    birthsPerDelivery: 'BirthsPerLabandDel',
    deliveryDate: 'DeliveryDate',
    smoking: 'SmokingStatusDelivery',
    bloodLoss: 'BloodLossMl',
    lesion: 'GenitalTractTraumaticLesion',
    onset: 'LabourOnsetMethod',
    previousCaesareans: 'PreviousCaesareanSections',
    previousLiveBirths: 'PreviousLiveBirths',
    previousStillBirths: 'PreviousStillBirths',
    episiotomy: 'Episiotomy',
    anaesthesia: 'LabourAnaesthesiaType',
    arom: 'AROM',
    oxytocin: 'OxytocinAdministeredInd',
  },
  'msds-baby': {
    baby: 'person_token',
    mother: 'mother_person_token',
    reportingPeriod: 'RPStartDate',
    outcome: 'PregOutcome',
    gestation: 'GestationLengthBirth',
    method: 'DeliveryMethodCode',
    apgar: 'ApgarScore',
    firstFeed: 'BabyFirstFeedIndCode',
    birthweight: 'BirthWeight',
    presentation: 'FetusPresentation',
    neonatalAdmission: 'NeonatalAdmission',
    ageAtDeath: 'AgeAtDeathBaby',
  },
} as const satisfies Record<MsdsDataset, Record<string, string>>;

/** The smoking-status codes (catalogue code list `smoking-status`): a smoker, and a known non-smoker. */
export const SMOKING_CODES = { smoker: ['Smoker'], nonSmoker: ['Non-Smoker / Ex-Smoker'] } as const;

const col = (alias: string, name: string): string => `${alias}.${quoteIdentifier(name)}`;
const list = (codes: readonly string[]): string => codes.map((c) => `'${c.replace(/'/g, "''")}'`).join(', ');

/** Month index (year × 12 + month − 1) of a DATE column; EXTRACT is SQL standard on both engines. */
const monthOfDate = (expr: string): string =>
  `(CAST(EXTRACT(YEAR FROM ${expr}) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM ${expr}) AS INTEGER) - 1)`;

/** A yes/no column as 1, 0 or NULL (stored as BOOLEAN). */
const yesNo = (expr: string): string => `CASE WHEN ${expr} THEN 1 WHEN NOT ${expr} THEN 0 END`;

const smokingFlag = (expr: string): string =>
  `CASE WHEN ${expr} IN (${list(SMOKING_CODES.smoker)}) THEN 1 WHEN ${expr} IN (${list(SMOKING_CODES.nonSmoker)}) THEN 0 END`;

/**
 * The base tables' CTE definitions (without `WITH`), keeping rows whose month index falls
 * in [fromIndex, toIndex].
 */
export function baseTablesSql(
  sources: Record<MsdsDataset, string>,
  fromIndex: number,
  toIndex: number,
): string {
  const b = MSDS_COLUMNS['msds-booking'];
  const d = MSDS_COLUMNS['msds-delivery'];
  const y = MSDS_COLUMNS['msds-baby'];
  const range = (expr: string): string =>
    `${expr} BETWEEN ${Math.trunc(fromIndex)} AND ${Math.trunc(toIndex)}`;
  // A row without a person token still counts once, under a key of its own.
  const subject = (token: string, prefix: string, rowId = 'row_id'): string =>
    `COALESCE(${token}, '${prefix}:' || CAST(${rowId} AS TEXT))`;
  return `bk_rows AS (
  SELECT s.org_code, ${col('s', b.mother)} AS token, ROW_NUMBER() OVER () AS row_id,
    ${monthOfDate(col('s', b.bookingDate))} AS month_index,
    CAST(${col('s', b.gestationAtBooking)} AS INTEGER) AS gest_age,
    ${smokingFlag(col('s', b.smoking))} AS smoking
  FROM ${sources['msds-booking']} AS s
  WHERE ${col('s', b.bookingDate)} IS NOT NULL
),
bk AS (
  SELECT org_code, ${subject('token', 'booking')} AS subject, month_index, gest_age, smoking
  FROM bk_rows WHERE ${range('month_index')}
),
dl_all AS (
    SELECT s.org_code, ${col('s', d.mother)} AS token, ROW_NUMBER() OVER () AS row_id,
      ${monthOfDate(col('s', d.deliveryDate))} AS month_index,
      CASE WHEN ${col('s', d.birthsPerDelivery)} = 1 THEN 1 ELSE 0 END AS singleton,
      ${smokingFlag(col('s', d.smoking))} AS smoking,
      CAST(${col('s', d.bloodLoss)} AS DOUBLE PRECISION) AS blood_loss,
      ${col('s', d.lesion)} AS lesion,
      CASE WHEN ${col('s', d.onset)} IN ('1', '2', '3', '4', '5') THEN ${col('s', d.onset)} END AS onset,
      CAST(${col('s', d.previousCaesareans)} AS INTEGER) AS previous_cs,
      CAST(${col('s', d.previousLiveBirths)} AS INTEGER) + CAST(${col('s', d.previousStillBirths)} AS INTEGER) AS parity,
      ${yesNo(col('s', d.episiotomy))} AS episiotomy,
      ${col('s', d.anaesthesia)} AS anaesthesia,
      ${yesNo(col('s', d.arom))} AS arom,
      ${yesNo(col('s', d.oxytocin))} AS oxytocin
    FROM ${sources['msds-delivery']} AS s
    WHERE ${col('s', d.deliveryDate)} IS NOT NULL
),
dl AS (
  SELECT org_code, token, row_id, ${subject('token', 'delivery')} AS subject, month_index, singleton, smoking, blood_loss, lesion,
    onset, previous_cs, parity, episiotomy, anaesthesia, arom, oxytocin
  FROM dl_all
  WHERE ${range('month_index')}
),
bb_rows AS (
  SELECT s.org_code, ${col('s', y.baby)} AS token, ${col('s', y.mother)} AS mother, ROW_NUMBER() OVER () AS row_id,
    ${monthOfDate(col('s', y.reportingPeriod))} AS period_index,
    ${col('s', y.outcome)} AS outcome,
    CAST(${col('s', y.gestation)} AS INTEGER) AS gestation,
    ${col('s', y.method)} AS method,
    CAST(${col('s', y.apgar)} AS INTEGER) AS apgar,
    ${col('s', y.firstFeed)} AS first_feed,
    CAST(${col('s', y.birthweight)} AS INTEGER) AS birthweight,
    ${col('s', y.presentation)} AS presentation,
    ${yesNo(col('s', y.neonatalAdmission))} AS neonatal_admission,
    CAST(${col('s', y.ageAtDeath)} AS INTEGER) AS age_at_death
  FROM ${sources['msds-baby']} AS s
  WHERE ${col('s', y.reportingPeriod)} IS NOT NULL
),
bb_latest AS (
  SELECT r.*, ROW_NUMBER() OVER (
    PARTITION BY r.org_code, COALESCE(r.token, 'row:' || CAST(r.row_id AS TEXT))
    ORDER BY r.period_index DESC, r.row_id DESC) AS version
  FROM bb_rows AS r
),
bb_born AS (
  SELECT x.*, COALESCE((
    SELECT MAX(a.month_index) FROM dl_all AS a
    WHERE a.org_code = x.org_code AND a.token = x.mother AND a.month_index <= x.period_index
  ), x.period_index) AS month_index
  FROM bb_latest AS x
  WHERE x.version = 1
),
bb AS (
  SELECT x.org_code, ${subject('x.token', 'baby', 'x.row_id')} AS subject, x.mother, x.month_index,
    dl.singleton, x.outcome, x.gestation, x.method, x.apgar, x.first_feed, x.birthweight,
    x.presentation, x.neonatal_admission, x.age_at_death
  FROM bb_born AS x
  LEFT JOIN dl ON dl.org_code = x.org_code AND dl.token = x.mother AND dl.month_index = x.month_index
  WHERE ${range('x.month_index')}
),
mat AS (
  SELECT dl.org_code, dl.subject, dl.month_index, dl.singleton, dl.smoking, dl.blood_loss, dl.lesion,
    dl.onset, dl.previous_cs, dl.parity, dl.episiotomy, dl.anaesthesia, dl.arom, dl.oxytocin,
    MAX(CASE WHEN bb.outcome IN ('01', '02', '03', '04') THEN 1 ELSE 0 END) AS gave_birth,
    MAX(CASE WHEN bb.method = '7' THEN 1 ELSE 0 END) AS elective,
    MAX(CASE WHEN bb.method = '8' THEN 1 ELSE 0 END) AS emergency,
    MAX(CASE WHEN bb.method IN ('0', '1', '2', '3', '4') THEN 1 ELSE 0 END) AS vaginal,
    MAX(CASE WHEN bb.gestation BETWEEN 259 AND 315 THEN 1 ELSE 0 END) AS term,
    MAX(CASE WHEN bb.method IN ('0', '1') THEN 1 ELSE 0 END) AS spontaneous_vaginal,
    MAX(CASE WHEN bb.method IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9') THEN 1 ELSE 0 END) AS method_known,
    MIN(CASE WHEN bb.presentation = '01' THEN 1 ELSE 0 END) AS cephalic,
    MIN(CASE WHEN bb.presentation IN ('01', '02', '03') THEN 1 ELSE 0 END) AS presentation_known,
    MIN(CASE WHEN bb.gestation BETWEEN 154 AND 315 THEN 1 ELSE 0 END) AS gestation_known
  FROM dl LEFT JOIN bb ON bb.org_code = dl.org_code AND bb.mother = dl.token AND bb.month_index = dl.month_index
  GROUP BY dl.org_code, dl.row_id, dl.subject, dl.month_index, dl.singleton, dl.smoking, dl.blood_loss, dl.lesion,
    dl.onset, dl.previous_cs, dl.parity, dl.episiotomy, dl.anaesthesia, dl.arom, dl.oxytocin
)`;
}
