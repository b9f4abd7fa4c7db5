/**
 * The GP practices' register and problem lists at the start of the window: what a practice's
 * first extract to a new warehouse holds (its whole list), not only the changes after it.
 */
import { gpDiagnosis } from './activity-model.ts';
import type { EmitRow, SubjectOf } from './feed-router.ts';
import { gpEventRow, patientBlock } from './feed-rows.ts';
import { extraDeficits } from './frailty-deficits.ts';
import { NO_DAY } from './population.ts';
import { formatDay, type Month } from './synth-dates.ts';
import { CONDITIONS } from './synth-rates.ts';
import type { World } from './world.ts';

/** Calls `visit` for each person alive and born before `day`, with their practice then. */
function forEachRegistered(
  world: World,
  day: number,
  visit: (person: number, practiceIndex: number, practice: string) => void,
): void {
  const population = world.population;
  for (let p = 0; p < population.count; p++) {
    if ((population.birth[p] ?? 0) >= day || (population.death[p] ?? NO_DAY) < day) continue;
    const practiceIndex = population.addressPractice[population.addressAt(p, day)] ?? 0;
    visit(p, practiceIndex, world.practices.practices[practiceIndex]?.code ?? '');
  }
}

/**
 * The GP practices' lists at the start of the window, dated its first day: the register and
 * the problem lists, each a practice's first extract to a new warehouse.
 *
 * The register is one PMI row for every person alive and registered then. Without it, the GP
 * PMI feed carries only changes (births, moves, deaths) and the person spine (src/kid/) would
 * miss everyone who stayed put.
 *
 * The problem lists hold one diagnosis event for each long-term condition a living person
 * already has (the synthetic world does not model when a prevalent condition was first
 * coded). Without them, gp-events would show a prevalent condition only if a review happened
 * to fall in the window, and the person-level model (src/kid/) could not find it. They also
 * hold the electronic Frailty Index's other deficits (falls, hearing loss, …) a person has then.
 */
export function writeGpBaselines(world: World, month: Month, emit: EmitRow, subject: SubjectOf): void {
  const day = month.first;
  // Two passes, the register first, so the rows come in the order they always have.
  forEachRegistered(world, day, (p, _, practice) => {
    const values = patientBlock(world, p, day, practice);
    values.Record_Date = formatDay(day);
    emit(practice, 'pmi', values, subject(p, day));
  });
  forEachRegistered(world, day, (p, practiceIndex, practice) => {
    const mask = world.population.conditions[p] ?? 0;
    CONDITIONS.forEach((_, condition) => {
      if (!(mask & (1 << condition))) return;
      const values = gpEventRow(world, p, gpDiagnosis(day, practiceIndex, condition));
      emit(practice, 'gp-events', values, subject(p, day));
    });
    // The eFI's other deficits on the problem list (frailty-deficits.ts).
    for (const deficit of extraDeficits(world, p)) {
      if (deficit.day !== day) continue;
      const values = gpEventRow(
        world,
        p,
        gpDiagnosis(day, practiceIndex, CONDITIONS.indexOf('frailty'), deficit.code),
      );
      emit(practice, 'gp-events', values, subject(p, day));
    }
  });
}
