/**
 * The clinical content of a synthetic ECDS attendance beyond its times (ECDS 1.1.0): where
 * the patient came from and how, the department type (emergency department, urgent
 * treatment centre, same day emergency care), up to 12 diagnoses with their qualifiers, up
 * to 12 investigations and treatments, the injury fields, the clinically-ready-to-proceed
 * time and the discharge follow-up.
 *
 * Every draw comes from a stream keyed by the attendance itself, never from the person's
 * month stream, so adding this content moved no other value of any world.
 */
import type { EdVisit } from './activity-model.ts';
import { Random, WeightedTable } from './random.ts';
import { formatDateTime } from './synth-dates.ts';
import type { World } from './world.ts';
import { MALE } from './population.ts';

type Values = Record<string, string>;

/** Positions the catalogue carries for each repeating group (src/catalogue/datasets/ecds.json). */
export const ECDS_POSITIONS = 12;

/** ECDS arrival mode (SNOMED CT), code list ecds-arrival-mode: the current nine-concept list. */
const AMBULANCE_ARRIVAL = new WeightedTable([
  ['1048031000000100', 90], // emergency road ambulance
  ['1048021000000102', 6], // non-emergency road ambulance
  ['1048041000000109', 3], // emergency road ambulance with medical escort
  ['1048051000000107', 1], // helicopter air ambulance
] as const);
const OTHER_ARRIVAL = new WeightedTable([
  ['1048071000000103', 80], // own transport
  ['1048061000000105', 17], // public transport
  ['1048001000000106', 2.5], // police transport
  ['1047991000000102', 0.5], // prison transport
] as const);

/** ECDS attendance source (SNOMED CT), code list ecds-attendance-source. */
const SOURCE_BY_AMBULANCE = new WeightedTable([
  ['198261000000104', 75], // referred by ambulance service
  ['879591000000102', 12], // NHS 111
  ['276491000', 8], // primary health care team
  ['1991000124105', 5], // self
] as const);
const SOURCE_WALK_IN = new WeightedTable([
  ['1991000124105', 50], // self
  ['879591000000102', 20], // NHS 111
  ['276491000', 14], // primary health care team
  ['315261000000101', 7], // advised to attend
  ['1065391000000104', 5], // carer
  ['1082331000000106', 3], // out of hours service
  ['889801000000100', 1], // police
] as const);
const SOURCE_SDEC = new WeightedTable([
  ['276491000', 60], // primary health care team
  ['1066431000000102', 40], // hospital emergency department
] as const);

/** Investigations (ecds-investigation) by how often an attendance has one; none is 1088291000000101. */
const INVESTIGATIONS = new WeightedTable([
  ['26604007', 30], // full blood count
  ['363680008', 25], // X-ray
  ['29303009', 18], // ECG
  ['27171005', 10], // urinalysis
  ['105000003', 8], // troponin
  ['77477000', 6], // CT
  ['167252002', 2], // urine pregnancy test
  ['113091000', 1], // MRI
] as const);
const NO_INVESTIGATION = '1088291000000101';
const PREGNANCY_TEST = '167252002';
/** Treatments (ecds-treatment); none is 183964008. */
const TREATMENTS = new WeightedTable([
  ['18629005', 45], // drug administered
  ['225358003', 25], // wound care
  ['385763009', 15], // intravenous fluids
  ['56251003', 14], // nebuliser
  ['89666000', 1], // CPR
] as const);
const NO_TREATMENT = '183964008';

const PLACE_OF_INJURY = new WeightedTable([
  ['264362003', 50], // home
  ['257556004', 20], // road or street
  ['285202004', 12], // sports facility
  ['285141008', 10], // work site
  ['257698009', 8], // school
] as const);
const INJURY_MECHANISM = new WeightedTable([
  ['1912002', 40], // fall
  ['217082002', 25], // fall on the same level
  ['242004001', 20], // struck by object
  ['274215009', 15], // transport accident
] as const);
const INJURY_INTENT = new WeightedTable([
  ['418019003', 88], // accidental
  ['52684005', 7], // assault
  ['276853009', 5], // self-inflicted
] as const);
const INJURY_ACTIVITY = new WeightedTable([
  ['224459001', 70], // leisure
  ['224457004', 20], // work
  ['224460006', 10], // education
] as const);

/** Chief complaints and diagnoses (clinical-codes.json) that make an attendance an injury. */
const INJURY_CODES = new Set(['125605004', '283682007']);

const CONFIRMED = '410605003';
const SUSPECTED = '415684004';

function distinct(table: WeightedTable<string>, random: Random, count: number, first?: string): string[] {
  const chosen = first ? [first] : [];
  for (let tries = 0; chosen.length < count && tries < count * 8; tries++) {
    const code = table.draw(random);
    if (!chosen.includes(code)) chosen.push(code);
  }
  return chosen;
}

/** How many of a repeating group an attendance has: geometric beyond `base`, at most 12. */
function howMany(random: Random, base: number, more: number): number {
  let n = base;
  while (n < ECDS_POSITIONS && random.chance(more)) n++;
  return n;
}

/**
 * The ECDS 1.1 content of one attendance, by the catalogue's column names. `departmentType`
 * is answered apart so the caller can write it under every name the field goes by.
 */
export function ecdsClinicalContent(
  world: World,
  person: number,
  visit: EdVisit,
  decisionToAdmit: number | undefined,
): { values: Values; departmentType: string; arrivalMode: string } {
  const day = visit.arrivalDay;
  const random = new Random(world.seed, 'ecds-content', visit.trust, person, day, visit.arrival);
  const age = Math.floor((day - (world.population.birth[person] ?? 0)) / 365.25);
  const values: Values = {};

  // Admitted patients came through the emergency department (type 01); of the others, some
  // adults are seen in same day emergency care (05) and minor cases in an urgent treatment
  // centre (03).
  let departmentType = '01';
  if (!visit.admitted) {
    const u = random.next();
    if (age >= 18 && visit.acuity >= 3 && visit.acuity <= 4 && u < 0.1) departmentType = '05';
    else if (visit.acuity >= 4 && u < 0.4) departmentType = '03';
  }
  const arrivalMode = (visit.byAmbulance ? AMBULANCE_ARRIVAL : OTHER_ARRIVAL).draw(random);
  values.EC_Attendance_Source_SNOMED_CT = (
    departmentType === '05' ? SOURCE_SDEC : visit.byAmbulance ? SOURCE_BY_AMBULANCE : SOURCE_WALK_IN
  ).draw(random);

  // Diagnoses: the visit's own first, then more for older and sicker patients.
  const diagnoses = distinct(
    world.clinical.edDiagnoses,
    random,
    howMany(random, 1, age >= 65 || visit.admitted ? 0.45 : 0.25),
    visit.diagnosis,
  );
  diagnoses.forEach((code, i) => {
    const n = String(i + 1).padStart(2, '0');
    values[`EC_Diagnosis_${n}`] = code;
    values[`EC_Diagnosis_Qualifier_${n}`] = random.chance(0.85) ? CONFIRMED : SUSPECTED;
  });

  // Investigations and treatments rise with acuity (1 most urgent).
  const investigations = distinct(
    INVESTIGATIONS,
    random,
    visit.acuity <= 2
      ? howMany(random, 3, 0.5)
      : visit.acuity === 3
        ? howMany(random, 1, 0.5)
        : random.chance(0.45)
          ? howMany(random, 1, 0.2)
          : 0,
  );
  // A urine pregnancy test only for women of child-bearing age.
  const female = world.population.sex[person] !== MALE && age >= 12 && age <= 55;
  const done = investigations.filter((code) => female || code !== PREGNANCY_TEST);
  (done.length > 0 ? done : [NO_INVESTIGATION]).forEach((code, i) => {
    values[`EC_Investigation_${String(i + 1).padStart(2, '0')}`] = code;
  });
  const treatments = distinct(
    TREATMENTS,
    random,
    visit.acuity <= 3 ? howMany(random, 1, 0.35) : random.chance(0.5) ? howMany(random, 1, 0.15) : 0,
  );
  (treatments.length > 0 ? treatments : [NO_TREATMENT]).forEach((code, i) => {
    values[`EC_Treatment_${String(i + 1).padStart(2, '0')}`] = code;
  });

  if (INJURY_CODES.has(visit.complaint) || INJURY_CODES.has(visit.diagnosis)) {
    // Injured some minutes to hours before arrival.
    values.EC_Injury_Date_Time = formatDateTime(day, visit.arrival - random.int(15, 720));
    values.EC_Place_Of_Injury_SNOMED_CT = PLACE_OF_INJURY.draw(random);
    values.EC_Injury_Mechanism_SNOMED_CT = INJURY_MECHANISM.draw(random);
    values.EC_Injury_Intent_SNOMED_CT = INJURY_INTENT.draw(random);
    values.EC_Injury_Activity_Status_SNOMED_CT = INJURY_ACTIVITY.draw(random);
    if (age >= 16 && random.chance(0.08)) values.EC_Alcohol_Drug_Involvement_SNOMED_CT = '1082641000000106';
  }

  // Clinically ready to proceed: at the decision to admit for those admitted, otherwise some
  // time after being seen; 10% of records leave it out, as submissions do.
  if (random.chance(0.9)) {
    const ready =
      decisionToAdmit ?? visit.seen + Math.floor((visit.departure - visit.seen) * random.next() * 0.8);
    values.Clinically_Ready_To_Proceed_Timestamp = formatDateTime(day, ready);
  }
  values.Discharge_Follow_Up_SNOMED_CT = visit.admitted
    ? ''
    : random.chance(0.7)
      ? '989501000000106'
      : '3780001';
  return { values, departmentType, arrivalMode };
}
