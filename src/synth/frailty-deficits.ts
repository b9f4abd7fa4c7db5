/**
 * The electronic Frailty Index's deficits in the synthetic world (Clegg et al., Age and Ageing
 * 2016): what a person's GP record codes that the person-level model (src/kid/frailty.ts)
 * counts. A deficit is either a modelled condition (diabetes, hypertension, COPD or asthma,
 * CHD, dementia: `efiConditionDeficits`) or one of the other deficits drawn here for people
 * aged 65 or over by the window's end — more with age, with each condition, and many more
 * with frailty. Deficits that are long-term conditions with a Kernel code list of their own
 * (atrial fibrillation, CKD, …) are not drawn: the world does not model those conditions.
 * Deterministic: one stream per person from the world's seed, so the feeds
 * (gp-register-baseline.ts, activity-model.ts) and the truth (truth-writer.ts) agree.
 */
import { NO_DAY } from './population.ts';
import { Random } from './random.ts';
import { approximateAge } from './synth-dates.ts';
import { CONDITIONS, EFI_EXTRA_DEFICITS } from './synth-rates.ts';
import { CLINICAL_CODES, type World } from './world.ts';

/** The deficits beyond the modelled conditions, with the concept the GP record codes. */
export const EXTRA_DEFICITS = Object.entries(CLINICAL_CODES.efiDeficits).map(([deficit, spec]) => ({
  deficit,
  ...spec,
}));
const FRAILTY = CONDITIONS.indexOf('frailty');

/** One deficit coded in a person's record: which, its SNOMED CT concept, and the day. */
export interface CodedDeficit {
  deficit: string;
  code: string;
  day: number;
}

/**
 * The deficits beyond the modelled conditions a person's record codes, each dated: at the
 * window's start (the practice's problem list), or on the day of an incident frailty diagnosis
 * for the deficits that frailty brings.
 */
export function extraDeficits(world: World, person: number): CodedDeficit[] {
  const population = world.population;
  const birth = population.birth[person] ?? 0;
  const { start, end } = world.window;
  if (birth >= start || (population.death[person] ?? NO_DAY) < start) return [];
  if (approximateAge(birth, end) < 65) return [];
  const mask = population.conditions[person] ?? 0;
  let conditions = 0;
  for (let i = 0; i < CONDITIONS.length; i++) if (i !== FRAILTY && mask & (1 << i)) conditions++;
  const over65 = Math.max(0, approximateAge(birth, start) - 65);
  const incidentFrailty = population.incident[person] === FRAILTY + 1;
  const frail = (mask & (1 << FRAILTY)) !== 0 || incidentFrailty;
  const r = new Random(world.seed, 'efi-deficits', person);
  const atStart = r.poisson(
    EFI_EXTRA_DEFICITS.base +
      EFI_EXTRA_DEFICITS.perYearOver65 * over65 +
      EFI_EXTRA_DEFICITS.perCondition * conditions,
  );
  const withFrailty = frail
    ? r.poisson(EFI_EXTRA_DEFICITS.frail + EFI_EXTRA_DEFICITS.frailPerYearOver65 * over65)
    : 0;
  // Weighted draws without replacement: common deficits (falls, arthritis) come first.
  const pool = [...EXTRA_DEFICITS];
  let total = pool.reduce((sum, d) => sum + d.weight, 0);
  const coded: CodedDeficit[] = [];
  const frailtyDay = incidentFrailty ? (population.incidentDay[person] ?? NO_DAY) : start;
  for (let k = 0; k < atStart + withFrailty && pool.length > 0; k++) {
    let u = r.next() * total;
    let i = 0;
    while (i < pool.length - 1 && u >= (pool[i]?.weight ?? 0)) u -= pool[i++]?.weight ?? 0;
    const [picked] = pool.splice(i, 1);
    if (!picked) break;
    total -= picked.weight;
    const day = k < atStart ? start : frailtyDay;
    if (day !== NO_DAY) coded.push({ deficit: picked.deficit, code: picked.code, day });
  }
  return coded;
}

/**
 * Every eFI deficit a person's record holds, with the first day coded: the modelled
 * conditions' (from the window's start, or the incident diagnosis day) and the others. The
 * truth the person-level model's eFI is checked against (truth/frailty.csv).
 */
export function allDeficits(world: World, person: number): { deficit: string; day: number }[] {
  const population = world.population;
  const first = new Map<string, number>();
  const add = (deficit: string | undefined, day: number): void => {
    if (deficit === undefined || day === NO_DAY) return;
    if ((first.get(deficit) ?? NO_DAY) > day) first.set(deficit, day);
  };
  const birth = population.birth[person] ?? 0;
  const mask = population.conditions[person] ?? 0;
  // The problem-list baseline codes prevalent conditions for people alive on the first day.
  if (birth < world.window.start && (population.death[person] ?? NO_DAY) >= world.window.start)
    CONDITIONS.forEach((condition, i) => {
      if (mask & (1 << i)) add(CLINICAL_CODES.efiConditionDeficits[condition], world.window.start);
    });
  const incident = population.incident[person] ?? 0;
  if (incident > 0)
    add(
      CLINICAL_CODES.efiConditionDeficits[CONDITIONS[incident - 1] ?? ''],
      population.incidentDay[person] ?? NO_DAY,
    );
  for (const d of extraDeficits(world, person)) add(d.deficit, d.day);
  return [...first].map(([deficit, day]) => ({ deficit, day })).sort((a, b) => a.day - b.day);
}
