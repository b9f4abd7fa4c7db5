/**
 * Turns the world's events into rows. Each builder answers the row's values under every
 * name the field goes by (SUS column, Data Dictionary element, MSDS item), so the router
 * can fill exactly the catalogue's inbound columns: `valueFor(values, column)` matches
 * names ignoring case, underscores and spaces.
 */
import type { ActivityEvent, ApcSpell, EdVisit } from './activity-model.ts';
import { hashKey } from './random.ts';
import { formatDateTime, formatDay, formatTime } from './synth-dates.ts';
import { CONDITIONS, ETHNICITY_SHARES, MATERNITY } from './synth-rates.ts';
import { CLINICAL_CODES, laOfAddress, type World } from './world.ts';
import { ecdsClinicalContent } from './ecds-content.ts';
import { opClinicalContent } from './op-content.ts';
import { MALE, NO_DAY, type Pregnancy } from './population.ts';

export type Values = Record<string, string>;

const normalised = new Map<string, string>();

/** A field name without case, underscores or spaces (memoised: the same few hundred names recur on every row). */
export function normaliseName(name: string): string {
  let key = normalised.get(name);
  if (key === undefined) {
    key = name.toLowerCase().replace(/[^a-z0-9]/g, '');
    normalised.set(name, key);
  }
  return key;
}

/** Every spelling a builder has given a field, normalised, to the one key its value is kept under. */
const ALIASES = new Map<string, string>();

/** The builder key a catalogue column takes its value from, if any builder has named it. */
export function builderKey(column: string): string | undefined {
  return ALIASES.get(normaliseName(column));
}

/** Sets a value under its first name, remembering the others as aliases (rows stay small). */
const registered = new Set<string>();

function put(values: Values, names: readonly string[], value: string): void {
  const key = names[0] as string;
  values[key] = value;
  // A key's spellings are registered the first time it is set; every call site agrees on them.
  if (registered.has(key)) return;
  registered.add(key);
  for (const name of names) {
    const alias = normaliseName(name);
    if (!ALIASES.has(alias)) ALIASES.set(alias, key);
  }
}

/**
 * A moment of an attendance the three ways ECDS extracts give it: its date, its time of day,
 * and both in one field. `minutes` count from midnight of `day` and may run past it.
 */
function putMoment(
  values: Values,
  names: { date: readonly string[]; time: readonly string[]; dateTime: readonly string[] },
  day: number,
  minutes: number,
): void {
  put(values, names.date, formatDay(day + Math.floor(minutes / 1440)));
  put(values, names.time, formatTime(minutes));
  put(values, names.dateTime, formatDateTime(day, minutes));
}

export function localPatientId(org: string, person: number): string {
  return `${org}${String(hashKey(org, person) % 10_000_000).padStart(7, '0')}`;
}

export interface AddressValues {
  postcode: string;
  line1: string;
  town: string;
  uprn: string;
  practice: string;
  lsoa: string;
}

export function addressValues(world: World, address: number): AddressValues {
  const population = world.population;
  const postcode = world.geography.postcodes[population.addressPostcode[address] ?? 0];
  return {
    postcode: postcode?.pcds ?? '',
    line1: `${population.addressNumber[address] ?? 1} ${postcode?.street ?? 'High Street'}`,
    town: postcode?.town ?? '',
    uprn: population.uprn(address),
    practice: world.practices.practices[population.addressPractice[address] ?? 0]?.code ?? '',
    lsoa: world.geography.lsoas[postcode?.lsoa ?? 0]?.code ?? '',
  };
}

const POSTCODE_NAMES = [
  'Postcode',
  'Postcode_Usual_Address',
  'PostcodeUsualAddress',
  'Patient_Postcode',
  'Postcode_Of_Usual_Address',
  'PostcodeMother',
  'PostcodeBaby',
  'Client_Postcode',
  'Person_Postcode',
];
const ADDRESS_NAMES = [
  'Address_Line_1',
  'AddressLine1',
  'Address1',
  'Patient_Address_Line_1',
  'Usual_Address_Line_1',
  'Address',
  'Street_Address',
];
const TOWN_NAMES = [
  'Address_Line_2',
  'AddressLine2',
  'Address2',
  'Town',
  'Patient_Address_Line_2',
  'Usual_Address_Line_2',
  'Post_Town',
];

/** The address columns, postcode first: what an old-address defect swaps back. */
export function addressBlock(a: AddressValues): Values {
  const values: Values = {};
  put(values, POSTCODE_NAMES, a.postcode);
  put(values, ADDRESS_NAMES, a.line1);
  put(values, TOWN_NAMES, a.town);
  put(values, ['UPRN', 'Unique_Property_Reference_Number', 'Property_UPRN'], a.uprn);
  return values;
}

export function ethnicCode(world: World, person: number): string {
  return ETHNICITY_SHARES[world.population.ethnicity[person] ?? 0]?.[0] ?? 'Z';
}

/** The patient block common to SUS, ECDS, PMI and GP extracts (reference digest §2.2, §7). */
export function patientBlock(
  world: World,
  person: number,
  day: number,
  org: string,
  options: { nhs?: boolean } = {},
): Values {
  const population = world.population;
  const address = population.addressAt(person, day);
  const a = addressValues(world, address);
  const values: Values = addressBlock(a);
  const nhs = options.nhs === false ? '' : population.nhsNumber(person);
  put(values, ['NHS_Number', 'NHSNumber', 'NHS_No', 'Patient_NHS_Number'], nhs);
  put(
    values,
    [
      'NHS_Number_Status_Indicator_Code',
      'NHS_Number_Status',
      'NHSNumberStatus',
      'NHS_Number_Status_Indicator',
    ],
    nhs ? '01' : '07',
  );
  put(
    values,
    [
      'Local_Patient_Identifier',
      'Local_Patient_ID',
      'LocalPatientID',
      'Local_Patient_Identifier_Extended',
      'MRN',
      'Hospital_Number',
      'LPID',
    ],
    localPatientId(org, person),
  );
  put(
    values,
    ['Given_Name', 'Forename', 'First_Name', 'GivenName', 'Person_Given_Name', 'Patient_Forename'],
    world.names.given[population.given[person] ?? 0] ?? '',
  );
  put(
    values,
    ['Family_Name', 'Surname', 'Last_Name', 'FamilyName', 'Person_Family_Name', 'Patient_Surname'],
    world.names.family[population.family[person] ?? 0] ?? '',
  );
  put(
    values,
    ['Date_Of_Birth', 'Person_Birth_Date', 'DOB', 'Birth_Date', 'PersonBirthDate', 'Date_of_Birth'],
    formatDay(population.birth[person] ?? 0),
  );
  const sex = population.sex[person] === MALE ? '1' : '2';
  put(
    values,
    [
      'Sex',
      'Gender',
      'Person_Stated_Gender_Code',
      'Stated_Gender',
      'Gender_Code',
      'Person_Gender_Code',
      'PersonPhenSex',
      'Sex_Code',
    ],
    sex,
  );
  put(
    values,
    ['Ethnic_Category', 'Ethnicity', 'EthnicCategory', 'Ethnic_Category_Code', 'Ethnic_Group', 'ETHNIC'],
    ethnicCode(world, person),
  );
  put(
    values,
    [
      'GP_Practice_Code',
      'General_Medical_Practice_Code',
      'Registered_GP_Practice',
      'Practice_Code',
      'GMP_Code',
      'GP_Practice',
      'Practice',
      'OrgIDGPPrac',
      'General_Medical_Practice_Code_Patient_Registration',
    ],
    a.practice,
  );
  put(
    values,
    [
      'Provider_Code',
      'Organisation_Code_Provider',
      'Org_Code_Provider',
      'OrgCodeProvider',
      'Organisation_Identifier_Code_Of_Provider',
      'Provider',
    ],
    org,
  );
  put(values, ['Site_Code', 'Site_Code_Of_Treatment', 'Treatment_Site_Code', 'OrgSiteID'], `${org}01`);
  put(values, ['Commissioner_Code', 'Organisation_Code_Commissioner', 'Commissioner'], 'QKS');
  const death = population.death[person] ?? NO_DAY;
  put(
    values,
    ['Date_Of_Death', 'Person_Death_Date', 'Death_Date', 'DOD'],
    death <= day ? formatDay(death) : '',
  );
  const age = Math.floor((day - (population.birth[person] ?? 0)) / 365.25);
  put(values, ['Person_Title', 'Title'], age < 18 ? '' : sex === '1' ? 'Mr' : age < 30 ? 'Miss' : 'Mrs');
  put(values, ['Address_Line_3', 'County'], 'Kent');
  // Ofcom's drama range (01632 960000–960999) is never allocated to a real line.
  put(
    values,
    ['Telephone_Number', 'Phone'],
    `01632 960${String(hashKey('phone', population.household[person] ?? 0) % 1000).padStart(3, '0')}`,
  );
  put(
    values,
    ['GP_Registration_Date', 'Registration_Date', 'Reg_Date'],
    formatDay(Math.max(population.birth[person] ?? 0, population.addressFrom[address] ?? 0)),
  );
  return values;
}

/** The address columns a row would carry at the person's previous address, for the old-address defect. */
export function previousAddressBlock(world: World, person: number, day: number): Values | undefined {
  const previous = world.population.previousAddress(person, day);
  return previous < 0 ? undefined : addressBlock(addressValues(world, previous));
}

export function spellNumber(org: string, person: number, admit: number): string {
  return `${org}S${String(hashKey('spell', org, person, admit) % 100_000_000).padStart(8, '0')}`;
}

/**
 * The treatment function and its consultant (one a trust and function), as APC and outpatient
 * rows both give them: one place, since `put` registers a key's spellings only the first time.
 */
function putTreatmentFunction(values: Values, trust: string, treatmentFunction: string): void {
  put(
    values,
    [
      'Treatment_Function_Code',
      'Activity_Treatment_Function_Code',
      'Treatment_Function',
      'Main_Specialty_Code',
      'Care_Professional_Main_Specialty_Code',
    ],
    treatmentFunction,
  );
  put(
    values,
    ['Consultant_Code', 'Consultant'],
    `C${String(1000000 + (hashKey('consultant', trust, treatmentFunction) % 9000000))}`,
  );
}

/** One row per consultant episode (CDS type 130), discharge fields on the last (reference digest §2.1). */
export function apcRows(world: World, person: number, spell: ApcSpell): Values[] {
  const rows: Values[] = [];
  const spellId = spellNumber(spell.trust, person, spell.admit);
  const diagnoses = apcSecondaryDiagnoses(world, person, spell);
  spell.episodes.forEach((episode, i) => {
    const last = i === spell.episodes.length - 1;
    const values = patientBlock(world, person, spell.admit, spell.trust);
    const age = Math.floor((spell.admit - (world.population.birth[person] ?? 0)) / 365.25);
    put(
      values,
      [
        'Hospital_Provider_Spell_Number',
        'Spell_Number',
        'Hospital_Spell_Number',
        'Spell_ID',
        'Provider_Spell_Number',
      ],
      spellId,
    );
    put(values, ['Episode_Number', 'EpisodeNumber', 'Episode_No'], String(i + 1).padStart(2, '0'));
    put(
      values,
      ['Last_Episode_In_Spell_Indicator', 'Last_Episode_In_Spell', 'Last_Episode_Indicator'],
      last ? '1' : '2',
    );
    put(values, ['Administrative_Category', 'Administrative_Category_Code', 'Admin_Category'], '01');
    put(
      values,
      [
        'Admission_Method',
        'Admission_Method_Code',
        'Admission_Method_Hospital_Provider_Spell',
        'Method_Of_Admission',
      ],
      spell.method,
    );
    put(
      values,
      [
        'Admission_Source',
        'Source_Of_Admission',
        'Admission_Source_Code',
        'Admission_Source_Hospital_Provider_Spell',
      ],
      spell.source,
    );
    put(
      values,
      ['Patient_Classification', 'Patient_Classification_Code', 'Patient_Class'],
      spell.classification,
    );
    put(values, ['Intended_Management', 'Intended_Management_Code'], spell.intended);
    put(
      values,
      ['Decided_To_Admit_Date', 'Decision_To_Admit_Date'],
      spell.decidedToAdmit >= 0 ? formatDay(spell.decidedToAdmit) : '',
    );
    put(
      values,
      [
        'Admission_Date',
        'Start_Date_Hospital_Provider_Spell',
        'Spell_Start_Date',
        'Admission_Date_Hospital_Provider_Spell',
      ],
      formatDay(spell.admit),
    );
    put(
      values,
      ['Admission_Time', 'Start_Time_Hospital_Provider_Spell', 'Spell_Start_Time'],
      formatTime(spell.admitTime),
    );
    put(values, ['Age_On_Admission', 'Age_At_Start_Of_Spell'], String(age));
    put(
      values,
      ['Episode_Start_Date', 'Start_Date_Episode', 'Start_Date_Consultant_Episode'],
      formatDay(episode.start),
    );
    put(
      values,
      ['Episode_End_Date', 'End_Date_Episode', 'End_Date_Consultant_Episode'],
      formatDay(episode.end),
    );
    putTreatmentFunction(values, spell.trust, episode.treatmentFunction);
    put(
      values,
      [
        'Primary_Diagnosis',
        'Primary_Diagnosis_ICD',
        'Diagnosis_Primary',
        'Primary_Diagnosis_Code',
        'Diagnosis_1',
        'ICD10_Primary_Diagnosis',
      ],
      spell.primaryDiagnosis,
    );
    for (let d = 0; d < APC_SECONDARY_DIAGNOSES; d++) {
      const code = diagnoses[d] ?? '';
      put(
        values,
        [
          `Secondary_Diagnosis_${d + 1}`,
          `Secondary_Diagnosis_ICD_${d + 1}`,
          `Diagnosis_${d + 2}`,
          `Secondary_Diagnosis_Code_${d + 1}`,
        ],
        code,
      );
    }
    const procedureHere =
      spell.procedure &&
      spell.procedureDay >= episode.start &&
      (spell.procedureDay <= episode.end || last) &&
      (i === 0 || spell.procedureDay > (spell.episodes[i - 1]?.end ?? 0));
    put(
      values,
      [
        'Primary_Procedure',
        'Primary_Procedure_OPCS',
        'Procedure_1',
        'Primary_Procedure_Code',
        'OPCS_Primary_Procedure',
      ],
      procedureHere ? spell.procedure : '',
    );
    put(
      values,
      ['Primary_Procedure_Date', 'Procedure_Date', 'Procedure_Date_1', 'Primary_Procedure_Date_OPCS'],
      procedureHere ? formatDay(Math.min(Math.max(spell.procedureDay, episode.start), episode.end)) : '',
    );
    put(
      values,
      ['Discharge_Date', 'Discharge_Date_Hospital_Provider_Spell', 'Spell_End_Date'],
      last ? formatDay(spell.discharge) : '',
    );
    put(
      values,
      [
        'Discharge_Method',
        'Discharge_Method_Code',
        'Discharge_Method_Hospital_Provider_Spell',
        'Method_Of_Discharge',
      ],
      last ? spell.dischargeMethod : '8',
    );
    put(
      values,
      [
        'Discharge_Destination',
        'Discharge_Destination_Code',
        'Discharge_Destination_Hospital_Provider_Spell',
        'Destination_Of_Discharge',
      ],
      last ? spell.dischargeDestination : '98',
    );
    put(
      values,
      ['Length_Of_Stay', 'Spell_Length_Of_Stay'],
      last ? String(spell.discharge - spell.admit) : '',
    );
    const extra = procedureHere ? secondaryProcedures(spell.procedure) : [];
    for (let k = 0; k < APC_SECONDARY_PROCEDURES; k++) {
      const code = extra[k] ?? '';
      put(values, [`Secondary_Procedure_${k + 1}`, `Secondary_Procedure_OPCS_${k + 1}`], code);
      put(
        values,
        [`Secondary_Procedure_Date_${k + 1}`],
        code ? (values['Primary_Procedure_Date'] ?? '') : '',
      );
    }
    // Main_Specialty_Code is one of the treatment function's spellings above: the synthetic
    // consultant's specialty is the service's.
    const hrg = apcHrg(spell, diagnoses.length);
    put(values, ['Episode_HRG'], hrg.code);
    put(values, ['Spell_Core_HRG'], last ? hrg.code : '');
    put(values, ['Tariff_Year'], last ? tariffYear(spell.discharge) : '');
    put(values, ['Tariff_Total_Payment'], last ? apcPayment(hrg, spell).toFixed(2) : '');
    put(
      values,
      ['Discharge_Ready_Date'],
      last && spell.classification === '1' ? formatDay(dischargeReady(person, spell, age)) : '',
    );
    rows.push(values);
  });
  return rows;
}

/** SUS carries a primary and 19 secondary diagnoses, a primary and 23 secondary procedures. */
export const APC_SECONDARY_DIAGNOSES = 19;
export const APC_SECONDARY_PROCEDURES = 23;

/**
 * The secondary diagnoses a spell's episodes carry: those the activity model drew, then the
 * ICD-10 code of each long-term condition the person has on the admission day (a coder
 * records comorbidities), without repeats and never the primary diagnosis.
 */
export function apcSecondaryDiagnoses(world: World, person: number, spell: ApcSpell): string[] {
  const codes = [...spell.secondaryDiagnoses];
  CONDITIONS.forEach((condition, i) => {
    const code = CLINICAL_CODES.conditionDiagnoses[condition];
    if (!code || !world.population.hasCondition(person, i, spell.admit)) return;
    if (code !== spell.primaryDiagnosis && !codes.includes(code)) codes.push(code);
  });
  return codes.slice(0, APC_SECONDARY_DIAGNOSES);
}

function secondaryProcedures(procedure: string): string[] {
  return CLINICAL_CODES.secondaryProcedures[procedure] ?? [];
}

interface Hrg {
  code: string;
  price: number;
  trimDays: number;
}

/** The HRG a synthetic spell groups to: by its procedure, else its primary diagnosis' chapter. */
function apcHrg(spell: ApcSpell, secondaryCount: number): Hrg {
  const table = CLINICAL_CODES.hrg;
  const root =
    (spell.procedure ? table.byProcedure[spell.procedure] : undefined) ??
    table.byChapter[spell.primaryDiagnosis.charAt(0)] ??
    table.fallback;
  // Complication and comorbidity (CC) split: more secondary diagnoses, a heavier split.
  const split = secondaryCount >= 4 ? 'A' : secondaryCount >= 2 ? 'B' : 'C';
  const code = root.code.length === 5 ? root.code : `${root.code}${split}`;
  const weight = split === 'A' ? 1.6 : split === 'B' ? 1.25 : 1;
  return { code, price: root.price * (root.code.length === 5 ? 1 : weight), trimDays: root.trimDays };
}

/** The financial year a day falls in, as the national tariff names it: 2024/25. */
export function tariffYear(day: number): string {
  const date = formatDay(day);
  const year = Number(date.slice(0, 4));
  const start = date.slice(5) >= '04-01' ? year : year - 1;
  return `${start}/${String((start + 1) % 100).padStart(2, '0')}`;
}

function apcPayment(hrg: Hrg, spell: ApcSpell): number {
  const excess = Math.max(0, spell.discharge - spell.admit - hrg.trimDays);
  return hrg.price + excess * CLINICAL_CODES.hrg.excessBedDay;
}

/** Older people in an ordinary admission may wait a few days after they are ready to go. */
function dischargeReady(person: number, spell: ApcSpell, age: number): number {
  const los = spell.discharge - spell.admit;
  if (age < 75 || los < 3 || spell.dischargeMethod === '4') return spell.discharge;
  const delay = hashKey('discharge-ready', person, spell.admit) % 6;
  return Math.max(spell.admit, spell.discharge - Math.min(delay, los - 1));
}

const ACUITY_CODES = [
  '1064891000000107',
  '1064911000000105',
  '1064901000000108',
  '1077241000000103',
  '1077251000000100',
];

/** The spellings of each ECDS moment's three columns (see putMoment). */
const ECDS_MOMENTS = {
  arrival: {
    date: ['Arrival_Date', 'EC_Arrival_Date', 'Emergency_Care_Arrival_Date'],
    time: ['Arrival_Time', 'EC_Arrival_Time', 'Emergency_Care_Arrival_Time'],
    dateTime: ['Arrival_Date_Time', 'EC_Arrival_Date_Time', 'Der_EC_Arrival_Date_Time'],
  },
  assessment: {
    date: ['EC_Initial_Assessment_Date', 'Initial_Assessment_Date'],
    time: ['EC_Initial_Assessment_Time', 'Initial_Assessment_Time', 'Emergency_Care_Initial_Assessment_Time'],
    dateTime: ['EC_Initial_Assessment_Date_Time', 'Initial_Assessment_Date_Time'],
  },
  departure: {
    date: ['EC_Departure_Date', 'Departure_Date', 'Emergency_Care_Departure_Date'],
    time: ['EC_Departure_Time', 'Departure_Time', 'Emergency_Care_Departure_Time'],
    dateTime: ['EC_Departure_Date_Time', 'Departure_Date_Time', 'Der_EC_Departure_Date_Time'],
  },
} as const;

/** One ECDS attendance (CDS type 011, reference digest §2.6). */
export function ecdsRow(world: World, person: number, visit: EdVisit): Values {
  const values = patientBlock(world, person, visit.arrivalDay, visit.trust);
  const day = visit.arrivalDay;
  const ident = `${visit.trust}E${String(hashKey('ecds', visit.trust, person, day, visit.arrival) % 100_000_000).padStart(8, '0')}`;
  const age = Math.floor((day - (world.population.birth[person] ?? 0)) / 365.25);
  put(
    values,
    ['EC_Ident', 'Emergency_Care_Attendance_Identifier', 'Attendance_Identifier', 'EC_Attendance_Identifier'],
    ident,
  );
  const decisionToAdmit = visit.admitted
    ? Math.min(visit.departure, Math.max(visit.seen, visit.departure - 60))
    : undefined;
  const content = ecdsClinicalContent(world, person, visit, decisionToAdmit);
  put(
    values,
    ['EC_Department_Type', 'Emergency_Care_Department_Type', 'Department_Type'],
    content.departmentType,
  );
  put(values, ['EC_Attendance_Category', 'Emergency_Care_Attendance_Category', 'Attendance_Category'], '1');
  putMoment(values, ECDS_MOMENTS.arrival, day, visit.arrival);
  put(values, ['Age_At_Arrival'], String(age));
  put(
    values,
    ['EC_Arrival_Mode_SNOMED_CT', 'Arrival_Mode', 'Emergency_Care_Arrival_Mode', 'EC_Arrival_Mode'],
    content.arrivalMode,
  );
  putMoment(values, ECDS_MOMENTS.assessment, day, visit.assessment);
  put(
    values,
    ['EC_Acuity_SNOMED_CT', 'Acuity', 'Emergency_Care_Acuity', 'EC_Acuity'],
    ACUITY_CODES[visit.acuity - 1] ?? '',
  );
  put(
    values,
    [
      'EC_Chief_Complaint_SNOMED_CT',
      'Chief_Complaint',
      'Emergency_Care_Chief_Complaint',
      'EC_Chief_Complaint',
    ],
    visit.complaint,
  );
  put(
    values,
    ['EC_Seen_For_Treatment_Date_Time', 'Seen_For_Treatment_Date_Time', 'Date_Time_Seen_For_Treatment'],
    formatDateTime(day, visit.seen),
  );
  put(values, ['EC_Seen_For_Treatment_Time', 'Seen_For_Treatment_Time'], formatTime(visit.seen));
  put(
    values,
    [
      'EC_Diagnosis_01',
      'EC_Diagnosis_SNOMED_CT',
      'Diagnosis',
      'Emergency_Care_Diagnosis',
      'EC_Primary_Diagnosis',
      'Primary_Diagnosis_SNOMED_CT',
    ],
    visit.diagnosis,
  );
  put(
    values,
    ['Decision_To_Admit_Date_Time', 'EC_Decision_To_Admit_Date_Time'],
    decisionToAdmit === undefined ? '' : formatDateTime(day, decisionToAdmit),
  );
  putMoment(values, ECDS_MOMENTS.departure, day, visit.departure);
  put(
    values,
    [
      'EC_Discharge_Status_SNOMED_CT',
      'Discharge_Status',
      'Emergency_Care_Discharge_Status',
      'EC_Discharge_Status',
    ],
    visit.admitted ? '1324201000000109' : '182992009',
  );
  put(
    values,
    [
      'Discharge_Destination_SNOMED_CT',
      'EC_Discharge_Destination_SNOMED_CT',
      'Discharge_Destination',
      'Emergency_Care_Discharge_Destination',
      'EC_Discharge_Destination',
    ],
    visit.admitted ? '306706006' : '306689006',
  );
  put(
    values,
    ['EC_Discharge_Follow_Up_SNOMED_CT', 'Discharge_Follow_Up'],
    visit.admitted ? '' : '989501000000106',
  );
  // ECDS 1.1.0's clinical content, by the catalogue's own column names.
  Object.assign(values, content.values);
  return values;
}

/** One outpatient appointment (CDS type 020, reference digest §2.5). */
export function opRow(world: World, person: number, event: Extract<ActivityEvent, { kind: 'op' }>): Values {
  const values = patientBlock(world, person, event.day, event.trust);
  put(
    values,
    ['Attendance_Identifier', 'Attendance_ID', 'Appointment_Identifier', 'OP_Attendance_Identifier'],
    `${event.trust}O${String(hashKey('op', event.trust, person, event.day, event.time) % 100_000_000).padStart(8, '0')}`,
  );
  put(values, ['Appointment_Date', 'Attendance_Date', 'Appointment_Date_OP'], formatDay(event.day));
  put(values, ['Appointment_Time', 'Attendance_Time'], formatTime(event.time));
  put(values, ['Expected_Duration_Of_Appointment', 'Appointment_Duration'], event.first ? '20' : '15');
  put(values, ['Administrative_Category', 'Administrative_Category_Code'], '01');
  put(
    values,
    [
      'Attended_Or_Did_Not_Attend',
      'Attended_Or_DNA',
      'Attendance_Status',
      'Attended_Or_Did_Not_Attend_Code',
      'AttendOrDNACode',
    ],
    event.status,
  );
  put(
    values,
    ['First_Attendance', 'First_Attendance_Code', 'First_Or_Follow_Up'],
    event.first ? (event.remote ? '3' : '1') : event.remote ? '4' : '2',
  );
  put(
    values,
    ['Consultation_Medium_Used', 'Consultation_Medium', 'Consultation_Mechanism'],
    event.remote ? '02' : '01',
  );
  put(values, ['Outcome_Of_Attendance', 'Outcome_Of_Attendance_Code', 'Attendance_Outcome'], event.outcome);
  put(values, ['Priority_Type', 'Priority_Type_Code', 'Referral_Priority'], event.priority);
  put(
    values,
    [
      'Source_Of_Referral',
      'Source_Of_Referral_For_Outpatients',
      'Referral_Source',
      'Source_Of_Referral_Code',
    ],
    event.referralSource,
  );
  put(
    values,
    ['Referral_Request_Received_Date', 'Referral_Received_Date', 'Referral_Date'],
    formatDay(event.referralDay),
  );
  putTreatmentFunction(values, event.trust, event.treatmentFunction);
  // OP 1.1.0's coding, HRG and price, by the catalogue's own column names (op-content.ts).
  const content = opClinicalContent(
    world,
    person,
    event,
    values['GP_Practice_Code'] ?? '',
    tariffYear(event.day),
  );
  put(values, ['Operation_Status', 'Operation_Status_Code'], content['Primary_Procedure_OPCS'] ? '1' : '8');
  Object.assign(values, content);
  return values;
}

/** One GP coded event (GDPPR-like long format, reference digest §6). */
export function gpEventRow(
  world: World,
  person: number,
  event: Extract<ActivityEvent, { kind: 'gp' }>,
): Values {
  const practice = world.practices.practices[event.practice]?.code ?? '';
  const values = patientBlock(world, person, event.day, practice);
  const condition = CONDITIONS[event.condition] ?? 'diabetes';
  const codes = CLINICAL_CODES.gpConditions[condition];
  const code = event.code ?? (event.type === 'diagnosis' ? (codes?.diagnosis ?? '') : (codes?.review ?? ''));
  put(
    values,
    ['Practice_Code', 'Practice', 'GP_Practice_Code', 'Organisation_Code', 'Registered_Practice'],
    practice,
  );
  put(
    values,
    ['Event_Date', 'Date', 'Clinical_Event_Date', 'Effective_Date', 'Consultation_Date'],
    formatDay(event.day),
  );
  put(
    values,
    ['Record_Date', 'Recorded_Date', 'Entry_Date'],
    formatDay(event.day + (hashKey('record-date', person, event.day) % 3)),
  );
  put(
    values,
    [
      'SNOMED_Code',
      'Code',
      'SNOMED_CT_Code',
      'Concept_ID',
      'SNOMED_Concept_ID',
      'Event_Code',
      'Clinical_Code',
    ],
    code,
  );
  put(
    values,
    ['Value', 'Value1', 'Numeric_Value', 'Value_1', 'Result_Value', 'Value1_Condition'],
    event.value,
  );
  put(values, ['Unit', 'Units', 'Value_Unit', 'Unit_Of_Measure'], event.value ? (codes?.unit ?? '') : '');
  put(values, ['Event_Type', 'Type'], event.type);
  return values;
}

/**
 * The services the world draws, as the CLD return names them: service type, service
 * component and an illustrative weekly cost (GBP; PSSRU unit costs, rounded).
 */
const ASC_SERVICES: Record<string, { type: string; component: string; weekly: number }> = {
  residential: { type: 'Long term support: Residential care', component: 'Residential care', weekly: 720 },
  nursing: { type: 'Long term support: Nursing care', component: 'Nursing care', weekly: 880 },
  'home-care': { type: 'Long term support: Community', component: 'Home care', weekly: 310 },
  'direct-payment': { type: 'Long term support: Community', component: 'Direct payment', weekly: 290 },
  'supported-living': { type: 'Long term support: Community', component: 'Supported living', weekly: 1150 },
  'day-care': { type: 'Long term support: Community', component: 'Day care', weekly: 180 },
  reablement: { type: 'Short term support: ST-Max', component: 'Reablement', weekly: 240 },
  'short-term-other': {
    type: 'Short term support: Other short term',
    component: 'Short term residential care',
    weekly: 150,
  },
  'carer-support': {
    type: 'Unpaid carer support: Direct to unpaid carer',
    component: 'Carer direct support',
    weekly: 60,
  },
};
const ASC_SERVICES_OLDER = [
  'home-care',
  'home-care',
  'residential',
  'nursing',
  'day-care',
  'reablement',
  'reablement',
  'direct-payment',
];
const ASC_SERVICES_WORKING_AGE = [
  'supported-living',
  'direct-payment',
  'day-care',
  'home-care',
  'carer-support',
  'short-term-other',
];
/** The CLD event each of the world's social care activities is. */
const ASC_EVENT_TYPE: Record<string, string> = {
  service: 'Service',
  review: 'Review',
  assessment: 'Assessment',
};
const ASC_OUTCOMES: Record<string, readonly string[]> = {
  Assessment: [
    'Progress to support planning or services',
    'Progress to support planning or services',
    'Progress to reablement/ST-Max',
    'NFA: Information and advice or signposting',
    'NFA: Self-funded client or under 12wk disregard',
  ],
  Review: [
    'Continuation of support or services',
    'Continuation of support or services',
    'Continuation of support or services',
    'Progress to assessment, review or reassessment',
    'NFA: Support ended as planned',
  ],
};

/**
 * One council adult social care event as the CLD return has it (name, date of birth,
 * address; a third without NHS number): a service with its type, component and weekly
 * cost, or an assessment or review with its outcome.
 */
export function ascRow(
  world: World,
  person: number,
  event: Extract<ActivityEvent, { kind: 'asc' }>,
  hasNhsNumber: boolean,
): Values {
  const values = patientBlock(world, person, event.day, event.council, { nhs: hasNhsNumber });
  const age = Math.floor((event.day - (world.population.birth[person] ?? 0)) / 365.25);
  const h = hashKey('asc-support', person, event.day);
  const eventType = ASC_EVENT_TYPE[event.activity] ?? 'Service';
  const drawn =
    (age >= 65 ? ASC_SERVICES_OLDER : ASC_SERVICES_WORKING_AGE)[
      h % (age >= 65 ? ASC_SERVICES_OLDER.length : ASC_SERVICES_WORKING_AGE.length)
    ] ?? 'short-term-other';
  const service = ASC_SERVICES[drawn] ?? ASC_SERVICES['short-term-other']!;
  const carer = drawn === 'carer-support';
  const reason = carer
    ? 'Social support: Support to unpaid carer'
    : age >= 65
      ? world.population.hasCondition(person, 5, event.day)
        ? 'Support with memory and cognition'
        : [
            'Physical support: Personal care support',
            'Physical support: Access and mobility only',
            'Sensory support: Support for visual impairment',
            'Social support: Support for social isolation or other',
          ][(h >>> 8) % 4]
      : [
          'Learning disability support',
          'Mental health support',
          'Physical support: Personal care support',
          'Social support: Substance misuse support',
        ][(h >>> 8) % 4];
  put(
    values,
    ['Person_ID_Local', 'Person_ID', 'Client_ID'],
    `${event.council === 'E06000035' ? 'MC' : 'KCC'}${String(hashKey('asc', event.council, person) % 10_000_000).padStart(7, '0')}`,
  );
  put(values, ['Primary_Support_Reason'], reason ?? 'Physical support: Personal care support');
  put(values, ['Client_Type'], carer ? 'Unpaid carer' : 'Service user');
  put(values, ['Event_Type'], eventType);
  put(values, ['Support_Start_Date', 'Event_Start_Date'], formatDay(event.day));
  put(values, ['Council_Code', 'Local_Authority', 'LA_Code'], event.council);
  if (eventType !== 'Service') {
    // An assessment or review is done within a few weeks and has an outcome, no service.
    const outcomes = ASC_OUTCOMES[eventType] ?? [];
    put(values, ['Event_Outcome'], outcomes[(h >>> 12) % outcomes.length] ?? 'NFA: Other');
    put(values, ['Service_Type'], '');
    put(values, ['Service_Component'], '');
    put(values, ['Support_End_Date', 'Event_End_Date'], formatDay(event.day + ((h >>> 4) % 28)));
    put(values, ['Cost_Per_Week'], '');
    return values;
  }
  const short = service.type.startsWith('Short term');
  const death = world.population.death[person] ?? NO_DAY;
  const end = short ? event.day + 42 : death < NO_DAY ? death : NO_DAY;
  const ended = end < NO_DAY && end >= event.day;
  put(values, ['Service_Type'], service.type);
  put(values, ['Service_Component'], service.component);
  put(values, ['Support_End_Date', 'Event_End_Date'], ended ? formatDay(end) : '');
  put(values, ['Event_Outcome'], !ended ? '' : short ? 'NFA: Support ended as planned' : 'NFA: Deceased');
  put(
    values,
    ['Cost_Per_Week'],
    (Math.round(service.weekly * (0.8 + ((h >>> 16) % 400) / 1000) * 100) / 100).toFixed(2),
  );
  return values;
}

export interface PregnancyDetails {
  smokingBooking: boolean;
  smokingDelivery: boolean;
  onset: string;
  method: string;
  bloodLoss: number;
  tear: string;
  previousCaesareans: number;
  previousLiveBirths: number;
  episiotomy: boolean;
  /** grouped: N none, E epidural, S spinal, G general, 9 not known */
  anaesthesia: string;
  arom: boolean;
  oxytocin: boolean;
}

/** MSDS booking (MSD101), delivery (MSD301/302) and baby (MSD401/405) rows, reference digest §3. */
export function msdsBookingRow(
  world: World,
  pregnancy: Pregnancy,
  details: PregnancyDetails,
  org: string,
  bookingDay: number,
): Values {
  const mother = pregnancy.mother;
  const values = motherBlock(world, mother, bookingDay, org);
  put(values, ['UniqPregID', 'Pregnancy_ID', 'Pregnancy_Identifier'], pregnancyId(org, pregnancy));
  put(
    values,
    ['AntenatalAppDate', 'Booking_Date', 'Antenatal_Booking_Date', 'Booking_Appointment_Date'],
    formatDay(bookingDay),
  );
  put(
    values,
    ['GestAgeBooking', 'Gestation_At_Booking', 'Gestational_Age_At_Booking', 'Gestation_Days_At_Booking'],
    String(pregnancy.bookingGestation),
  );
  put(
    values,
    ['LastMenstrualPeriodDate', 'LMP_Date'],
    formatDay(pregnancy.delivery - pregnancy.gestation - 14 + 14),
  );
  put(
    values,
    ['EDDAgreed', 'Estimated_Delivery_Date', 'EDD'],
    formatDay(bookingDay - pregnancy.bookingGestation + 280),
  );
  put(
    values,
    [
      'SmokingStatusBooking',
      'Smoking_Status_At_Booking',
      'Smoking_At_Booking',
      'SmokingStatusBooking_derived',
    ],
    details.smokingBooking ? 'Smoker' : 'Non-Smoker / Ex-Smoker',
  );
  put(
    values,
    ['PreviousCaesareanSections', 'Previous_Caesarean_Sections'],
    String(details.previousCaesareans),
  );
  put(values, ['PreviousLiveBirths', 'Previous_Live_Births'], String(details.previousLiveBirths));
  put(values, ['PreviousStillBirths', 'Previous_Still_Births'], '0');
  put(values, ['OrgSiteIDBooking'], `${org}01`);
  put(
    values,
    ['AgeAtBookingMother', 'Age_At_Booking'],
    String(Math.floor((bookingDay - (world.population.birth[mother] ?? 0)) / 365.25)),
  );
  return values;
}

export function motherBlock(world: World, mother: number, day: number, org: string): Values {
  const values = patientBlock(world, mother, day, org);
  const copy: Values = { ...values };
  for (const [key, value] of Object.entries(values)) copy[`${key}Mother`] = value;
  put(copy, ['NHSNumberMother', 'NHS_Number_Mother', 'Mother_NHS_Number'], values.NHS_Number ?? '');
  put(
    copy,
    ['PersonBirthDateMother', 'Mother_Date_Of_Birth', 'Date_Of_Birth_Mother'],
    values.Date_Of_Birth ?? '',
  );
  put(copy, ['EthnicCategoryMother'], values.Ethnic_Category ?? '');
  put(copy, ['Postcode', 'PostcodeMother', 'Mother_Postcode'], values.Postcode ?? '');
  put(copy, ['LocalPatientIDMother', 'LPIDMother'], values.Local_Patient_Identifier ?? '');
  return copy;
}

export function labourId(org: string, pregnancy: Pregnancy): string {
  return `${org}L${String(hashKey('labour', org, pregnancy.mother, pregnancy.delivery) % 100_000_000).padStart(8, '0')}`;
}

export function pregnancyId(org: string, pregnancy: Pregnancy): string {
  return `${org}P${String(hashKey('pregnancy', org, pregnancy.mother, pregnancy.delivery) % 100_000_000).padStart(8, '0')}`;
}

export function msdsDeliveryRow(
  world: World,
  pregnancy: Pregnancy,
  details: PregnancyDetails,
  org: string,
): Values {
  const values = motherBlock(world, pregnancy.mother, pregnancy.delivery, org);
  put(values, ['UniqPregID', 'Pregnancy_ID', 'Pregnancy_Identifier'], pregnancyId(org, pregnancy));
  put(values, ['LabourDeliveryID', 'Labour_Delivery_ID', 'Delivery_ID'], labourId(org, pregnancy));
  put(
    values,
    ['BirthsPerLabandDel', 'Births_Per_Labour_And_Delivery', 'Number_Of_Babies'],
    String(pregnancy.babies),
  );
  put(values, ['LabourOnsetMethod', 'Labour_Onset_Method', 'Onset_Of_Labour'], details.onset);
  put(
    values,
    ['LabourOnsetDate', 'Labour_Onset_Date'],
    details.onset === '5' ? '' : formatDay(pregnancy.delivery - (hashKey('onset', pregnancy.mother) % 2)),
  );
  put(
    values,
    ['CaesareanDate', 'Caesarean_Date'],
    details.method === '7' || details.method === '8' ? formatDay(pregnancy.delivery) : '',
  );
  put(
    values,
    [
      'DeliveryDate',
      'Delivery_Date',
      'StartDateMotherDeliveryHospProvSpell',
      'Date_Of_Delivery',
      'Birth_Date',
    ],
    formatDay(pregnancy.delivery),
  );
  put(values, ['DeliveryMethodCode', 'Delivery_Method', 'Delivery_Method_Code'], details.method);
  put(
    values,
    [
      'SmokingStatusDelivery',
      'Smoking_Status_At_Delivery',
      'Smoking_At_Delivery',
      'SmokingStatusDelivery_derived',
    ],
    details.smokingDelivery ? 'Smoker' : 'Non-Smoker / Ex-Smoker',
  );
  put(
    values,
    ['BloodLossMl', 'BloodLoss', 'Blood_Loss_Ml', 'Blood_Loss', 'ObsValue', 'Estimated_Blood_Loss'],
    String(details.bloodLoss),
  );
  put(
    values,
    ['GenitalTractTraumaticLesion', 'Perineal_Tear', 'Perineal_Trauma', 'Genital_Tract_Traumatic_Lesion'],
    details.tear,
  );
  put(
    values,
    ['GestationLengthBirth', 'Gestation_At_Birth', 'Gestation_Length_At_Birth', 'Gestation_Days'],
    String(pregnancy.gestation),
  );
  put(values, ['PreviousCaesareanSections'], String(details.previousCaesareans));
  put(values, ['PreviousLiveBirths'], String(details.previousLiveBirths));
  put(values, ['PreviousStillBirths'], '0');
  put(values, ['Episiotomy'], details.episiotomy ? 'Y' : 'N');
  put(values, ['LabourAnaesthesiaType', 'Anaesthesia_In_Labour'], details.anaesthesia);
  put(values, ['AROM', 'Artificial_Rupture_Of_Membranes'], details.arom ? 'Y' : 'N');
  put(values, ['OxytocinAdministeredInd', 'Oxytocin_Given'], details.oxytocin ? 'Y' : 'N');
  return values;
}

export function msdsBabyRow(
  world: World,
  pregnancy: Pregnancy,
  details: PregnancyDetails,
  org: string,
  baby: number,
  order: number,
  seedKey: number,
): Values {
  const population = world.population;
  const values = motherBlock(world, pregnancy.mother, pregnancy.delivery, org);
  const babyBlock = patientBlock(world, baby, pregnancy.delivery, org);
  for (const [key, value] of Object.entries(babyBlock)) values[`${key}Baby`] = value;
  // Baby rows are about the baby: its own identifiers take the unqualified names too.
  Object.assign(values, babyBlock);
  put(values, ['NHSNumberBaby', 'NHS_Number_Baby', 'Baby_NHS_Number'], population.nhsNumber(baby));
  put(
    values,
    ['PersonBirthDateBaby', 'Baby_Date_Of_Birth', 'Date_Of_Birth_Baby'],
    formatDay(pregnancy.delivery),
  );
  put(values, ['PersonPhenSex', 'Baby_Sex', 'Sex_Baby'], population.sex[baby] === MALE ? '1' : '2');
  put(values, ['UniqPregID', 'Pregnancy_ID', 'Pregnancy_Identifier'], pregnancyId(org, pregnancy));
  put(values, ['BirthOrderMaternitySUS', 'Birth_Order'], String(order));
  put(values, ['LPIDBaby'], localPatientId(org, baby));
  put(values, ['LabourDeliveryID'], labourId(org, pregnancy));
  put(values, ['OrgSiteIDActualDelivery'], `${org}01`);
  put(values, ['OrgCodeProvider'], org);
  const stillborn = population.death[baby] === pregnancy.delivery;
  put(values, ['PregOutcome', 'Pregnancy_Outcome', 'Birth_Outcome'], stillborn ? '02' : '01');
  put(
    values,
    ['GestationLengthBirth', 'Gestation_At_Birth', 'Gestation_Length_At_Birth', 'Gestation_Days'],
    String(pregnancy.gestation),
  );
  put(values, ['DeliveryMethodCode', 'Delivery_Method', 'Delivery_Method_Code'], details.method);
  const h = hashKey(seedKey, 'baby', baby);
  const weight = Math.round(
    3400 +
      (pregnancy.gestation - 280) * 22 +
      ((h % 1000) / 1000 - 0.5) * 1300 -
      (pregnancy.babies > 1 ? 700 : 0) -
      (details.smokingDelivery ? 200 : 0),
  );
  put(
    values,
    ['Birthweight', 'BirthWeight', 'Birth_Weight', 'Birth_Weight_Grams'],
    String(Math.max(400, weight)),
  );
  const lowApgar = (h >>> 10) % 1000 < 10 || stillborn;
  put(
    values,
    ['ApgarScore', 'Apgar_Score', 'Apgar_Score_5_Minutes', 'Apgar_5'],
    stillborn ? '0' : String(lowApgar ? 3 + ((h >>> 20) % 4) : 9 + ((h >>> 20) % 2)),
  );
  const breastMilk = ((h >>> 14) % 1000) / 1000 < 0.74 - (details.smokingDelivery ? 0.15 : 0);
  put(
    values,
    ['BabyFirstFeedIndCode', 'First_Feed', 'Baby_First_Feed', 'First_Feed_Type'],
    stillborn ? '' : breastMilk ? ((h >>> 24) % 3 === 0 ? '02' : '01') : '03',
  );
  put(
    values,
    ['FetusPresentation', 'Fetal_Presentation'],
    details.method === '5' || details.method === '6' ? '02' : '01',
  );
  put(
    values,
    ['PersonDeathDateBaby', 'Baby_Death_Date'],
    population.death[baby] !== NO_DAY ? formatDay(population.death[baby] ?? 0) : '',
  );
  const death = population.death[baby] ?? NO_DAY;
  put(
    values,
    ['AgeAtDeathBaby', 'Age_At_Death_Days'],
    !stillborn && death !== NO_DAY ? String(death - pregnancy.delivery) : '',
  );
  const admitted =
    (hashKey(seedKey, 'neonatal-unit', baby) % 10_000) / 10_000 <
    (pregnancy.gestation >= 259 ? MATERNITY.termNeonatalAdmission : MATERNITY.pretermNeonatalAdmission);
  put(values, ['NeonatalAdmission', 'Neonatal_Unit_Admission'], stillborn ? '' : admitted ? 'Y' : 'N');
  return values;
}

/** The local authority of a person's address on a day, as its GSS code. */
export function laCodeAt(world: World, person: number, day: number): string {
  return (
    world.geography.localAuthorities[laOfAddress(world, world.population.addressAt(person, day))]?.code ?? ''
  );
}
