/**
 * The defects real extracts carry, injected at configurable rates and each recorded in
 * `truth/defects.csv`. A row carries at most one defect, so counting anomalies in the
 * files gives exactly what truth says.
 */
import type { Random } from './random.ts';

export const DEFECT_KINDS = [
  'mistyped-name',
  'dob-day-month-swap',
  'old-address',
  'missing-nhs-number',
  'wrong-check-digit',
  'code-not-in-list',
  'impossible-date',
  'missing-mandatory',
  'duplicate-row',
  // Last, with a default rate of 0: a kind that never fires draws nothing, so adding it
  // moved no other defect of any world.
  'nickname',
] as const;
export type DefectKind = (typeof DEFECT_KINDS)[number];
export type DefectRates = Record<DefectKind, number>;

/** A clean world: no defect of any kind. */
export const NO_DEFECTS: Readonly<DefectRates> = Object.freeze(
  Object.fromEntries(DEFECT_KINDS.map((k) => [k, 0])) as DefectRates,
);

/** Per-row rates where a defect can apply (a swap needs day ≤ 12, an old address a previous one…). */
export const DEFAULT_DEFECT_RATES: DefectRates = {
  'mistyped-name': 0.004,
  'dob-day-month-swap': 0.003,
  'old-address': 0.01,
  'missing-nhs-number': 0.005,
  'wrong-check-digit': 0.002,
  'code-not-in-list': 0.003,
  'impossible-date': 0.002,
  'missing-mandatory': 0.003,
  'duplicate-row': 0.002,
  nickname: 0,
};

/**
 * What a council's records carry (issue 14): councils key names, dates of birth and addresses
 * by hand from forms and phone calls, and hold no NHS number to correct them against, so
 * their identity errors run well above a hospital's. Per row, at most one (as every defect):
 * a name mistyped 4%, a given name as its nickname 3% (where it has one), the previous
 * address 6% (where there is one), day and month of birth swapped 2% (where the day is 12 or
 * less). Fire and rescue visits are about households, not people: only the moved address
 * applies. Used for those feeds when a world is made with the default rates; a caller who
 * sets rates sets them for every feed.
 */
export const COUNCIL_DEFECT_RATES: Partial<DefectRates> = {
  'mistyped-name': 0.04,
  nickname: 0.03,
  'old-address': 0.06,
  'dob-day-month-swap': 0.02,
};

/** The datasets whose feeds carry COUNCIL_DEFECT_RATES: council social care, fire and rescue visits, district council housing and benefits. */
export const COUNCIL_DATASETS: readonly string[] = [
  'asc',
  'fire-safety',
  'council-housing',
  'council-benefits',
];

/**
 * Common English short forms of the given names the synthetic population draws (what a
 * person gives at the door is often not what their GP holds).
 */
export const NICKNAMES: Readonly<Record<string, string>> = {
  Margaret: 'Maggie',
  Susan: 'Sue',
  Patricia: 'Pat',
  Elizabeth: 'Liz',
  Christine: 'Chris',
  Jacqueline: 'Jackie',
  Barbara: 'Babs',
  Gillian: 'Gill',
  Jennifer: 'Jenny',
  Valerie: 'Val',
  Deborah: 'Debbie',
  Kathleen: 'Kath',
  Catherine: 'Cathy',
  Pamela: 'Pam',
  Sandra: 'Sandy',
  Dorothy: 'Dot',
  Josephine: 'Jo',
  Teresa: 'Tess',
  Frances: 'Fran',
  Rosemary: 'Rosie',
  Judith: 'Judy',
  Samantha: 'Sam',
  Rebecca: 'Becky',
  Victoria: 'Vicky',
  Abigail: 'Abbie',
  Eleanor: 'Ellie',
  Jessica: 'Jess',
  Charlotte: 'Lottie',
  Isabella: 'Bella',
  Natalie: 'Nat',
  Michael: 'Mike',
  Robert: 'Bob',
  Richard: 'Rick',
  Christopher: 'Chris',
  William: 'Bill',
  James: 'Jim',
  Thomas: 'Tom',
  Charles: 'Charlie',
  Edward: 'Ted',
  Henry: 'Harry',
  Anthony: 'Tony',
  Stephen: 'Steve',
  Steven: 'Steve',
  Andrew: 'Andy',
  Philip: 'Phil',
  Geoffrey: 'Geoff',
  Kenneth: 'Ken',
  Terence: 'Terry',
  Raymond: 'Ray',
  Frederick: 'Fred',
  Ronald: 'Ron',
  Stanley: 'Stan',
  Timothy: 'Tim',
  Jonathan: 'Jon',
  Patrick: 'Paddy',
  Francis: 'Frank',
  Albert: 'Bert',
  Donald: 'Don',
  Douglas: 'Doug',
  Gerald: 'Gerry',
  Reginald: 'Reg',
  Leslie: 'Les',
  Daniel: 'Dan',
  Samuel: 'Sam',
  Benjamin: 'Ben',
  Alexander: 'Alex',
  Joseph: 'Joe',
  Matthew: 'Matt',
  Zachary: 'Zac',
  Nathan: 'Nate',
  Theodore: 'Theo',
  Joshua: 'Josh',
  Jacob: 'Jake',
};

/** What the injector needs to know about a dataset's columns. */
export interface DefectShape {
  columns: readonly string[];
  required: ReadonlySet<string>;
  /** code-list fields and their allowed codes */
  codeFields: readonly { field: string; valid: (value: string) => boolean }[];
  dateFields: readonly { field: string; type: 'date' | 'datetime' }[];
  dateOrder: readonly { start: string; end: string }[];
  /** the subject's identity columns, where the dataset has them */
  identity: {
    nhsNumber?: string;
    givenName?: string;
    familyName?: string;
    birthDate?: string;
    /** the postcode and address columns an old address replaces */
    address?: readonly string[];
  };
}

export interface Defect {
  kind: DefectKind;
  field: string;
  /** what kind of value was there: "valid NHS number", "date", "code"… */
  originalClass: string;
  original: string;
  written: string;
}

export interface RowDraft {
  values: Record<string, string>;
  /** the same address columns at the subject's previous address, where one exists (made only when needed) */
  oldAddress?: () => Record<string, string> | undefined;
}

const NAME_TYPOS = ['swap', 'drop', 'double', 'vowel'] as const;

/** A plausible typing slip in a name that changes it. */
export function mistype(name: string, random: Random): string {
  if (name.length < 2) return `${name}${name}`;
  for (let attempt = 0; attempt < 8; attempt++) {
    const at = random.int(0, name.length - 2);
    let typed = name;
    switch (random.pick(NAME_TYPOS)) {
      case 'swap':
        typed = name.slice(0, at) + name.charAt(at + 1) + name.charAt(at) + name.slice(at + 2);
        break;
      case 'drop':
        typed = name.slice(0, at + 1) + name.slice(at + 2);
        break;
      case 'double':
        typed = name.slice(0, at + 1) + name.charAt(at + 1) + name.slice(at + 1);
        break;
      case 'vowel':
        typed =
          name.slice(0, at + 1) +
          name.slice(at + 1).replace(/[aeiou]/, (v) => 'aeiou'.charAt(('aeiou'.indexOf(v) + 1) % 5));
        break;
    }
    if (typed !== name && typed.length > 0) return typed;
  }
  return `${name}e`;
}

function swapDayMonth(date: string): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return undefined;
  const [, year, month, day] = match;
  if (Number(day) > 12 || day === month) return undefined;
  return `${year}-${day}-${month}`;
}

function wrongCheckDigit(nhs: string, random: Random): string | undefined {
  if (!/^\d{10}$/.test(nhs)) return undefined;
  const right = nhs.charCodeAt(9) - 48;
  const wrong = (right + random.int(1, 9)) % 10;
  return nhs.slice(0, 9) + String(wrong);
}

const BOGUS_CODES = ['ZZ', 'X9', '0Q', '99Z', 'Q99', 'XX1', '00000000', 'N/K', '?'];

function codeNotInList(valid: (value: string) => boolean, random: Random): string {
  for (let i = 0; i < 20; i++) {
    const candidate = random.pick(BOGUS_CODES);
    if (!valid(candidate)) return candidate;
  }
  return '?';
}

/** The date part of a date or datetime moved before another date (an end before its start). */
function shiftBefore(start: string, end: string): string | undefined {
  const startDay = Date.parse(`${start.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(startDay) || !end) return undefined;
  const earlier = new Date(startDay - 86_400_000 * 2).toISOString().slice(0, 10);
  return `${earlier}${end.slice(10)}`;
}

/** Decides and applies at most one defect to a drafted row; answers it, or undefined. */
export function injectDefect(
  draft: RowDraft,
  shape: DefectShape,
  rates: DefectRates,
  random: Random,
): Defect | undefined {
  const values = draft.values;
  const id = shape.identity;
  for (const kind of DEFECT_KINDS) {
    const rate = rates[kind];
    if (rate <= 0 || random.next() >= rate) continue;
    const defect = applyKind(kind, draft, shape, random);
    if (defect) {
      if (kind !== 'duplicate-row') values[defect.field] = defect.written;
      return defect;
    }
  }
  return undefined;

  function applyKind(kind: DefectKind, row: RowDraft, s: DefectShape, r: Random): Defect | undefined {
    switch (kind) {
      case 'mistyped-name': {
        const fields = [id.givenName, id.familyName].filter((f): f is string => Boolean(f && values[f]));
        if (fields.length === 0) return undefined;
        const field = r.pick(fields);
        const original = values[field] ?? '';
        return { kind, field, originalClass: 'name', original, written: mistype(original, r) };
      }
      case 'nickname': {
        const field = id.givenName;
        const original = field ? (values[field] ?? '') : '';
        const written = NICKNAMES[original];
        if (!field || !written) return undefined;
        return { kind, field, originalClass: 'given name', original, written };
      }
      case 'dob-day-month-swap': {
        const field = id.birthDate;
        const original = field ? (values[field] ?? '') : '';
        const written = swapDayMonth(original);
        if (!field || !written) return undefined;
        return { kind, field, originalClass: 'date of birth with day 12 or less', original, written };
      }
      case 'old-address': {
        const fields = id.address ?? [];
        const old = row.oldAddress?.();
        const postcodeField = fields[0];
        if (!old || !postcodeField || !values[postcodeField] || old[postcodeField] === values[postcodeField])
          return undefined;
        const original = values[postcodeField] ?? '';
        // The whole address moves back, not only the postcode; truth names the postcode field.
        for (const field of fields.slice(1)) if (old[field] !== undefined) values[field] = old[field] ?? '';
        return {
          kind,
          field: postcodeField,
          originalClass: 'postcode of current address',
          original,
          written: old[postcodeField] ?? '',
        };
      }
      case 'missing-nhs-number': {
        const field = id.nhsNumber;
        if (!field || !values[field]) return undefined;
        return { kind, field, originalClass: 'valid NHS number', original: values[field] ?? '', written: '' };
      }
      case 'wrong-check-digit': {
        const field = id.nhsNumber;
        const written = field ? wrongCheckDigit(values[field] ?? '', r) : undefined;
        if (!field || !written) return undefined;
        return { kind, field, originalClass: 'valid NHS number', original: values[field] ?? '', written };
      }
      case 'code-not-in-list': {
        const candidates = s.codeFields.filter((c) => values[c.field]);
        if (candidates.length === 0) return undefined;
        const { field, valid } = r.pick(candidates);
        return {
          kind,
          field,
          originalClass: 'code in the code list',
          original: values[field] ?? '',
          written: codeNotInList(valid, r),
        };
      }
      case 'impossible-date': {
        const orders = s.dateOrder.filter((o) => values[o.start] && values[o.end]);
        if (orders.length > 0 && r.chance(0.5)) {
          const order = r.pick(orders);
          const written = shiftBefore(values[order.start] ?? '', values[order.end] ?? '');
          if (written)
            return {
              kind,
              field: order.end,
              originalClass: `date on or after ${order.start}`,
              original: values[order.end] ?? '',
              written,
            };
        }
        const dates = s.dateFields.filter((d) => values[d.field] && d.field !== id.birthDate);
        if (dates.length === 0) return undefined;
        const { field } = r.pick(dates);
        const original = values[field] ?? '';
        return {
          kind,
          field,
          originalClass: 'valid date',
          original,
          written: `${original.slice(0, 4)}-02-30${original.slice(10)}`,
        };
      }
      case 'missing-mandatory': {
        const fields = s.columns.filter((f) => s.required.has(f) && values[f] && f !== id.nhsNumber);
        if (fields.length === 0) return undefined;
        const field = r.pick(fields);
        return { kind, field, originalClass: 'mandatory value', original: values[field] ?? '', written: '' };
      }
      case 'duplicate-row':
        return { kind, field: '', originalClass: 'row', original: '', written: '' };
    }
  }
}
