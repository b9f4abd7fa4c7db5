/**
 * The synthetic world's mental health (MHSDS, from KMPT) and community (CSDS, from KCHFT) feeds.
 *
 * Who gets them, from the world's people and conditions:
 * - **mental health**: people with serious mental illness (a flag of this module: the world has no
 *   SMI condition) or with dementia are referred to the mental health trust now and then; each
 *   referral brings care contacts over a few months, and some SMI referrals an admission with one
 *   or two ward stays;
 * - **community**: people aged 65 and over living with frailty are referred to community nursing;
 *   each referral brings home visits, each with one to three care activities.
 *
 * Each referral's whole timeline is worked out from (person, month of referral) alone, so a month
 * emits the events that fall in it without carrying state: the months that follow see the same
 * referral. Rows are monthly snapshots, as the national returns are: a spell or ward stay still
 * open at the month's end has no end date in that month's file.
 *
 * The truth: `truth/records.csv` names each row's person (the feed router); this module adds
 * `truth/care-contacts.csv`, one line per care contact with its person, dataset, referral and
 * date, which the tests and the KID's contact counts are checked against.
 */
import path from 'node:path';
import { CsvFileWriter } from '../files/csv-file-writer.ts';
import type { RowSubject, EmitRow } from './feed-router.ts';
import { patientBlock } from './feed-rows.ts';
import { NO_DAY } from './population.ts';
import { hashUniform, Random } from './random.ts';
import { formatDay, formatTime, type Month } from './synth-dates.ts';
import { CONDITIONS } from './synth-rates.ts';
import type { World } from './world.ts';

type Values = Record<string, string>;

export const MENTAL_HEALTH_TRUST = 'RXY';
export const COMMUNITY_TRUST = 'RYY';

/**
 * Rates, illustrative and rounded:
 * - SMI: the QOF mental health register (schizophrenia, bipolar affective disorder and other
 *   psychoses) held about 0.95% of patients in England in 2019–20 (NHS Digital, QOF 2019-20);
 * - a referral a year: about one in three people on that register, and one in four with dementia
 *   (memory services), are referred in a year [illustrative];
 * - an SMI referral leads to an admission about one time in twelve [illustrative];
 * - frail people aged 65 and over: about a third are on a community nursing caseload in a year
 *   [illustrative].
 */
export const SMI_PREVALENCE = 0.0095;
const REFERRALS_PER_YEAR = { smi: 0.33, dementia: 0.25, frail: 0.35 } as const;
const ADMISSION_SHARE_SMI = 1 / 12;
/** the longest a referral's timeline runs, in months (contacts stop after it) */
const LONGEST_REFERRAL_MONTHS = 6;

const DEMENTIA = CONDITIONS.indexOf('dementia');
const FRAILTY = CONDITIONS.indexOf('frailty');

export function hasSeriousMentalIllness(seed: number, person: number): boolean {
  return hashUniform(seed, 'smi', person) < SMI_PREVALENCE;
}

export const CARE_CONTACT_TRUTH_COLUMNS = [
  'person_id',
  'dataset',
  'referral_id',
  'contact_id',
  'contact_date',
  'attended',
] as const;

interface Contact {
  id: string;
  day: number;
  minutes: number;
  attendance: string;
  medium: string;
  /** community only: the SNOMED CT procedures of the contact */
  activities: string[];
}

interface WardStay {
  id: string;
  start: number;
  end: number;
  ward: string;
}

interface Referral {
  kind: 'mental-health' | 'community';
  id: string;
  person: number;
  day: number;
  source: string;
  reason: string;
  priority: string;
  /** the day the service discharged the person, or NO_DAY while open beyond the timeline */
  discharge: number;
  contacts: Contact[];
  spell?: { id: string; admission: number; discharge: number; method: string; destination: string };
  wardStays: WardStay[];
}

/** A bijection of (person, month) onto 11 digits, so record keys are unique without naming the person. */
function recordNumber(person: number, monthIndex: number): string {
  const n = (BigInt(person) * 512n + BigInt(monthIndex)) * 2654435761n;
  return String(n % 100_000_000_000n).padStart(11, '0');
}

const SMI_REASONS = ['01', '02', '03'];
const COMMUNITY_ACTIVITIES = ['225358003', '18629005', '182777000', '61746007', '225365006'];

function attendance(r: Random): string {
  const u = r.next();
  return u < 0.88 ? '5' : u < 0.95 ? '3' : u < 0.98 ? '2' : '4';
}

/** The referral `person` has in month `monthIndex`, if any: its whole timeline. */
export function referralOf(
  world: World,
  person: number,
  monthIndex: number,
  kind: Referral['kind'],
): Referral | undefined {
  const month = world.months[monthIndex];
  if (!month) return undefined;
  const population = world.population;
  const seed = world.seed;
  const birth = population.birth[person] ?? NO_DAY;
  const death = population.death[person] ?? NO_DAY;
  if (birth > month.first || death < month.first) return undefined;
  let rate: number;
  let smi = false;
  if (kind === 'mental-health') {
    smi = hasSeriousMentalIllness(seed, person) && month.first - birth >= 18 * 365.25;
    const dementia = population.hasCondition(person, DEMENTIA, month.first);
    if (!smi && !dementia) return undefined;
    rate = smi ? REFERRALS_PER_YEAR.smi : REFERRALS_PER_YEAR.dementia;
  } else {
    if (month.first - birth < 65 * 365.25 || !population.hasCondition(person, FRAILTY, month.first))
      return undefined;
    rate = REFERRALS_PER_YEAR.frail;
  }
  if (hashUniform(seed, kind, 'referral', person, monthIndex) >= rate / 12) return undefined;

  const r = new Random(seed, kind, 'timeline', person, monthIndex);
  const org = kind === 'mental-health' ? MENTAL_HEALTH_TRUST : COMMUNITY_TRUST;
  const day = r.int(month.first, month.last);
  // No one is referred after they die.
  if (day > death) return undefined;
  const id = `${org}R${recordNumber(person, monthIndex)}`;
  const lastDay = Math.min(death, day + r.int(1, LONGEST_REFERRAL_MONTHS) * 30);
  const contacts: Contact[] = [];
  const gap = kind === 'mental-health' ? [7, 35] : [2, 14];
  for (
    let d = day + r.int(1, 21);
    d <= lastDay && contacts.length < 99;
    d += r.int(gap[0] ?? 7, gap[1] ?? 35)
  ) {
    contacts.push({
      id: `${id}C${String(contacts.length + 1).padStart(2, '0')}`,
      day: d,
      minutes: kind === 'mental-health' ? r.int(20, 60) : r.int(10, 45),
      attendance: attendance(r),
      // Community nursing is mostly face to face at home; mental health mixes telephone in.
      medium: kind === 'community' ? (r.chance(0.95) ? '01' : '02') : r.chance(0.8) ? '01' : '02',
      activities:
        kind === 'community' ? Array.from({ length: r.int(1, 3) }, () => r.pick(COMMUNITY_ACTIVITIES)) : [],
    });
  }
  const referral: Referral = {
    kind,
    id,
    person,
    day,
    source: r.pick(
      kind === 'mental-health' ? ['A1', 'A1', 'A1', 'B2', 'H1', 'H2'] : ['A1', 'A1', 'H2', 'C1', 'A3'],
    ),
    reason: smi ? r.pick(SMI_REASONS) : '08',
    priority: r.pick(['1', '1', '1', '2']),
    discharge: death === lastDay ? NO_DAY : lastDay + r.int(1, 14),
    contacts,
    wardStays: [],
  };
  if (smi && r.chance(ADMISSION_SHARE_SMI)) {
    const admission = day + r.int(0, 10);
    const discharge = Math.min(death, admission + r.int(5, 60));
    const spellId = `${org}S${recordNumber(person, monthIndex)}`;
    referral.spell = {
      id: spellId,
      admission,
      discharge,
      method: r.pick(['21', '21', '11', '24']),
      destination: death === discharge ? '79' : r.pick(['19', '19', '19', '29']),
    };
    const transfer = discharge - admission > 10 && r.chance(0.3) ? admission + r.int(3, 10) : NO_DAY;
    referral.wardStays.push({
      id: `${spellId}W1`,
      start: admission,
      end: Math.min(transfer, discharge),
      ward: 'AMH01',
    });
    if (transfer !== NO_DAY)
      referral.wardStays.push({ id: `${spellId}W2`, start: transfer, end: discharge, ward: 'REH02' });
  }
  return referral;
}

/** Writes each month's MHSDS and CSDS rows, and the care contact truth. */
export class MentalHealthAndCommunityFeeds {
  private readonly truth: CsvFileWriter;

  constructor(
    private readonly world: World,
    truthDir: string,
  ) {
    this.truth = new CsvFileWriter(path.join(truthDir, 'care-contacts.csv'), CARE_CONTACT_TRUTH_COLUMNS);
  }

  writeMonth(
    month: Month,
    monthIndex: number,
    emit: EmitRow,
    subject: (person: number, day: number) => RowSubject,
  ): void {
    const population = this.world.population;
    const inMonth = (day: number) => day >= month.first && day <= month.last;
    // An end after the month's last day is not yet known in that month's return.
    const known = (day: number) => (day <= month.last ? formatDay(day) : '');
    const seed = this.world.seed;
    for (let p = 0; p < population.count; p++) {
      // Conditions only accumulate: someone not eligible at the month's end was not earlier either.
      const birth = population.birth[p] ?? NO_DAY;
      const mentalHealth =
        population.hasCondition(p, DEMENTIA, month.last) || hasSeriousMentalIllness(seed, p);
      const community = month.last - birth >= 65 * 365.25 && population.hasCondition(p, FRAILTY, month.last);
      if (!mentalHealth && !community) continue;
      for (const kind of ['mental-health', 'community'] as const) {
        if (kind === 'mental-health' ? !mentalHealth : !community) continue;
        for (let m = Math.max(0, monthIndex - LONGEST_REFERRAL_MONTHS - 1); m <= monthIndex; m++) {
          const referral = referralOf(this.world, p, m, kind);
          if (!referral) continue;
          const org = kind === 'mental-health' ? MENTAL_HEALTH_TRUST : COMMUNITY_TRUST;
          const prefix = kind === 'mental-health' ? 'mhsds' : 'csds';
          const patient = (day: number): Values => {
            const block = patientBlock(this.world, p, day, org);
            return {
              NHSNumber: block.NHS_Number ?? '',
              PersonBirthDate: block.Date_Of_Birth ?? '',
              Postcode: block.Postcode ?? '',
              LocalPatientId: block.Local_Patient_Identifier ?? '',
              Gender: block.Sex ?? '',
              EthnicCategory: block.Ethnic_Category ?? '',
              OrgIDGPPrac: block.GP_Practice_Code ?? '',
              OrgIDProv: org,
            };
          };
          const received = formatDay(referral.day);
          if (inMonth(referral.day)) {
            const discharged = referral.discharge <= month.last ? formatDay(referral.discharge) : '';
            emit(
              org,
              `${prefix}-referral`,
              {
                ...patient(referral.day),
                ServiceRequestId: referral.id,
                ReferralRequestReceivedDate: received,
                SourceOfReferralMH: referral.source,
                SourceOfReferralCommunity: referral.source,
                PrimReasonReferralMH: referral.reason,
                PriorityTypeCode: referral.priority,
                ServDischDate: discharged,
              },
              subject(p, referral.day),
            );
          }
          for (const contact of referral.contacts) {
            if (!inMonth(contact.day)) continue;
            const base = patient(contact.day);
            emit(
              org,
              `${prefix}-care-contact`,
              {
                ...base,
                CareContactId: contact.id,
                ServiceRequestId: referral.id,
                ReferralRequestReceivedDate: received,
                CareContDate: formatDay(contact.day),
                CareContTime: formatTime(8 * 60 + ((contact.day * 37 + p) % 540)),
                ClinContDurOfCareCont: String(contact.minutes),
                ConsMediumUsed: contact.medium,
                AttendOrDNACode: contact.attendance,
              },
              subject(p, contact.day),
            );
            this.truth.write([
              String(p),
              `${prefix}-care-contact`,
              referral.id,
              contact.id,
              formatDay(contact.day),
              contact.attendance === '5' ? 'Y' : 'N',
            ]);
            if (contact.attendance !== '5') continue;
            contact.activities.forEach((activity, i) =>
              emit(
                org,
                'csds-care-activity',
                {
                  ...base,
                  CareActIdentifier: `${contact.id}${i + 1}`,
                  CareContactId: contact.id,
                  CareContDate: formatDay(contact.day),
                  CodedProcedureSnomed: activity,
                  ClinContactDurOfCareAct: String(
                    Math.max(5, Math.round(contact.minutes / contact.activities.length)),
                  ),
                },
                subject(p, contact.day),
              ),
            );
          }
          const spell = referral.spell;
          if (spell && inMonth(spell.admission)) {
            emit(
              org,
              'mhsds-hospital-spell',
              {
                ...patient(spell.admission),
                HospProvSpellID: spell.id,
                ServiceRequestId: referral.id,
                ReferralRequestReceivedDate: received,
                StartDateHospProvSpell: formatDay(spell.admission),
                SourceAdmMHHospProvSpell: '19',
                MethAdmMHHospProvSpell: spell.method,
                DischDateHospProvSpell: known(spell.discharge),
                DestOfDischHospProvSpell: spell.discharge <= month.last ? spell.destination : '',
              },
              subject(p, spell.admission),
            );
          }
          for (const stay of referral.wardStays) {
            if (!spell || !inMonth(stay.start)) continue;
            emit(
              org,
              'mhsds-ward-stay',
              {
                ...patient(stay.start),
                WardStayId: stay.id,
                HospProvSpellID: spell.id,
                StartDateHospProvSpell: formatDay(spell.admission),
                StartDateWardStay: formatDay(stay.start),
                EndDateWardStay: known(stay.end),
                WardCode: stay.ward,
                WardSecLevel: '0',
              },
              subject(p, stay.start),
            );
          }
        }
      }
    }
  }

  close(): void {
    this.truth.close();
  }
}
