/**
 * The coding SUS+ outpatients carries beyond the appointment (OP 1.1.0): diagnoses and
 * procedures where the clinic records them, the HRG and price SUS+ attaches with its tariff
 * year, the referring organisation and whether more than one professional saw the patient.
 *
 * Diagnoses follow the person: a coded appointment's diagnoses are the modelled conditions the
 * person has on the day (the same ICD-10 codes APC's secondary diagnoses use), led by the one
 * its clinic treats. Every draw comes from a stream keyed by the appointment itself, never
 * from the person's month stream, so adding this content moved no other value of any world.
 */
import { readFileSync } from 'node:fs';
import type { ActivityEvent } from './activity-model.ts';
import { Random } from './random.ts';
import { CONDITIONS } from './synth-rates.ts';
import { CLINICAL_CODES, type World } from './world.ts';

type Values = Record<string, string>;
type OpEvent = Extract<ActivityEvent, { kind: 'op' }>;

interface OpContentData {
  codedShare: number;
  multiProfessionalShare: number;
  diagnosesByTreatmentFunction: Record<string, { conditions: string[]; code: string }>;
  proceduresByTreatmentFunction: Record<string, { code: string; share: number }>;
  procedureHrg: Record<string, { code: string; price: number }>;
  attendanceHrg: Record<string, number>;
}

const DATA = JSON.parse(
  readFileSync(new URL('./data/op-content.json', import.meta.url), 'utf8'),
) as OpContentData;

/** Positions the catalogue carries (src/catalogue/datasets/op.json): HES outpatients' DIAG_01–12 and OPERTN_01–24. */
export const OP_SECONDARY_DIAGNOSES = 11;
export const OP_SECONDARY_PROCEDURES = 23;

/** Attended on time or late but seen: the appointments SUS+ prices. */
export function opAttended(status: string): boolean {
  return status === '5' || status === '6';
}

/** The ICD-10 codes of the modelled conditions a person has on a day, in CONDITIONS order. */
export function conditionCodesOn(world: World, person: number, day: number): Map<string, string> {
  const codes = new Map<string, string>();
  CONDITIONS.forEach((condition, i) => {
    const code = CLINICAL_CODES.conditionDiagnoses[condition];
    if (code && world.population.hasCondition(person, i, day)) codes.set(condition, code);
  });
  return codes;
}

/**
 * The OP 1.1.0 values of one appointment, by the catalogue's column names. `practice` is the
 * person's GP practice code, `tariffYear` the financial year the appointment is priced under.
 */
export function opClinicalContent(
  world: World,
  person: number,
  event: OpEvent,
  practice: string,
  tariffYear: string,
): Values {
  const values: Values = {};
  const random = new Random(world.seed, 'op-content', event.trust, person, event.day, event.time);
  values['Referring_Organisation_Code'] = referringOrganisation(event, practice);
  if (!opAttended(event.status)) return values;

  const multi = random.chance(DATA.multiProfessionalShare);
  values['Multi_Professional_Or_Multi_Disciplinary_Indicator'] = multi ? '2' : '1';

  if (random.chance(DATA.codedShare)) {
    const diagnoses = opDiagnoses(world, person, event);
    values['Primary_Diagnosis_ICD'] = diagnoses[0] ?? '';
    diagnoses.slice(1, OP_SECONDARY_DIAGNOSES + 1).forEach((code, k) => {
      values[`Secondary_Diagnosis_ICD_${k + 1}`] = code;
    });
  }

  const procedure = DATA.proceduresByTreatmentFunction[event.treatmentFunction];
  const done = procedure !== undefined && random.chance(procedure.share);
  if (procedure && done) {
    values['Primary_Procedure_OPCS'] = procedure.code;
    (CLINICAL_CODES.secondaryProcedures[procedure.code] ?? [])
      .slice(0, OP_SECONDARY_PROCEDURES)
      .forEach((code, k) => {
        values[`Secondary_Procedure_OPCS_${k + 1}`] = code;
      });
  }

  const priced = procedure && done ? DATA.procedureHrg[procedure.code] : undefined;
  const hrg = priced?.code ?? attendanceHrg(event, multi);
  values['Core_HRG'] = hrg;
  values['Tariff_Year'] = tariffYear;
  values['Tariff_Total_Payment'] = (priced?.price ?? DATA.attendanceHrg[hrg] ?? 0).toFixed(2);
  return values;
}

/**
 * A coded appointment's diagnoses, primary first: the first of the clinic's conditions the
 * person has, else the clinic's usual presenting code; then the person's other conditions.
 */
export function opDiagnoses(world: World, person: number, event: OpEvent): string[] {
  const has = conditionCodesOn(world, person, event.day);
  const clinic = DATA.diagnosesByTreatmentFunction[event.treatmentFunction];
  const own = clinic?.conditions.map((c) => has.get(c)).find((code) => code !== undefined);
  const primary = own ?? clinic?.code;
  const codes = primary ? [primary] : [];
  for (const code of has.values()) if (!codes.includes(code)) codes.push(code);
  return codes;
}

/** WF01 single professional, WF02 multi-professional; A/B face to face, C/D not; B and D first. */
function attendanceHrg(event: OpEvent, multi: boolean): string {
  const letter = event.remote ? (event.first ? 'D' : 'C') : event.first ? 'B' : 'A';
  return `${multi ? 'WF02' : 'WF01'}${letter}`;
}

/** The GP practice for a GP referral, the trust for a consultant's (or a follow-up's). */
function referringOrganisation(event: OpEvent, practice: string): string {
  if (event.referralSource === '03') return practice;
  if (['01', '05', '10'].includes(event.referralSource)) return event.trust;
  return '';
}
