/**
 * The GP practices' register at the start of the window: one PMI row for every person alive
 * and registered on the window's first day. Without it, the GP PMI feed carries only changes
 * (births, moves, deaths) and the person spine (src/kid/) would miss everyone who stayed put;
 * a practice's first extract to a new warehouse is its whole list.
 */
import type { RowSubject } from './feed-router.ts';
import { patientBlock, type Values } from './feed-rows.ts';
import { NO_DAY } from './population.ts';
import { formatDay, type Month } from './synth-dates.ts';
import type { World } from './world.ts';

type Emit = (org: string, dataset: string, values: Values, subject: RowSubject) => void;

export function writeGpRegisterBaseline(
  world: World,
  month: Month,
  emit: Emit,
  subject: (person: number, day: number) => RowSubject,
): void {
  const population = world.population;
  const day = month.first;
  for (let p = 0; p < population.count; p++) {
    if ((population.birth[p] ?? 0) >= day || (population.death[p] ?? NO_DAY) < day) continue;
    const practice =
      world.practices.practices[population.addressPractice[population.addressAt(p, day)] ?? 0]?.code ?? '';
    const values = patientBlock(world, p, day, practice);
    values.Record_Date = formatDay(day);
    emit(practice, 'pmi', values, subject(p, day));
  }
}
