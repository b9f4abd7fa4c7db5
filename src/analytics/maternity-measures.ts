/**
 * The maternity dashboard's measures, as data: what each counts, over which window, and
 * the SQL that counts it. Definitions follow the reference digest §3.3 ("National
 * maternity measures: numerator and denominator", from NHS England's CQIM code for the
 * Maternity Services Monthly Statistics); where the digest marks a definition [U]
 * (uncertain) or [M] (from general knowledge), the measure carries that caveat.
 *
 * The SQL is written once, in the dialect both engines share, over three base tables the
 * dashboard builds from governed reads of the warehouse (`ds_msds_booking`,
 * `ds_msds_delivery`, `ds_msds_baby`; see `baseTablesSql`):
 * - `bk`: one row per booking (mother), month of the booking appointment;
 * - `mat`: one row per labour and delivery (a maternity), month of delivery, with what its
 *   babies show (any birth, caesarean, vaginal, term);
 * - `bb`: one row per baby, month of its delivery, with the delivery's singleton flag.
 * Each measure's `cohortSql` selects `(org_code, month_index, subject, num, den)` from
 * them: `subject` is the person counted (a mother's or a baby's token), `den` = 1 when the
 * row belongs to the denominator, `num` = 1 when it also belongs to the numerator. The
 * dashboard counts DISTINCT subjects over each window, so a person counts once however
 * many rows they have (§3.3: "distinct mothers … distinct babies").
 */
import type { Polarity } from './spc.ts';
import type { RateUnit } from './disclosure-control.ts';

export interface MaternityMeasure {
  id: string;
  /** NHS England's measure id where there is one */
  nationalId?: string;
  title: string;
  unit: RateUnit;
  /**
   * Months counted in each point: always 1. NHS England publishes PPH, tears and Apgar over
   * rolling 3 months, but overlapping windows are not independent points and an XmR chart
   * over them raises false alarms on most stable processes (docs/maternity-dashboard.md).
   */
  windowMonths: 1;
  polarity: Polarity;
  counts: 'mothers' | 'babies';
  numerator: string;
  denominator: string;
  /** where the definition comes from, quoted on the page */
  definition: string;
  /** the MSDS fields it reads (catalogue names; a test checks each exists) */
  fields: readonly string[];
  /** what is uncertain about it ([U] and [M] marks in the reference digest) */
  caveats: string[];
  /** `SELECT org_code, month_index, subject, num, den FROM …` over bk, mat, bb */
  cohortSql: string;
  /**
   * The chart drawn for it: an XmR chart of monthly points, or, for rare events whose
   * monthly counts are too small for XmR limits to mean anything, a funnel plot comparing
   * providers over the window (docs/maternity-dashboard.md).
   */
  chart: 'xmr' | 'funnel';
  /**
   * The companion data-quality measure (as NHS England publishes a CQIMDQ beside each
   * CQIM): the share of the records the measure starts from that carry every field it
   * needs. Same shape as `cohortSql`; `num` = 1 when the record has them.
   */
  dataQuality: { numerator: string; denominator: string; cohortSql: string };
}

/** Why a rare-event measure is drawn as a funnel plot, said on the page and in the API. */
export const FUNNEL_REASON =
  'A rare event: a provider sees a handful a month, so monthly rates jump between 0 and large values and XmR limits mean little. Making Data Count recommends a chart made for rare events; a g-chart or t-chart would show the date of every event, which disclosure control cannot allow, so Kernel compares providers over the whole window on a funnel plot, with limits that narrow as volume grows. The monthly figures are in the table.';

const BIRTH = `('01', '02', '03', '04')`;
const STILLBIRTH = `('02', '03', '04')`;
const TERM = 'BETWEEN 259 AND 315';

const flag = (condition: string): string => `CASE WHEN ${condition} THEN 1 ELSE 0 END`;

/** A data-quality companion: of the rows `from … where` selects, those where `complete` holds. */
const completeness = (
  numerator: string,
  denominator: string,
  from: string,
  complete: string,
): MaternityMeasure['dataQuality'] => ({
  numerator,
  denominator,
  cohortSql: `SELECT org_code, month_index, subject, ${flag(complete)} AS num, 1 AS den FROM ${from}`,
});

/** The fields the Robson groups and VBAC need, on a maternity. */
const ROBSON_FIELDS =
  'parity IS NOT NULL AND previous_cs IS NOT NULL AND onset IS NOT NULL AND presentation_known = 1 AND gestation_known = 1';
const ROBSON_DQ = completeness(
  'Maternities with parity, previous caesareans, onset of labour, presentation and gestation all recorded',
  'All women giving birth in the month',
  'mat WHERE gave_birth = 1',
  ROBSON_FIELDS,
);
/** Singleton, cephalic, term: the cohort Robson groups 1, 2 and 5 share. */
const SCT = 'gave_birth = 1 AND singleton = 1 AND cephalic = 1 AND term = 1';
const CAESAREAN = '(elective = 1 OR emergency = 1)';
const MONTHLY_NOT_ROLLING =
  'NHS England publishes it over rolling 3 months; Kernel charts each month, because overlapping windows are not independent SPC points.';

export const MATERNITY_MEASURES: readonly MaternityMeasure[] = [
  {
    id: 'births',
    title: 'Births',
    unit: 'count',
    windowMonths: 1,
    polarity: 'neutral',
    counts: 'babies',
    numerator: 'Babies born in the month, live or stillborn (PregOutcome 01–04)',
    denominator: 'None: this is a count',
    fields: ['PregOutcome', 'RPStartDate', 'DeliveryDate'],
    definition: '§3.2: CQIMs count PregOutcome 01–04 as "births" and 01 alone as "live births".',
    caveats: ['[U] The PregOutcome codes are inferred from the CQIM SQL.'],
    chart: 'xmr',
    dataQuality: completeness(
      'Baby records with a pregnancy outcome of 01–04',
      'All baby records in the month',
      'bb',
      `outcome IN ${BIRTH}`,
    ),
    cohortSql: `SELECT org_code, month_index, subject, 1 AS num, 1 AS den FROM bb WHERE outcome IN ${BIRTH}`,
  },
  {
    id: 'booking-by-10-weeks',
    title: 'Booked by 10 weeks of pregnancy',
    unit: 'percent',
    windowMonths: 1,
    polarity: 'higher-is-better',
    counts: 'mothers',
    numerator: 'Women whose booking appointment was at 70 days’ gestation or less (10+0 weeks)',
    denominator: 'All women booked in the month with a valid GestAgeBooking (0 to 315 days)',
    fields: ['AntenatalAppDate', 'GestAgeBooking'],
    definition:
      '§3.3: "women whose booking appointment was at ≤ 70 days\' gestation (10+0 weeks)" over "all women booked in period with a valid GestAgeBooking".',
    caveats: [
      '[U] The threshold: ≤ 70 or < 70 days is not confirmed; the older standard was ≤ 90 days (12+6).',
      'Kernel takes a GestAgeBooking from 0 to 315 days (45+0 weeks) as valid.',
    ],
    chart: 'xmr',
    dataQuality: completeness(
      'Bookings with a valid GestAgeBooking (0 to 315 days)',
      'All bookings in the month',
      'bk',
      'gest_age BETWEEN 0 AND 315',
    ),
    cohortSql: `SELECT org_code, month_index, subject, ${flag('gest_age <= 70')} AS num, 1 AS den
      FROM bk WHERE gest_age BETWEEN 0 AND 315`,
  },
  {
    id: 'smoking-at-booking',
    nationalId: 'CQIMSmokingBooking',
    title: 'Smoking at booking',
    unit: 'percent',
    windowMonths: 1,
    polarity: 'lower-is-better',
    counts: 'mothers',
    numerator: 'Women booked in the month whose booking smoking status is Smoker',
    denominator: 'Women booked in the month with a known smoking status (Smoker or Non-smoker / Ex-smoker)',
    fields: ['AntenatalAppDate', 'SmokingStatusBooking'],
    definition:
      '§3.3 CQIMSmokingBooking: "women booked (AntenatalAppDate in period) whose derived booking smoking status = Smoker" over "women booked in period with a known derived status".',
    caveats: [],
    chart: 'xmr',
    dataQuality: completeness(
      'Bookings with a known smoking status',
      'All bookings in the month',
      'bk',
      'smoking IS NOT NULL',
    ),
    cohortSql: `SELECT org_code, month_index, subject, ${flag('smoking = 1')} AS num, 1 AS den FROM bk WHERE smoking IN (0, 1)`,
  },
  {
    id: 'smoking-at-delivery',
    nationalId: 'CQIMSmokingDelivery',
    title: 'Smoking at time of delivery',
    unit: 'percent',
    windowMonths: 1,
    polarity: 'lower-is-better',
    counts: 'mothers',
    numerator: 'Women giving birth in the month whose smoking status at delivery is Smoker',
    denominator:
      'Women giving birth (PregOutcome 01–04) with smoking status Smoker or Non-smoker / Ex-smoker',
    fields: ['DeliveryDate', 'SmokingStatusDelivery', 'PregOutcome'],
    definition:
      '§3.3 CQIMSmokingDelivery: "women giving birth (PregOutcome 01–04) whose derived status at delivery = Smoker" over "those giving birth with status Smoker or Non/Ex-smoker"; window 1 month, lagged 1.',
    caveats: [
      'NHS England publishes this measure one month later than the others (lagged 1) because delivery records complete late; Kernel shows it against the month of delivery.',
    ],
    chart: 'xmr',
    dataQuality: completeness(
      'Women giving birth with a known smoking status at delivery',
      'All women giving birth in the month',
      'mat WHERE gave_birth = 1',
      'smoking IS NOT NULL',
    ),
    cohortSql: `SELECT org_code, month_index, subject, ${flag('smoking = 1')} AS num, 1 AS den
      FROM mat WHERE gave_birth = 1 AND smoking IN (0, 1)`,
  },
  {
    id: 'breastfeeding-first-feed',
    nationalId: 'CQIMBreastfeeding',
    title: 'Breast milk at first feed',
    unit: 'percent',
    windowMonths: 1,
    polarity: 'higher-is-better',
    counts: 'babies',
    numerator:
      'Babies born in the month whose first feed included breast milk (BabyFirstFeedIndCode 01 or 02)',
    denominator: 'Babies born in the month with a first-feed code 01, 02 or 03',
    fields: ['PregOutcome', 'BabyFirstFeedIndCode'],
    definition:
      '§3.3 CQIMBreastfeeding: "babies born in period with first-feed code 01/02" over "babies born with first-feed code 01/02/03".',
    caveats: ['[U] The first-feed codes are inferred from the CQIM SQL.'],
    chart: 'xmr',
    dataQuality: completeness(
      'Live births with a first-feed code 01, 02 or 03 (CQIMDQ08)',
      'All live births in the month',
      `bb WHERE outcome = '01'`,
      `first_feed IN ('01', '02', '03')`,
    ),
    cohortSql: `SELECT org_code, month_index, subject, ${flag(`first_feed IN ('01', '02')`)} AS num, 1 AS den
      FROM bb WHERE first_feed IN ('01', '02', '03')`,
  },
  ...(
    [
      [
        'caesarean-elective',
        'Elective caesarean section rate',
        'delivering by elective caesarean (delivery method 7)',
        'elective = 1',
      ],
      [
        'caesarean-emergency',
        'Emergency caesarean section rate',
        'delivering by emergency caesarean (delivery method 8)',
        'emergency = 1',
      ],
      [
        'caesarean-all',
        'Caesarean section rate (all)',
        'delivering by caesarean (delivery method 7 or 8)',
        '(elective = 1 OR emergency = 1)',
      ],
    ] as const
  ).map(([id, title, what, condition]): MaternityMeasure => ({
    id,
    title,
    unit: 'percent',
    windowMonths: 1,
    polarity: 'neutral',
    counts: 'mothers',
    numerator: `Women giving birth in the month ${what}`,
    denominator: 'All women giving birth in the month (maternities, PregOutcome 01–04)',
    fields: ['DeliveryDate', 'PregOutcome', 'DeliveryMethodCode'],
    definition:
      '§3.3 Caesarean rate: "women delivering by method 7 (elective) / 8 (emergency) / 7+8" over "all women giving birth (maternities)"; window month.',
    caveats: [
      '[M] This definition is from general knowledge, not re-checked against NHS England code.',
      'Shown as neither improvement nor concern: there is no right caesarean rate for a population.',
    ],
    cohortSql: `SELECT org_code, month_index, subject, ${flag(condition)} AS num, 1 AS den FROM mat WHERE gave_birth = 1`,
    chart: 'xmr',
    dataQuality: completeness(
      'Women giving birth with a delivery method recorded',
      'All women giving birth in the month',
      'mat WHERE gave_birth = 1',
      'method_known = 1',
    ),
  })),
  {
    id: 'preterm-births',
    nationalId: 'CQIMPreterm',
    title: 'Preterm births',
    unit: 'per-1000',
    windowMonths: 1,
    polarity: 'lower-is-better',
    counts: 'babies',
    numerator: 'Singleton live births at 154–258 days’ gestation (22+0 to 36+6 weeks)',
    denominator: 'Singleton live births at 154–315 days’ gestation',
    fields: ['PregOutcome', 'GestationLengthBirth', 'BirthsPerLabandDel'],
    definition:
      '§3.3 CQIMPreterm: "singleton live births at 154–258 days (22+0 to 36+6)" over "singleton live births at 154–315 days".',
    caveats: [],
    chart: 'xmr',
    dataQuality: completeness(
      'Live births with a gestation of 154–315 days and a delivery record (for singleton)',
      'All live births in the month',
      `bb WHERE outcome = '01'`,
      'gestation BETWEEN 154 AND 315 AND singleton IS NOT NULL',
    ),
    cohortSql: `SELECT org_code, month_index, subject, ${flag('gestation <= 258')} AS num, 1 AS den
      FROM bb WHERE singleton = 1 AND outcome = '01' AND gestation BETWEEN 154 AND 315`,
  },
  {
    id: 'pph-1500',
    nationalId: 'CQIMPPH',
    title: 'Postpartum haemorrhage of 1,500 ml or more',
    unit: 'per-1000',
    windowMonths: 1,
    polarity: 'lower-is-better',
    counts: 'mothers',
    numerator: 'Women giving birth with a recorded blood loss of 1,500 ml or more',
    denominator: 'All women giving birth (PregOutcome 01–04)',
    fields: ['DeliveryDate', 'PregOutcome', 'BloodLossMl'],
    definition:
      '§3.3 CQIMPPH: "women giving birth with a blood-loss observation … whose value ≥ 1500" over "all women giving birth (PregOutcome 01–04)"; 3 months rolling.',
    caveats: [
      'The warehouse holds blood loss as one value in ml per delivery (the SNOMED observation set is resolved by the sender).',
    ],
    chart: 'xmr',
    dataQuality: completeness(
      'Women giving birth with a blood loss recorded',
      'All women giving birth in the month',
      'mat WHERE gave_birth = 1',
      'blood_loss IS NOT NULL',
    ),
    cohortSql: `SELECT org_code, month_index, subject, ${flag('blood_loss >= 1500')} AS num, 1 AS den FROM mat WHERE gave_birth = 1`,
  },
  {
    id: 'third-fourth-degree-tears',
    nationalId: 'CQIMTears',
    title: '3rd or 4th-degree perineal tears',
    unit: 'per-1000',
    windowMonths: 1,
    polarity: 'lower-is-better',
    counts: 'mothers',
    numerator:
      'Women in the cohort with a third-degree (10217006) or fourth-degree (399031001) perineal tear',
    denominator:
      'Women with a singleton, vaginal (delivery method 0–4, breech excluded), term (259–315 days) birth',
    fields: [
      'GenitalTractTraumaticLesion',
      'BirthsPerLabandDel',
      'DeliveryMethodCode',
      'GestationLengthBirth',
    ],
    definition:
      '§3.3 CQIMTears: "women with singleton, vaginal (method 0–4, i.e. breech excluded), term (259–315 days) birth with lesion 10217006 or 399031001" over "the same cohort regardless of tear"; 3 months.',
    caveats: [],
    chart: 'funnel',
    dataQuality: completeness(
      'Vaginal births with a delivery method and gestation recorded for every baby',
      'All women giving birth vaginally in the month',
      'mat WHERE gave_birth = 1 AND vaginal = 1',
      'gestation_known = 1 AND method_known = 1',
    ),
    cohortSql: `SELECT org_code, month_index, subject, ${flag(`lesion IN ('10217006', '399031001')`)} AS num, 1 AS den
      FROM mat WHERE gave_birth = 1 AND singleton = 1 AND vaginal = 1 AND term = 1`,
  },
  {
    id: 'apgar-low-term',
    nationalId: 'CQIMApgar',
    title: '5-minute Apgar score 0–6 at term',
    unit: 'per-1000',
    windowMonths: 1,
    polarity: 'lower-is-better',
    counts: 'babies',
    numerator: 'Term singleton babies with a 5-minute Apgar score of 0 to 6',
    denominator:
      'Term (259–315 days) singleton babies (PregOutcome 01–04) with a 5-minute Apgar score 0–10 recorded',
    fields: ['ApgarScore', 'PregOutcome', 'GestationLengthBirth', 'BirthsPerLabandDel'],
    definition:
      '§3.3 CQIMApgar: "term (259–315) singleton babies (PregOutcome 01–04) with 5-minute Apgar 0–6" over "same cohort with Apgar 0–10 recorded"; 3 months.',
    caveats: [],
    chart: 'funnel',
    dataQuality: completeness(
      'Term babies with a 5-minute Apgar score recorded (0–10)',
      'All term babies born in the month',
      `bb WHERE outcome IN ${BIRTH} AND gestation ${TERM}`,
      'apgar BETWEEN 0 AND 10',
    ),
    cohortSql: `SELECT org_code, month_index, subject, ${flag('apgar <= 6')} AS num, 1 AS den
      FROM bb WHERE singleton = 1 AND outcome IN ${BIRTH} AND gestation ${TERM} AND apgar BETWEEN 0 AND 10`,
  },
  {
    id: 'low-birthweight-term',
    title: 'Low birthweight at term',
    unit: 'percent',
    windowMonths: 1,
    polarity: 'lower-is-better',
    counts: 'babies',
    numerator: 'Live births at 37+0 weeks or more (259 days) weighing under 2,500 g',
    denominator: 'Live births at 37+0 weeks or more with a stated birthweight',
    fields: ['BirthWeight', 'GestationLengthBirth', 'PregOutcome'],
    definition:
      '§3.3 Low birthweight at term: "live births at ≥ 37+0 weeks with birthweight < 2500 g" over "live births at ≥ 37+0 weeks with a stated weight (OHID Fingertips definition)"; annual/rolling.',
    caveats: [
      '[M] From general knowledge (OHID Fingertips), not re-checked.',
      'OHID publishes it annually; Kernel charts each month (small monthly counts give wide limits).',
    ],
    chart: 'xmr',
    dataQuality: completeness(
      'Term live births with a birthweight recorded',
      'All term live births in the month',
      `bb WHERE outcome = '01' AND gestation >= 259`,
      'birthweight > 0',
    ),
    cohortSql: `SELECT org_code, month_index, subject, ${flag('birthweight < 2500')} AS num, 1 AS den
      FROM bb WHERE outcome = '01' AND gestation >= 259 AND birthweight > 0`,
  },
  {
    id: 'stillbirth-rate',
    title: 'Stillbirth rate',
    unit: 'per-1000',
    windowMonths: 1,
    polarity: 'lower-is-better',
    counts: 'babies',
    numerator: 'Babies born with no signs of life at 24+0 weeks (168 days) or more (PregOutcome 02–04)',
    denominator: 'Live births and stillbirths (total births)',
    fields: ['PregOutcome', 'GestationLengthBirth'],
    definition:
      '§3.3 Stillbirth rate: "babies born with no signs of life at ≥ 24+0 weeks (ONS/MBRRACE definition; terminations excluded by MBRRACE)" over "live births + stillbirths"; usually annual.',
    caveats: [
      '[M] From general knowledge; [U] the PregOutcome stillbirth codes are inferred.',
      'Usually published annually; Kernel charts each month (small monthly counts give wide limits). Terminations cannot be told apart in this feed.',
    ],
    chart: 'funnel',
    dataQuality: completeness(
      'Births with a gestation of 154–315 days recorded (needed to tell a stillbirth at 24 weeks or more)',
      'All births in the month',
      `bb WHERE outcome IN ${BIRTH}`,
      'gestation BETWEEN 154 AND 315',
    ),
    cohortSql: `SELECT org_code, month_index, subject, ${flag(`outcome IN ${STILLBIRTH}`)} AS num, 1 AS den
      FROM bb WHERE outcome = '01' OR (outcome IN ${STILLBIRTH} AND gestation >= 168)`,
  },
  ...(
    [
      [
        'robson-1',
        'CQIMRobson01',
        'Robson group 1: caesarean rate',
        'Robson group 1: no previous birth, singleton, cephalic, term (259–315 days), spontaneous labour (onset 1)',
        `parity = 0 AND onset = '1'`,
      ],
      [
        'robson-2',
        'CQIMRobson02',
        'Robson group 2: caesarean rate',
        'Robson group 2: no previous birth, singleton, cephalic, term, labour induced or caesarean before labour (onset 2–5)',
        `parity = 0 AND onset IN ('2', '3', '4', '5')`,
      ],
      [
        'robson-5',
        'CQIMRobson05',
        'Robson group 5: caesarean rate',
        'Robson group 5: 1 to 20 previous caesareans, singleton, cephalic, term',
        'previous_cs BETWEEN 1 AND 20',
      ],
    ] as const
  ).map(([id, nationalId, title, group, condition]): MaternityMeasure => ({
    id,
    nationalId,
    title,
    unit: 'percent',
    windowMonths: 1,
    polarity: 'neutral',
    counts: 'mothers',
    numerator: `Women in ${group.split(':')[0]} delivering by caesarean (delivery method 7 or 8)`,
    denominator: `All women in ${group}`,
    fields: [
      'PreviousLiveBirths',
      'PreviousStillBirths',
      'PreviousCaesareanSections',
      'LabourOnsetMethod',
      'FetusPresentation',
      'GestationLengthBirth',
      'BirthsPerLabandDel',
      'DeliveryMethodCode',
    ],
    definition: `§3.3 ${nationalId}: ${group}, delivered by caesarean (7/8), over all of the group; 3 months.`,
    caveats: [
      MONTHLY_NOT_ROLLING,
      'Parity is PreviousLiveBirths + PreviousStillBirths on the delivery record; presentation is every baby’s FetusPresentation (01 cephalic).',
      'Shown as neither improvement nor concern: a caesarean rate has no right value for a group.',
    ],
    cohortSql: `SELECT org_code, month_index, subject, ${flag(CAESAREAN)} AS num, 1 AS den
      FROM mat WHERE ${SCT} AND ${condition}`,
    chart: 'xmr',
    dataQuality: ROBSON_DQ,
  })),
  {
    id: 'vbac',
    nationalId: 'CQIMVBAC',
    title: 'Vaginal birth after caesarean',
    unit: 'percent',
    windowMonths: 1,
    polarity: 'neutral',
    counts: 'mothers',
    numerator: 'Women in the cohort delivering vaginally (delivery method 0–4)',
    denominator:
      'Women with exactly one previous caesarean and one previous birth, giving birth to a term singleton, with any delivery method (0–9)',
    fields: [
      'PreviousCaesareanSections',
      'PreviousLiveBirths',
      'PreviousStillBirths',
      'GestationLengthBirth',
      'BirthsPerLabandDel',
      'DeliveryMethodCode',
    ],
    definition:
      '§3.3 CQIMVBAC: "women with exactly one previous caesarean and one previous birth, term singleton, delivering vaginally (0–4)" over "same group, any method (0–9)"; 3 months.',
    caveats: [
      MONTHLY_NOT_ROLLING,
      'Shown as neither improvement nor concern: whether to labour after a caesarean is each woman’s choice.',
    ],
    cohortSql: `SELECT org_code, month_index, subject, ${flag('vaginal = 1')} AS num, 1 AS den
      FROM mat WHERE gave_birth = 1 AND singleton = 1 AND term = 1 AND previous_cs = 1 AND parity = 1 AND method_known = 1`,
    chart: 'xmr',
    dataQuality: ROBSON_DQ,
  },
  {
    id: 'birth-without-intervention',
    nationalId: 'CQIMBWOI',
    title: 'Births without intervention',
    unit: 'percent',
    windowMonths: 1,
    polarity: 'neutral',
    counts: 'mothers',
    numerator:
      'Women in the cohort whose labour began spontaneously (onset 1) with no genital tract trauma, episiotomy, epidural, spinal or general anaesthesia, artificial rupture of membranes or oxytocin',
    denominator:
      'Women giving birth to a term singleton, cephalic baby by spontaneous vaginal delivery (delivery method 0 or 1)',
    fields: [
      'LabourOnsetMethod',
      'GenitalTractTraumaticLesion',
      'Episiotomy',
      'LabourAnaesthesiaType',
      'AROM',
      'OxytocinAdministeredInd',
      'FetusPresentation',
      'GestationLengthBirth',
      'BirthsPerLabandDel',
      'DeliveryMethodCode',
    ],
    definition:
      '§3.3 CQIMBWOI: "term singleton cephalic spontaneous vaginal births (0/1) that also meet the exclusions for induction, genital-tract trauma/episiotomy, anaesthesia type, AROM and oxytocin" over "term singleton cephalic spontaneous vaginal births (0/1)"; 1 month.',
    caveats: [
      '[U] NHS England’s exclusions are SNOMED CT code sets; Kernel’s MSDS feed carries them as yes/no fields and grouped anaesthesia types the sender maps (catalogue: msds-delivery).',
      'Any recorded genital tract lesion counts as trauma, first-degree tears included; an unknown intervention (empty field, anaesthesia 9) leaves a woman out of the numerator.',
      'Shown as neither improvement nor concern.',
    ],
    cohortSql: `SELECT org_code, month_index, subject, ${flag(
      `onset = '1' AND lesion IS NULL AND episiotomy = 0 AND anaesthesia = 'N' AND arom = 0 AND oxytocin = 0`,
    )} AS num, 1 AS den
      FROM mat WHERE gave_birth = 1 AND singleton = 1 AND cephalic = 1 AND term = 1 AND spontaneous_vaginal = 1 AND vaginal = 1`,
    chart: 'xmr',
    dataQuality: completeness(
      'Spontaneous vaginal births with onset, episiotomy, anaesthesia, AROM and oxytocin all recorded',
      'All term singleton cephalic spontaneous vaginal births in the month',
      'mat WHERE gave_birth = 1 AND singleton = 1 AND cephalic = 1 AND term = 1 AND spontaneous_vaginal = 1 AND vaginal = 1',
      `onset IS NOT NULL AND episiotomy IS NOT NULL AND anaesthesia IN ('N', 'E', 'S', 'G') AND arom IS NOT NULL AND oxytocin IS NOT NULL`,
    ),
  },
  {
    id: 'induction-of-labour',
    title: 'Induction of labour',
    unit: 'percent',
    windowMonths: 1,
    polarity: 'neutral',
    counts: 'mothers',
    numerator: 'Women giving birth in the month whose labour was induced (onset 3, 4 or 5)',
    denominator: 'Women giving birth in the month with a known onset of labour (onset 1–5)',
    fields: ['LabourOnsetMethod', 'PregOutcome', 'DeliveryDate'],
    definition:
      'NHS Maternity Statistics: deliveries with onset of labour induced (surgical, medical or both) over deliveries with a known onset; Kernel reads LabourOnsetMethod 3–5 as induced [U: the terms of codes 2–5].',
    caveats: [
      '[M] From general knowledge of the NHS Maternity Statistics, not re-checked against their code.',
      'Caesareans before labour (onset 2) stay in the denominator, as they do nationally.',
    ],
    cohortSql: `SELECT org_code, month_index, subject, ${flag(`onset IN ('3', '4', '5')`)} AS num, 1 AS den
      FROM mat WHERE gave_birth = 1 AND onset IS NOT NULL`,
    chart: 'xmr',
    dataQuality: completeness(
      'Women giving birth with an onset of labour recorded (1–5)',
      'All women giving birth in the month',
      'mat WHERE gave_birth = 1',
      'onset IS NOT NULL',
    ),
  },
  {
    id: 'term-admissions-neonatal',
    title: 'Term admissions to a neonatal unit',
    unit: 'percent',
    windowMonths: 1,
    polarity: 'lower-is-better',
    counts: 'babies',
    numerator: 'Live births at 37+0 weeks or more (259 days) admitted to a neonatal unit',
    denominator: 'Live births at 37+0 weeks or more',
    fields: ['NeonatalAdmission', 'GestationLengthBirth', 'PregOutcome'],
    definition:
      'NHS England ATAIN (Avoiding Term Admissions Into Neonatal units): term babies admitted to a neonatal unit within 28 days of birth over term live births.',
    caveats: [
      '[M] From general knowledge of ATAIN; [U] MSDS holds the admission as an MSD402NeonatalAdmission record, which the sender sends as NeonatalAdmission Y or N.',
    ],
    cohortSql: `SELECT org_code, month_index, subject, ${flag('neonatal_admission = 1')} AS num, 1 AS den
      FROM bb WHERE outcome = '01' AND gestation BETWEEN 259 AND 315`,
    chart: 'xmr',
    dataQuality: completeness(
      'Term live births with a neonatal admission recorded as yes or no',
      'All term live births in the month',
      `bb WHERE outcome = '01' AND gestation BETWEEN 259 AND 315`,
      'neonatal_admission IS NOT NULL',
    ),
  },
  {
    id: 'neonatal-deaths',
    title: 'Neonatal deaths',
    unit: 'per-1000',
    windowMonths: 1,
    polarity: 'lower-is-better',
    counts: 'babies',
    numerator: 'Live births who died aged 0 to 27 days (AgeAtDeathBaby)',
    denominator: 'Live births (PregOutcome 01)',
    fields: ['AgeAtDeathBaby', 'PregOutcome'],
    definition:
      'ONS and MBRRACE-UK: deaths in the first 28 days of life (0–27 completed days) per 1,000 live births, in the month of birth.',
    caveats: [
      '[M] From general knowledge (ONS, MBRRACE-UK), not re-checked; MBRRACE excludes terminations and births before 24 weeks, which this feed cannot tell apart.',
      'A death reaches the figure only once a later submission carries it; the latest months may rise as records complete.',
    ],
    cohortSql: `SELECT org_code, month_index, subject, ${flag('age_at_death BETWEEN 0 AND 27')} AS num, 1 AS den
      FROM bb WHERE outcome = '01'`,
    chart: 'funnel',
    dataQuality: completeness(
      'Live births whose record carries the baby’s token, so that a death can be followed',
      'All live births in the month',
      `bb WHERE outcome = '01'`,
      `subject NOT LIKE 'baby:%'`,
    ),
  },
];

export function findMeasure(id: string): MaternityMeasure | undefined {
  return MATERNITY_MEASURES.find((m) => m.id === id);
}
