/**
 * The district councils of the synthetic world (Maidstone and Swale, the Kent districts in the
 * linking project): each month, the housing events (homelessness applications, decisions,
 * duties ended, temporary accommodation, tenancies) and the council tax reduction and housing
 * benefit assessments of the households living in the district, each row about the
 * household's lead applicant or claimant.
 *
 * Everything is drawn from hashes of (seed, household, month), so a case's later events are
 * found again in later months without state, and adding these feeds left every other draw
 * of the world as it was. Councils rarely hold an NHS number (housing about one record in
 * ten, benefits none): truth/records.csv says which person and address each row is, so the
 * linkage of these records can be scored. The rates are illustrative magnitudes, named with
 * their source beside each.
 */
import { NO_DAY } from './population.ts';
import { patientBlock, type Values } from './feed-rows.ts';
import type { MonthlyFeedWriter } from './feed-router.ts';
import { hashKey, hashUniform, Random } from './random.ts';
import { formatDay, type Month } from './synth-dates.ts';
import { laOfAddress, type World } from './world.ts';

/** The district councils the world makes feeds for: ONS GSS codes (members.json). */
export const DISTRICT_COUNCILS = ['E07000110', 'E07000113'] as const;

/**
 * Households assessed as homeless or threatened with homelessness per household per year:
 * about 1.2% in England (DLUHC statutory homelessness statistics 2022/23, ~300,000 of ~24
 * million households), higher in deprived areas (the decile factor below).
 */
const HOMELESSNESS_APPLICATIONS_PER_HOUSEHOLD = 0.012;
/** Share of applications owed the relief duty (already homeless); the rest prevention, a few not homeless (H-CLIC, about half each). */
const RELIEF_SHARE = 0.45;
const NOT_HOMELESS_SHARE = 0.05;
/** Households owed relief placed in temporary accommodation: more with children (DLUHC P1E magnitudes). */
const TEMPORARY_ACCOMMODATION = { withChildren: 0.7, without: 0.35 } as const;
/** Housing register allocations outside the homelessness route, per household per year, in the most deprived tenth. */
const REGISTER_ALLOCATIONS_PER_HOUSEHOLD = 0.006;
/** Tenancies ending per household per year among those allocated one (a rough turnover). */
const TENANCY_ENDS_PER_HOUSEHOLD = 0.004;
/** Council tax reduction caseload: about 15% of households in England (DLUHC CTR statistics 2023), by deprivation. */
const CTR_HOUSEHOLD_SHARE = 0.15;
/** Of CTR claimants renting, those also on housing benefit (most new working-age claims go to Universal Credit instead). */
const HOUSING_BENEFIT_OF_RENTERS = 0.55;
/** A claim's monthly chance of a change-of-circumstances assessment, of ending, and of a new claim starting. */
const CLAIM_MONTHLY = { change: 1 / 6, end: 0.01, newClaim: 0.0015, refused: 0.0005 } as const;
/** Share of housing records with an NHS number (a health question on some forms); benefits records hold none. */
export const HOUSING_WITH_NHS_NUMBER = 0.1;

interface HouseholdIndex {
  /** people of each household, in person order */
  members: Int32Array[];
}

const indexCache = new WeakMap<World, HouseholdIndex>();

function householdIndex(world: World): HouseholdIndex {
  let index = indexCache.get(world);
  if (index) return index;
  const population = world.population;
  const counts = new Int32Array(population.householdCount);
  for (let p = 0; p < population.count; p++) counts[population.household[p] ?? 0]!++;
  const members = Array.from({ length: population.householdCount }, (_, h) => new Int32Array(counts[h]!));
  counts.fill(0);
  for (let p = 0; p < population.count; p++) {
    const h = population.household[p] ?? 0;
    members[h]![counts[h]!++] = p;
  }
  index = { members };
  indexCache.set(world, index);
  return index;
}

const alive = (world: World, person: number, day: number): boolean =>
  (world.population.birth[person] ?? NO_DAY) <= day && (world.population.death[person] ?? NO_DAY) > day;

const ageOn = (world: World, person: number, day: number): number =>
  Math.floor((day - (world.population.birth[person] ?? 0)) / 365.25);

/** The household's lead applicant on a day: its oldest adult alive, or -1. */
function leadOf(world: World, members: Int32Array, day: number): number {
  let lead = -1;
  for (const p of members) {
    if (!alive(world, p, day) || ageOn(world, p, day) < 18) continue;
    if (lead < 0 || (world.population.birth[p] ?? 0) < (world.population.birth[lead] ?? 0)) lead = p;
  }
  return lead;
}

function householdCounts(world: World, members: Int32Array, day: number): { size: number; children: number } {
  let size = 0;
  let children = 0;
  for (const p of members) {
    if (!alive(world, p, day)) continue;
    size++;
    if (ageOn(world, p, day) < 18) children++;
  }
  return { size: Math.max(1, size), children };
}

/** The district council of the household's home on a day, or undefined outside Maidstone and Swale. */
function districtOf(world: World, household: number, day: number): string | undefined {
  const address = world.population.householdAddressAt(household, day);
  const code = world.geography.localAuthorities[laOfAddress(world, address)]?.code;
  return (DISTRICT_COUNCILS as readonly string[]).includes(code ?? '') ? code : undefined;
}

/** 1 in the middle decile, about 1.8 in the most deprived and 0.2 in the least. */
function deprivationFactor(world: World, household: number, day: number): number {
  const address = world.population.householdAddressAt(household, day);
  const postcode = world.geography.postcodes[world.population.addressPostcode[address] ?? 0];
  const decile = world.geography.lsoas[postcode?.lsoa ?? 0]?.imdDecile ?? 5;
  return (11 - decile) / 5.5;
}

function reference(prefix: string, council: string, ...parts: number[]): string {
  const district = council === 'E07000110' ? 'MBC' : 'SBC';
  return `${district}${prefix}${String(hashKey(prefix, council, ...parts) % 100_000_000).padStart(8, '0')}`;
}

/** The identity and address columns of a council record about `person` on `day`. */
function personValues(world: World, person: number, day: number, council: string, nhs: boolean): Values {
  const values = patientBlock(world, person, day, council, { nhs });
  values.Person_ID_Local = `${council === 'E07000110' ? 'MBC' : 'SBC'}${String(hashKey('council-client', council, person) % 10_000_000).padStart(7, '0')}`;
  values.Council_Code = council;
  return values;
}

interface HousingEvent {
  day: number;
  type: string;
  values: Values;
  /** what names the case or tenancy, so its events share a reference */
  caseKey: number;
}

/**
 * A homelessness case opened in month `opened` by household `h`, as its events: the
 * application, temporary accommodation where relief is owed, the decision or the end of the
 * prevention duty, and a tenancy where the main duty is owed. Days may run past the window.
 */
function homelessnessCase(world: World, h: number, opened: Month, openedIndex: number): HousingEvent[] {
  const r = new Random(world.seed, 'homelessness-case', h, openedIndex);
  const day0 = r.int(opened.first, opened.last);
  const draw = r.next();
  const duty =
    draw < NOT_HOMELESS_SHARE
      ? 'not-homeless'
      : draw < NOT_HOMELESS_SHARE + RELIEF_SHARE
        ? 'relief'
        : 'prevention';
  const reason = r.pick([
    'end-of-private-tenancy',
    'end-of-private-tenancy',
    'family-no-longer-willing',
    'family-no-longer-willing',
    'friends-no-longer-willing',
    'domestic-abuse',
    'relationship-breakdown',
    'end-of-social-tenancy',
    'left-institution',
    'mortgage-arrears',
    'other',
  ]);
  const events: HousingEvent[] = [
    {
      day: day0,
      caseKey: openedIndex,
      type: 'homelessness-application',
      values: { Homelessness_Duty: duty, Reason_For_Loss_Of_Home: reason },
    },
  ];
  if (duty === 'not-homeless') return events;
  if (duty === 'prevention') {
    const end = day0 + r.int(14, 56);
    const why = r.pick([
      'secured-accommodation-6-months',
      'secured-accommodation-6-months',
      'secured-accommodation-6-months',
      'secured-accommodation-short',
      'homeless',
      'contact-lost',
      'withdrew',
      '56-days-elapsed',
    ]);
    events.push({
      day: end,
      caseKey: openedIndex,
      type: 'homelessness-duty-ended',
      values: { Homelessness_Duty: 'prevention', Duty_End_Reason: why },
    });
    return events;
  }
  // Relief: perhaps temporary accommodation at once; after the 56 days, the main duty decision.
  const members = householdIndex(world).members[h]!;
  const withChildren = householdCounts(world, members, day0).children > 0;
  const placed = r.chance(
    withChildren ? TEMPORARY_ACCOMMODATION.withChildren : TEMPORARY_ACCOMMODATION.without,
  );
  const decided = day0 + 56 + r.int(0, 21);
  const mainDuty = r.chance(withChildren ? 0.7 : 0.4);
  const tenancy = mainDuty ? decided + r.int(30, 300) : -1;
  if (placed) {
    const leaves = mainDuty ? tenancy : decided + r.int(7, 60);
    events.push({
      day: day0 + r.int(0, 3),
      caseKey: openedIndex,
      type: 'temporary-accommodation',
      values: {
        Temporary_Accommodation_Type: r.pick([
          'bed-and-breakfast',
          'nightly-paid-self-contained',
          'nightly-paid-self-contained',
          'hostel',
          'social-housing-stock',
          'private-sector-leased',
        ]),
        leaves: String(leaves),
      },
    });
  }
  const decision = mainDuty
    ? 'main-duty'
    : r.pick(['no-priority-need', 'no-priority-need', 'intentionally-homeless', 'not-eligible']);
  events.push({
    day: decided,
    caseKey: openedIndex,
    type: 'homelessness-decision',
    values: { Homelessness_Duty: decision },
  });
  if (!mainDuty) {
    events.push({
      day: decided + r.int(0, 14),
      caseKey: openedIndex,
      type: 'homelessness-duty-ended',
      values: {
        Homelessness_Duty: 'relief',
        Duty_End_Reason: r.pick([
          'secured-accommodation-6-months',
          'secured-accommodation-short',
          'contact-lost',
          'refused-suitable-offer',
          'other',
        ]),
      },
    });
  } else {
    events.push({
      day: tenancy,
      caseKey: 1000 + openedIndex,
      type: 'tenancy-start',
      values: { Landlord_Type: 'registered-provider' },
    });
  }
  return events;
}

/** The housing events of month `monthIndex`, from cases opened in it or up to a year before. */
function housingEventsInMonth(world: World, h: number, monthIndex: number): HousingEvent[] {
  const month = world.months[monthIndex]!;
  const events: HousingEvent[] = [];
  for (let k = Math.max(0, monthIndex - 12); k <= monthIndex; k++) {
    const opened = world.months[k]!;
    const factor = deprivationFactor(world, h, opened.first);
    if (
      hashUniform(world.seed, 'homelessness', h, k) >=
      (HOMELESSNESS_APPLICATIONS_PER_HOUSEHOLD * factor) / 12
    )
      continue;
    if (!districtOf(world, h, opened.first)) continue;
    for (const event of homelessnessCase(world, h, opened, k))
      if (event.day >= month.first && event.day <= month.last) events.push(event);
  }
  const factor = deprivationFactor(world, h, month.first);
  const r = new Random(world.seed, 'housing-register', h, monthIndex);
  if (
    hashUniform(world.seed, 'register-allocation', h, monthIndex) <
    (REGISTER_ALLOCATIONS_PER_HOUSEHOLD * factor) / 1.8 / 12
  )
    events.push({
      day: r.int(month.first, month.last),
      caseKey: 2000 + monthIndex,
      type: 'tenancy-start',
      values: {
        Landlord_Type: r.pick([
          'registered-provider',
          'registered-provider',
          'registered-provider',
          'private-landlord',
        ]),
      },
    });
  if (hashUniform(world.seed, 'tenancy-end', h, monthIndex) < (TENANCY_ENDS_PER_HOUSEHOLD * factor) / 12)
    events.push({
      day: r.int(month.first, month.last),
      caseKey: 3000 + monthIndex,
      type: 'tenancy-end',
      values: { Landlord_Type: 'registered-provider' },
    });
  return events.sort((a, b) => a.day - b.day);
}

const writeHousing: MonthlyFeedWriter = (world, month, monthIndex, emit, subject) => {
  const { members } = householdIndex(world);
  for (let h = 0; h < world.population.householdCount; h++) {
    if (!districtOf(world, h, month.first)) continue;
    for (const event of housingEventsInMonth(world, h, monthIndex)) {
      const council = districtOf(world, h, event.day);
      const lead = leadOf(world, members[h]!, event.day);
      if (!council || lead < 0) continue;
      const nhs = hashUniform(world.seed, 'housing-nhs', lead) < HOUSING_WITH_NHS_NUMBER;
      const values = personValues(world, lead, event.day, council, nhs);
      const counts = householdCounts(world, members[h]!, event.day);
      const leaves = event.values.leaves === undefined ? -1 : Number(event.values.leaves);
      Object.assign(values, {
        Case_Reference: reference('H', council, h, event.caseKey),
        Event_Type: event.type,
        Event_Date: formatDay(event.day),
        // a placement's end is known when the row is sent only if it fell in the same month
        Event_End_Date: leaves >= event.day && leaves <= month.last ? formatDay(leaves) : '',
        Homelessness_Duty: event.values.Homelessness_Duty ?? '',
        Reason_For_Loss_Of_Home: event.values.Reason_For_Loss_Of_Home ?? '',
        Duty_End_Reason: event.values.Duty_End_Reason ?? '',
        Temporary_Accommodation_Type: event.values.Temporary_Accommodation_Type ?? '',
        Landlord_Type: event.values.Landlord_Type ?? '',
        Household_Size: String(counts.size),
        Children_In_Household: String(counts.children),
      });
      emit(council, 'council-housing', values, subject(lead, event.day, nhs), () =>
        previousAddress(world, lead, event.day),
      );
    }
  }
};

/** The address columns at the person's previous home, for the old-address defect councils make. */
function previousAddress(world: World, person: number, day: number): Values | undefined {
  const previous = world.population.previousAddress(person, day);
  if (previous < 0) return undefined;
  const postcode = world.geography.postcodes[world.population.addressPostcode[previous] ?? 0];
  return {
    Postcode: postcode?.pcds ?? '',
    Address_Line_1: `${world.population.addressNumber[previous] ?? 1} ${postcode?.street ?? ''}`,
    Address_Line_2: postcode?.town ?? '',
    UPRN: world.population.uprn(previous),
  };
}

interface Claim {
  /** month index the claim started in, or -1 for a claim in payment before the window */
  startMonth: number;
  /** month index it ends in, or -1 */
  endMonth: number;
  startDay: number;
  tenure: string;
  housingBenefit: boolean;
}

/** The household's council tax reduction claim over the window, if it has one. */
function claimOf(world: World, h: number): Claim | undefined {
  const start = world.months[0]!;
  const months = world.months.length;
  const factor = deprivationFactor(world, h, start.first);
  const r = new Random(world.seed, 'ctr-claim', h);
  const tenure = r.pick([
    'social-rented',
    'social-rented',
    'private-rented',
    'private-rented',
    'owner-occupier',
    'other',
  ]);
  const renting = tenure === 'social-rented' || tenure === 'private-rented';
  const housingBenefit = renting && r.chance(HOUSING_BENEFIT_OF_RENTERS);
  const inPayment = hashUniform(world.seed, 'ctr', h) < Math.min(0.6, CTR_HOUSEHOLD_SHARE * factor);
  if (inPayment) {
    const ends = r.chance(1 - (1 - CLAIM_MONTHLY.end) ** months);
    return {
      startMonth: -1,
      endMonth: ends ? r.int(0, months - 1) : -1,
      startDay: start.first - r.int(30, 2000),
      tenure,
      housingBenefit,
    };
  }
  if (!r.chance(1 - (1 - CLAIM_MONTHLY.newClaim * factor) ** months)) return undefined;
  const startMonth = r.int(0, months - 1);
  const month = world.months[startMonth]!;
  return { startMonth, endMonth: -1, startDay: r.int(month.first, month.last), tenure, housingBenefit };
}

const writeBenefits: MonthlyFeedWriter = (world, month, monthIndex, emit, subject) => {
  const { members } = householdIndex(world);
  for (let h = 0; h < world.population.householdCount; h++) {
    const council = districtOf(world, h, month.first);
    if (!council) continue;
    const claim = claimOf(world, h);
    const r = new Random(world.seed, 'ctr-assessment', h, monthIndex);
    let assessment: string | undefined;
    if (claim && claim.startMonth === monthIndex) assessment = 'new-award';
    else if (claim && claim.endMonth === monthIndex) assessment = 'ended';
    else if (
      claim &&
      claim.startMonth < monthIndex &&
      (claim.endMonth < 0 || claim.endMonth > monthIndex) &&
      r.chance(CLAIM_MONTHLY.change)
    )
      assessment = 'change-of-circumstances';
    else if (!claim && hashUniform(world.seed, 'ctr-refused', h, monthIndex) < CLAIM_MONTHLY.refused)
      assessment = 'refused';
    if (!assessment) continue;
    const day =
      assessment === 'new-award'
        ? Math.min(month.last, claim!.startDay + r.int(0, 14))
        : r.int(month.first, month.last);
    const lead = leadOf(world, members[h]!, day);
    if (lead < 0) continue;
    const startDay = assessment === 'refused' ? day - r.int(0, 20) : claim!.startDay;
    const pension = ageOn(world, lead, day) >= 66;
    const counts = householdCounts(world, members[h]!, day);
    const tenure = claim?.tenure ?? 'private-rented';
    const benefits = ['council-tax-reduction', ...(claim?.housingBenefit ? ['housing-benefit'] : [])];
    for (const benefit of benefits) {
      const values = personValues(world, lead, day, council, false);
      const ended = assessment === 'ended';
      const paid = !ended && assessment !== 'refused';
      const weekly =
        benefit === 'housing-benefit' ? 70 + (hashKey('hb', h) % 90) : 12 + (hashKey('ctr-award', h) % 18);
      Object.assign(values, {
        Claim_Reference: reference(
          benefit === 'housing-benefit' ? 'HB' : 'CT',
          council,
          h,
          claim?.startDay ?? day,
        ),
        Benefit_Type: benefit,
        Assessment_Date: formatDay(day),
        Claim_Start_Date: formatDay(startDay),
        Claim_End_Date: ended ? formatDay(day - r.int(0, 10)) : '',
        Assessment_Type: assessment,
        Passported: hashUniform(world.seed, 'passported', h) < (pension ? 0.45 : 0.35) ? 'Y' : 'N',
        Pension_Age_Claim: pension ? 'Y' : 'N',
        Weekly_Award: paid ? (weekly * (0.9 + r.next() * 0.2)).toFixed(2) : '0.00',
        Tenure: tenure,
        Household_Size: String(counts.size),
      });
      emit(council, 'council-benefits', values, subject(lead, day, false), () =>
        previousAddress(world, lead, day),
      );
    }
  }
};

/** Writes the month's district council feeds: housing and benefits, for Maidstone and Swale. */
export const writeDistrictCouncils: MonthlyFeedWriter = (world, month, monthIndex, emit, subject) => {
  writeHousing(world, month, monthIndex, emit, subject);
  writeBenefits(world, month, monthIndex, emit, subject);
};
