/**
 * Hospital spells from APC episodes, by the rules HES and SUS publish.
 *
 * - A **provider spell** is the consultant episodes of one stay in one provider: NHS Digital's
 *   HES APC provider spell groups episodes by provider (PROCODE), patient (HESID) and
 *   admission date; SUS carries the provider's own key, the Hospital Provider Spell Number, so
 *   a spell here is the episodes sharing provider, person token and spell number. Its
 *   admission date is the first episode's, its discharge date the last episode's (SUS fills
 *   it on the last episode only), and its length of stay the days between them.
 * - A **continuous inpatient spell** (CIPS) joins provider spells where the patient was
 *   transferred between providers without going home: NHS Digital, "Methodology to create
 *   provider and CIP spells from HES APC data" (HSCIC, 2014), used by SHMI. The next spell
 *   joins when it starts 0, 1 or 2 days after the previous one's discharge, the previous one
 *   did not end in death, and one of these says transfer: the previous discharge destination
 *   (49–53, 84, 87), the next admission source (49–53, 87) or the next admission method (2B,
 *   81).
 *
 * Pure functions: the caller reads the episodes through the governed reader (apc-spells.ts).
 */

export interface ApcEpisode {
  provider: string;
  /** person token (or its use-case pseudonym); null when the episode has none */
  person: string | null;
  spellNumber: string;
  episodeNumber: number;
  admissionDate: string;
  episodeStart: string;
  episodeEnd: string;
  dischargeDate: string | null;
  admissionMethod: string;
  admissionSource: string;
  dischargeMethod: string;
  dischargeDestination: string;
  /** ICD-10, every position, primary first */
  diagnoses: string[];
}

export interface ProviderSpell {
  provider: string;
  person: string | null;
  spellNumber: string;
  admissionDate: string;
  /** null while the patient is still in hospital */
  dischargeDate: string | null;
  lengthOfStay: number | null;
  episodes: number;
  admissionMethod: string;
  admissionSource: string;
  dischargeMethod: string;
  dischargeDestination: string;
  /** every episode's diagnoses, each code once, in episode and position order */
  diagnoses: string[];
}

export interface ContinuousSpell {
  person: string | null;
  admissionDate: string;
  dischargeDate: string | null;
  lengthOfStay: number | null;
  /** the provider spells it joins, in order */
  spells: ProviderSpell[];
  diagnoses: string[];
}

/** NHS Digital CIPS methodology (2014): the codes that mark a transfer between providers. */
export const CIPS_RULE = {
  maxGapDays: 2,
  transferDestinations: ['49', '50', '51', '52', '53', '84', '87'],
  transferSources: ['49', '50', '51', '52', '53', '87'],
  transferMethods: ['2B', '81'],
  deathDischargeMethod: '4',
} as const;

const DAY_MS = 86_400_000;

/** Days from `from` to `to`, both CCYY-MM-DD. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

function uniqueInOrder(codes: Iterable<string>): string[] {
  const seen = new Set<string>();
  for (const code of codes) if (code) seen.add(code);
  return [...seen];
}

/** Groups episodes into provider spells (provider, person, spell number), ordered by person and admission. */
export function providerSpells(episodes: readonly ApcEpisode[]): ProviderSpell[] {
  const groups = new Map<string, ApcEpisode[]>();
  for (const e of episodes) {
    const key = JSON.stringify([e.provider, e.person, e.spellNumber]);
    const group = groups.get(key);
    if (group) group.push(e);
    else groups.set(key, [e]);
  }
  const spells = [...groups.values()].map((group): ProviderSpell => {
    group.sort((a, b) => a.episodeNumber - b.episodeNumber || a.episodeStart.localeCompare(b.episodeStart));
    const first = group[0] as ApcEpisode;
    const last = group[group.length - 1] as ApcEpisode;
    const admissionDate = group.reduce(
      (d, e) => (e.admissionDate < d ? e.admissionDate : d),
      first.admissionDate,
    );
    const dischargeDate = group.reduce<string | null>(
      (d, e) => (e.dischargeDate && (!d || e.dischargeDate > d) ? e.dischargeDate : d),
      null,
    );
    return {
      provider: first.provider,
      person: first.person,
      spellNumber: first.spellNumber,
      admissionDate,
      dischargeDate,
      lengthOfStay: dischargeDate ? daysBetween(admissionDate, dischargeDate) : null,
      episodes: group.length,
      admissionMethod: first.admissionMethod,
      admissionSource: first.admissionSource,
      dischargeMethod: last.dischargeMethod,
      dischargeDestination: last.dischargeDestination,
      diagnoses: uniqueInOrder(group.flatMap((e) => e.diagnoses)),
    };
  });
  return spells.sort(
    (a, b) =>
      String(a.person).localeCompare(String(b.person)) ||
      a.admissionDate.localeCompare(b.admissionDate) ||
      a.provider.localeCompare(b.provider) ||
      a.spellNumber.localeCompare(b.spellNumber),
  );
}

/** Whether `next` continues `previous` as one continuous inpatient spell (CIPS_RULE). */
export function isTransfer(previous: ProviderSpell, next: ProviderSpell): boolean {
  if (previous.person === null || previous.person !== next.person || !previous.dischargeDate) return false;
  if (previous.dischargeMethod === CIPS_RULE.deathDischargeMethod) return false;
  const gap = daysBetween(previous.dischargeDate, next.admissionDate);
  if (gap < 0 || gap > CIPS_RULE.maxGapDays) return false;
  return (
    (CIPS_RULE.transferDestinations as readonly string[]).includes(previous.dischargeDestination) ||
    (CIPS_RULE.transferSources as readonly string[]).includes(next.admissionSource) ||
    (CIPS_RULE.transferMethods as readonly string[]).includes(next.admissionMethod)
  );
}

/** Joins provider spells (as `providerSpells` orders them) into continuous inpatient spells. */
export function continuousSpells(spells: readonly ProviderSpell[]): ContinuousSpell[] {
  const out: ContinuousSpell[] = [];
  let current: ProviderSpell[] = [];
  const close = (): void => {
    if (current.length === 0) return;
    const first = current[0] as ProviderSpell;
    const last = current[current.length - 1] as ProviderSpell;
    out.push({
      person: first.person,
      admissionDate: first.admissionDate,
      dischargeDate: last.dischargeDate,
      lengthOfStay: last.dischargeDate ? daysBetween(first.admissionDate, last.dischargeDate) : null,
      spells: current,
      diagnoses: uniqueInOrder(current.flatMap((s) => s.diagnoses)),
    });
    current = [];
  };
  for (const spell of spells) {
    const previous = current[current.length - 1];
    if (previous && !isTransfer(previous, spell)) close();
    current.push(spell);
  }
  close();
  return out;
}
