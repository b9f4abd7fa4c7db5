/**
 * The synthetic world's adult critical care periods (dataset `apc-critical-care`), as an
 * acute trust submits them beside its APC episodes in the Commissioning Data Set: one row per
 * period in a critical care unit, joined to the spell by its hospital provider spell number.
 *
 * Draws come from streams keyed by the spell under their own label, so adding this feed moved
 * no other value of any world. Assumptions (docs/synthetic-data.md):
 * - about 3% of adult emergency admissions that stay at least a night include a critical care
 *   period [M: order of magnitude of adult critical care admissions against emergency
 *   admissions in England];
 * - one period per spell, starting on the admission day or up to two days after, lasting 1 to
 *   10 days and ending no later than the discharge;
 * - level 3 care on about a third of a period's days, level 2 on the rest; organ support days
 *   never exceed the level days that need them.
 * The truth: `truth/records.csv` (the feed router) names each row's person; the row's spell
 * number is the APC spell's, so the spell is known from the row itself.
 */
import type { ApcSpell } from './activity-model.ts';
import type { EmitRow, SubjectOf } from './feed-router.ts';
import { patientBlock, spellNumber, type Values } from './feed-rows.ts';
import { hashUniform, Random, WeightedTable } from './random.ts';
import { formatDateTime, formatDay } from './synth-dates.ts';
import type { World } from './world.ts';

export const CRITICAL_CARE_DATASET = 'apc-critical-care';
/** The share of adult emergency spells of a night or more that include a critical care period. */
export const CRITICAL_CARE_SHARE = 0.03;

const UNIT_FUNCTION = new WeightedTable([
  ['01', 60],
  ['02', 6],
  ['03', 6],
  ['08', 6],
  ['09', 12],
  ['92', 5],
  ['93', 5],
] as const);

function isEmergency(method: string): boolean {
  return method.startsWith('2');
}

/** The period's row for a spell, or undefined when the spell has none. */
export function criticalCareRow(
  world: World,
  person: number,
  spell: ApcSpell,
  seed: number,
): Values | undefined {
  const age = Math.floor((spell.admit - (world.population.birth[person] ?? 0)) / 365.25);
  const stay = spell.discharge - spell.admit;
  if (age < 18 || stay < 1 || !isEmergency(spell.method)) return undefined;
  if (hashUniform(seed, 'critical-care', person, spell.admit) >= CRITICAL_CARE_SHARE) return undefined;
  const random = new Random(seed, 'critical-care-period', person, spell.admit);
  const startDay = spell.admit + random.int(0, Math.min(2, stay - 1));
  const startMinute =
    startDay === spell.admit ? Math.min(1439, spell.admitTime + random.int(60, 360)) : random.int(0, 1439);
  const endDay = Math.min(spell.discharge, startDay + random.int(1, 10));
  const endMinute = random.int(0, 1439);
  const end = endDay === startDay ? Math.max(endMinute, startMinute + 1) : endMinute;
  // Calendar days of the period, counting the first and last: the bound every level's days keep.
  const days = endDay - startDay + 1;
  const level3 = random.chance(0.5) ? random.int(0, Math.ceil(days / 3)) : 0;
  const level2 = random.int(0, days - level3);
  const died = spell.dischargeMethod === '4' && endDay === spell.discharge;
  const values = patientBlock(world, person, spell.admit, spell.trust);
  const spellId = spellNumber(spell.trust, person, spell.admit);
  values.Hospital_Provider_Spell_Number = spellId;
  values.Admission_Date = formatDay(spell.admit);
  // One period per spell, so the spell's own number (unique in the trust) numbers the period.
  values.Critical_Care_Local_Identifier = spellId.slice(-8);
  values.Critical_Care_Start_Date_Time = formatDateTime(startDay, startMinute);
  values.Critical_Care_Discharge_Date_Time = formatDateTime(endDay, Math.min(1439, end));
  values.Critical_Care_Unit_Function = UNIT_FUNCTION.draw(random);
  values.Critical_Care_Level_2_Days = String(level2);
  values.Critical_Care_Level_3_Days = String(level3);
  values.Advanced_Respiratory_Support_Days = String(level3 > 0 ? random.int(0, level3) : 0);
  values.Basic_Respiratory_Support_Days = String(random.int(0, level2));
  values.Advanced_Cardiovascular_Support_Days = String(level3 > 0 ? random.int(0, level3) : 0);
  values.Basic_Cardiovascular_Support_Days = String(random.int(0, level2 + level3));
  values.Renal_Support_Days = String(random.chance(0.15) ? random.int(0, level2 + level3) : 0);
  values.Critical_Care_Discharge_Status = died ? '07' : random.chance(0.9) ? '01' : '03';
  return values;
}

/** Writes a spell's critical care period, if it has one, as its trust's feed. */
export function writeCriticalCare(
  world: World,
  person: number,
  spell: ApcSpell,
  emit: EmitRow,
  subject: SubjectOf,
  seed: number,
): void {
  const values = criticalCareRow(world, person, spell, seed);
  if (values) emit(spell.trust, CRITICAL_CARE_DATASET, values, subject(person, spell.admit));
}
