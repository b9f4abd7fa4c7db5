/**
 * Every rate the synthetic world is built from, in one place, so docs/synthetic-data.md can
 * list them and a reviewer can change one without hunting. Figures are rounded, typical
 * English magnitudes (ONS mid-year estimates and life tables, HES and ECDS annual
 * statistics, QOF prevalence, MSDS/NMPA measures, NHS workforce statistics); they are
 * plausible shapes for testing, not estimates of Kent and Medway.
 */

/** Lower bounds of the age bands the activity tables use. */
export const AGE_BANDS = [0, 5, 15, 25, 45, 65, 75, 85] as const;

export function ageBand(age: number): number {
  let band = 0;
  for (let i = 0; i < AGE_BANDS.length; i++) if (age >= (AGE_BANDS[i] ?? 0)) band = i;
  return band;
}

export function ageBandLabel(band: number): string {
  const low = AGE_BANDS[band] ?? 0;
  const high = AGE_BANDS[band + 1];
  return high === undefined ? `${low}+` : `${low}-${high - 1}`;
}

/** Share of the population in each five-year age group (0–4 … 85–89, 90+), shaped on Kent mid-2019. */
export const AGE_PYRAMID = [
  5.9, 6.3, 6.0, 5.6, 5.2, 5.9, 6.2, 6.0, 5.9, 6.6, 7.1, 6.7, 5.8, 5.4, 5.5, 3.8, 2.8, 1.8, 1.0,
] as const;

/** Dependent children in a family that has some, and the share of such families with that many. */
export const HOUSEHOLD_CHILDREN_PER_FAMILY = [
  [1, 0.4],
  [2, 0.4],
  [3, 0.15],
  [4, 0.05],
] as const;
/** Share of families with dependent children that have two parents at home. */
export const TWO_PARENT_SHARE = 0.75;
/** Share of adults without children at home who live as a couple. */
export const COUPLE_SHARE = 0.75;

/** Annual probability that a household moves, by the head's age band (ONS/EHS magnitudes). */
export const MOVE_RATE_BY_BAND = [0.12, 0.1, 0.2, 0.12, 0.06, 0.04, 0.04, 0.05] as const;
/** Share of moves that stay in the same local authority. */
export const MOVE_WITHIN_LA = 0.75;
/** Share of households that moved in the five years before the window (an older address exists). */
export const PRIOR_ADDRESS_SHARE = 0.35;

/** Annual probability of death by age band (ONS life tables, England 2017–19, rounded), ×1.1 men. */
export const DEATH_RATE_BY_BAND = [0.0009, 0.0001, 0.0003, 0.0008, 0.004, 0.014, 0.042, 0.14] as const;
/** Share of deaths that happen in hospital (ONS deaths by place of occurrence, ~45%). */
export const HOSPITAL_DEATH_SHARE = 0.45;

/** Live births per woman per year by age 15–19 … 45–49 (ONS births in England and Wales 2019). */
export const FERTILITY_BY_AGE = [
  [15, 0.013],
  [20, 0.056],
  [25, 0.1],
  [30, 0.122],
  [35, 0.07],
  [40, 0.016],
  [45, 0.001],
] as const;
export const TWIN_SHARE = 0.015;
/** Stillbirths per birth (MBRRACE-UK ~3.5 per 1,000 total births). */
export const STILLBIRTH_SHARE = 0.0035;

/**
 * Annual rates per person by age band (0–4, 5–14, 15–24, 25–44, 45–64, 65–74, 75–84, 85+),
 * from HES APC and OP and ECDS annual statistics (England, 2018–19), rounded. Emergency
 * admission rates are for people without long-term conditions: CONDITION_EMERGENCY_FACTOR
 * raises them, so the band averages come out near England's (about 150, 300 and 550 per
 * 1,000 at 65–74, 75–84 and 85+).
 */
export const EMERGENCY_ADMISSIONS_BY_BAND = [0.14, 0.035, 0.055, 0.058, 0.07, 0.1, 0.18, 0.26] as const;
/** The most the conditions of one person multiply their emergency admission rate by. */
export const CONDITION_FACTOR_CAP = 4;
export const ELECTIVE_ADMISSIONS_BY_BAND = [0.03, 0.03, 0.05, 0.08, 0.18, 0.33, 0.36, 0.25] as const;
export const OUTPATIENT_FIRSTS_BY_BAND = [0.45, 0.25, 0.3, 0.4, 0.55, 0.8, 0.95, 0.9] as const;
/** Follow-ups per first attendance (new:follow-up about 1:2, reference digest Appendix A). */
export const FOLLOW_UPS_PER_FIRST = 1.9;
/** ED attendances that do not lead to admission, per person per year. */
export const ED_ATTENDANCES_BY_BAND = [0.55, 0.28, 0.42, 0.32, 0.26, 0.28, 0.38, 0.55] as const;
/** Share of emergency admissions arriving through the trust's own ED (admission method 21). */
export const EMERGENCY_VIA_ED_SHARE = 0.7;

/** Rate multiplier for deprivation: decile 1 (most deprived) × (1 + 5 × slope) … decile 10 × (1 − 4 × slope). */
export const DEPRIVATION_SLOPE = {
  emergency: 0.07,
  elective: 0.01,
  outpatient: 0.02,
  ed: 0.06,
  fertility: 0.03,
  death: 0.06,
} as const;

export function deprivationMultiplier(decile: number, slope: number): number {
  return 1 + slope * (6 - decile);
}

/** Month-by-month activity factor for the COVID-19 pandemic (NHS England monthly activity, 2020–21). */
export const COVID_FACTORS: Record<string, { planned: number; emergency: number }> = {
  '2020-03': { planned: 0.8, emergency: 0.85 },
  '2020-04': { planned: 0.35, emergency: 0.55 },
  '2020-05': { planned: 0.45, emergency: 0.7 },
  '2020-06': { planned: 0.6, emergency: 0.8 },
  '2020-07': { planned: 0.75, emergency: 0.88 },
  '2020-08': { planned: 0.8, emergency: 0.9 },
  '2020-09': { planned: 0.85, emergency: 0.9 },
  '2020-10': { planned: 0.85, emergency: 0.9 },
  '2020-11': { planned: 0.8, emergency: 0.85 },
  '2020-12': { planned: 0.75, emergency: 0.85 },
  '2021-01': { planned: 0.6, emergency: 0.75 },
  '2021-02': { planned: 0.7, emergency: 0.8 },
  '2021-03': { planned: 0.85, emergency: 0.92 },
  '2021-04': { planned: 0.9, emergency: 0.95 },
  '2021-05': { planned: 0.92, emergency: 0.98 },
};

export function covidFactor(month: string): { planned: number; emergency: number } {
  return COVID_FACTORS[month] ?? { planned: 1, emergency: 1 };
}

/** Outpatient attendance status shares (reference digest §2.5 and Appendix A: DNA 6–9%). */
export const OUTPATIENT_STATUS = [
  ['5', 0.8],
  ['6', 0.02],
  ['7', 0.005],
  ['3', 0.075],
  ['2', 0.05],
  ['4', 0.05],
] as const;

/** ECDS acuity shares, weighted to levels 3–4 (reference digest Appendix A). */
export const ACUITY_SHARES = [0.02, 0.12, 0.4, 0.36, 0.1] as const;
/** Probability the four-hour standard is met, by acuity 1–5, for attendances not admitted. */
export const FOUR_HOUR_MET_BY_ACUITY = [0.6, 0.72, 0.8, 0.9, 0.95] as const;
/** The same for patients admitted through ED (longer waits for a bed). */
export const FOUR_HOUR_MET_ADMITTED = 0.55;

/** Long-term conditions the GP feed codes. */
export const CONDITIONS = [
  'diabetes',
  'hypertension',
  'copd',
  'asthma',
  'chd',
  'dementia',
  'frailty',
] as const;
export type Condition = (typeof CONDITIONS)[number];

/**
 * Prevalence at the start of the window by age (piecewise: [minimum age, prevalence]),
 * from QOF 2018–19 register prevalence by age, rounded; men and women, deprivation slopes below.
 */
export const CONDITION_PREVALENCE: Record<Condition, readonly (readonly [number, number])[]> = {
  diabetes: [
    [0, 0.001],
    [17, 0.01],
    [40, 0.06],
    [60, 0.15],
    [80, 0.17],
  ],
  hypertension: [
    [0, 0],
    [18, 0.02],
    [40, 0.13],
    [60, 0.36],
    [80, 0.55],
  ],
  copd: [
    [0, 0],
    [40, 0.015],
    [60, 0.055],
    [80, 0.08],
  ],
  asthma: [
    [0, 0],
    [6, 0.065],
  ],
  chd: [
    [0, 0],
    [40, 0.02],
    [60, 0.09],
    [80, 0.17],
  ],
  dementia: [
    [0, 0],
    [65, 0.02],
    [80, 0.11],
    [90, 0.3],
  ],
  frailty: [
    [0, 0],
    [65, 0.1],
    [80, 0.35],
  ],
};
export const CONDITION_SEX_FACTOR: Record<Condition, [male: number, female: number]> = {
  diabetes: [1.2, 0.8],
  hypertension: [1.05, 0.95],
  copd: [1.1, 0.9],
  asthma: [0.9, 1.1],
  chd: [1.5, 0.55],
  dementia: [0.8, 1.2],
  frailty: [0.85, 1.15],
};
export const CONDITION_DEPRIVATION_SLOPE: Record<Condition, number> = {
  diabetes: 0.05,
  hypertension: 0.02,
  copd: 0.12,
  asthma: 0.03,
  chd: 0.05,
  dementia: 0.02,
  frailty: 0.06,
};
/** Annual incidence among people without the condition, applied to adults of the ages given. */
export const CONDITION_INCIDENCE: Record<Condition, readonly [minimumAge: number, annual: number]> = {
  diabetes: [40, 0.005],
  hypertension: [40, 0.015],
  copd: [45, 0.002],
  asthma: [6, 0.002],
  chd: [55, 0.005],
  dementia: [75, 0.012],
  frailty: [75, 0.03],
};
/** Emergency admission multiplier for each condition a person has (they compound). */
export const CONDITION_EMERGENCY_FACTOR: Record<Condition, number> = {
  diabetes: 1.3,
  hypertension: 1.1,
  copd: 1.9,
  asthma: 1.2,
  chd: 1.4,
  dementia: 1.8,
  frailty: 1.8,
};

/**
 * eFI deficits coded beyond the modelled conditions (src/synth/frailty-deficits.ts), for
 * people 65 or over by the window's end: a Poisson count with this mean, plus a second for
 * people with frailty. Synthetic, tuned so that among people aged 65+ about half are fit,
 * a third mildly frail, and a tenth or more moderately or severely frail, near the shares
 * Clegg et al. (Age and Ageing 2016) report (fit 50%, mild 35%, moderate 12%, severe 3%).
 */
export const EFI_EXTRA_DEFICITS = {
  base: 2,
  perYearOver65: 0.07,
  perCondition: 0.6,
  frail: 4.5,
  frailPerYearOver65: 0.08,
} as const;

/** Kent's ethnic mix (2011 Census, Kent and Medway, rounded), Data Dictionary ETHNIC CATEGORY codes. */
export const ETHNICITY_SHARES = [
  ['A', 0.862],
  ['B', 0.008],
  ['C', 0.04],
  ['D', 0.004],
  ['E', 0.003],
  ['F', 0.005],
  ['G', 0.004],
  ['H', 0.016],
  ['J', 0.003],
  ['K', 0.002],
  ['L', 0.009],
  ['M', 0.003],
  ['N', 0.017],
  ['P', 0.002],
  ['R', 0.006],
  ['S', 0.008],
  ['Z', 0.008],
] as const;

/** Maternity (MSDS/NMPA England magnitudes): shares of pregnancies and births. */
export const MATERNITY = {
  /** smoking at booking by IMD decile 1 … 10 */
  smokingAtBookingByDecile: [0.24, 0.2, 0.17, 0.14, 0.12, 0.1, 0.08, 0.07, 0.06, 0.05],
  /** of booking smokers, still smoking at delivery; of non-smokers, starting */
  smokingContinues: 0.75,
  smokingStarts: 0.005,
  /** labour onset: spontaneous / induced / caesarean before labour */
  onset: [
    ['1', 0.55],
    ['3', 0.33],
    ['5', 0.12],
  ],
  preterm: 0.075,
  emergencyCaesareanInLabour: 0.18,
  instrumental: 0.12,
  breech: 0.005,
  pphMedianMl: 350,
  thirdFourthDegreeTear: 0.03,
  breastMilkFirstFeed: 0.74,
  lowApgar: 0.01,
  bookedBy70DaysTarget: 0.6,
  /** of labours: epidural (more when induced), episiotomy in unassisted vaginal births, artificial rupture of membranes, oxytocin (more when induced) */
  epidural: 0.25,
  episiotomy: 0.1,
  arom: 0.3,
  oxytocin: 0.12,
  /** term live births admitted to a neonatal unit (ATAIN: about 5%); preterm ones far more often */
  termNeonatalAdmission: 0.05,
  pretermNeonatalAdmission: 0.6,
} as const;

/** ESR: staff per 1,000 residents served, and monthly dynamics (NHS workforce statistics magnitudes). */
export const WORKFORCE = {
  staffPerThousand: { acute: 11, community: 2.7, 'mental-health': 1.7 } as Record<string, number>,
  /** annual leaver rate (~12%) and matching starter rate */
  annualTurnover: 0.12,
  /** share of staff off sick on a given day (~4.5%), split into episodes */
  sicknessRate: 0.045,
  staffGroups: [
    ['Nursing and Midwifery Registered', 0.27, ['5', '6', '7', '8a']],
    ['Additional Clinical Services', 0.23, ['2', '3', '4']],
    ['Administrative and Clerical', 0.2, ['2', '3', '4', '5', '6', '7', '8a', '8b']],
    [
      'Medical and Dental',
      0.1,
      ['Consultant', 'Specialty Doctor', 'Specialty Registrar', 'Foundation Year 1', 'Foundation Year 2'],
    ],
    ['Allied Health Professionals', 0.07, ['5', '6', '7', '8a']],
    ['Estates and Ancillary', 0.07, ['1', '2', '3', '4']],
    ['Add Prof Scientific and Technic', 0.03, ['5', '6', '7', '8a', '8b']],
    ['Healthcare Scientists', 0.03, ['5', '6', '7', '8a']],
  ] as const,
} as const;

/** Adult social care: share of people receiving long-term support, by age band (NHS Digital SALT, rounded). */
export const ASC_CLIENT_SHARE_BY_BAND = [0, 0, 0.006, 0.008, 0.012, 0.03, 0.08, 0.22] as const;
/** Share of council social care records with no NHS number (issue text: about a third). */
export const ASC_WITHOUT_NHS_NUMBER = 0.33;
/** Fire and rescue home safety visits per household per year, higher for older people living alone. */
export const FIRE_VISITS_PER_HOUSEHOLD = { base: 0.015, olderAlone: 0.12 } as const;
/** Share of the population the community trust and the mental health trust hold a record for. */
export const COMMUNITY_KNOWN_SHARE_BY_BAND = [0.25, 0.12, 0.05, 0.05, 0.08, 0.2, 0.45, 0.75] as const;
export const MENTAL_HEALTH_KNOWN_SHARE_BY_BAND = [0, 0.02, 0.045, 0.04, 0.03, 0.025, 0.05, 0.1] as const;
/** Monthly chance a known person has a contact that touches their record (and so the PMI extract). */
export const PMI_CONTACT_MONTHLY = { community: 0.08, mentalHealth: 0.1 } as const;
/** Share of an acute trust's catchment already on its PMI before the window opens. */
export const ACUTE_KNOWN_AT_START = 0.6;
