/**
 * Headline rates of a generated world, computed from its feed files and truth the way an
 * analyst would compute them from real extracts. docs/synthetic-data.md states the range
 * each must fall in, and a test holds the generator to them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCsv } from '../files/csv-file-writer.ts';
import { nationalFeedTable } from './world-feeds.ts';
import { AGE_BANDS, ageBandLabel } from './synth-rates.ts';

export interface HeadlineRates {
  personYears: number;
  birthsPer1000: number;
  deathsPer1000: number;
  emergencyAdmissionsPer1000: number;
  emergencyAdmissionsPer1000ByAge: Record<string, number>;
  emergencyAdmissionsPer1000ByImdQuintile: Record<string, number>;
  electiveAdmissionsPer1000: number;
  dayCaseShare: number;
  edAttendancesPer1000: number;
  edFourHourMetShare: number;
  outpatientAppointmentsPer1000: number;
  outpatientDnaRate: number;
  outpatientFollowUpsPerFirst: number;
  caesareanShare: number;
  pretermPer1000: number;
  smokingAtBookingShare: number;
  pphPer1000: number;
  breastMilkFirstFeedShare: number;
  sicknessAbsenceRate: number;
}

function rows(file: string): Record<string, string>[] {
  const [header = [], ...data] = parseCsv(readFileSync(file, 'utf8'));
  return data.map((row) => Object.fromEntries(header.map((h, i) => [h, row[i] ?? ''])));
}

/** A feed file's rows by the specification's names (a local layout read through its mapping). */
function feedFileRows(dir: string, file: string): Record<string, string>[] {
  const { header, rows: data } = nationalFeedTable(dir, file);
  return data.map((row) => Object.fromEntries(header.map((h, i) => [h, row[i] ?? ''])));
}

function feedRows(dir: string, dataset: string): Record<string, string>[] {
  const all: Record<string, string>[] = [];
  const feeds = path.join(dir, 'feeds');
  for (const org of readdirSync(feeds)) {
    let months: string[] = [];
    try {
      months = readdirSync(path.join(feeds, org, dataset));
    } catch {
      continue;
    }
    for (const month of months.sort())
      all.push(...feedFileRows(dir, path.join('feeds', org, dataset, month)));
  }
  return all;
}

const DAY = 86_400_000;
const days = (text: string): number => Date.parse(`${text.slice(0, 10)}T00:00:00Z`) / DAY;
const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);

function band(age: number): string {
  let index = 0;
  AGE_BANDS.forEach((low, i) => {
    if (age >= low) index = i;
  });
  return ageBandLabel(index);
}

export function headlineRates(dir: string, window: { from: string; to: string }): HeadlineRates {
  const start = days(`${window.from}-01`);
  const [toYear, toMonth] = window.to.split('-').map(Number) as [number, number];
  const end = Date.UTC(toYear, toMonth, 1) / DAY - 1;
  const people = rows(path.join(dir, 'truth', 'people.csv'));
  const bandYears: Record<string, number> = {};
  let personYears = 0;
  let deaths = 0;
  let births = 0;
  for (const p of people) {
    const birth = days(p.birth_date ?? '');
    const death = p.death_date ? days(p.death_date) : Infinity;
    const from = Math.max(start, birth);
    const to = Math.min(end + 1, death);
    if (to <= from) continue;
    const years = (to - from) / 365.25;
    personYears += years;
    const b = band(Math.floor(((from + to) / 2 - birth) / 365.25));
    bandYears[b] = (bandYears[b] ?? 0) + years;
    if (death <= end && death >= start) deaths++;
    if (birth >= start && birth <= end) births++;
  }
  // Deprivation: the IMD quintile of each admission's postcode, against the population's.
  const postcodes = new Map(
    rows(path.join(dir, 'reference', 'postcodes.csv')).map((r) => [r.pcds ?? '', Number(r.imd)]),
  );
  const quintile = (postcode: string): string => {
    const rank = postcodes.get(postcode);
    return rank === undefined ? '' : String(Math.min(5, Math.ceil((rank * 5) / 32844)));
  };
  const addresses = rows(path.join(dir, 'truth', 'addresses.csv'));
  const householdQuintileYears: Record<string, number> = {};
  const firstAddress = new Map<string, string>();
  for (const a of addresses)
    if (!firstAddress.has(a.household_id ?? '') || (a.from_date ?? '') <= `${window.from}-01`)
      firstAddress.set(a.household_id ?? '', a.postcode ?? '');
  for (const p of people) {
    const birth = days(p.birth_date ?? '');
    const death = p.death_date ? days(p.death_date) : Infinity;
    const years = Math.max(0, Math.min(end + 1, death) - Math.max(start, birth)) / 365.25;
    const q = quintile(firstAddress.get(p.household_id ?? '') ?? '');
    householdQuintileYears[q] = (householdQuintileYears[q] ?? 0) + years;
  }

  const apc = feedRows(dir, 'apc').filter((r) => r.Episode_Number === '01');
  const emergency = apc.filter((r) => (r.Admission_Method ?? '').startsWith('2'));
  const elective = apc.filter((r) => /^1[123]$/.test(r.Admission_Method ?? ''));
  const byAge: Record<string, number> = {};
  const byQuintile: Record<string, number> = {};
  for (const r of emergency) {
    const b = band(Math.floor((days(r.Admission_Date ?? '') - days(r.Person_Birth_Date ?? '')) / 365.25));
    byAge[b] = (byAge[b] ?? 0) + 1;
    const q = quintile(r.Postcode_Usual_Address ?? '');
    byQuintile[q] = (byQuintile[q] ?? 0) + 1;
  }
  const ecds = feedRows(dir, 'ecds');
  const met = ecds.filter(
    (r) =>
      (Date.parse(r.EC_Departure_Date_Time ?? '') - Date.parse(r.EC_Arrival_Date_Time ?? '')) / 60000 <= 240,
  ).length;
  const op = feedRows(dir, 'op');
  const status = (codes: string[]): number =>
    op.filter((r) => codes.includes(r.Attended_Or_Did_Not_Attend ?? '')).length;
  const firsts = op.filter((r) => ['1', '3'].includes(r.First_Attendance ?? '')).length;
  const follows = op.filter((r) => ['2', '4'].includes(r.First_Attendance ?? '')).length;
  const deliveries = feedRows(dir, 'msds-delivery');
  const babies = feedRows(dir, 'msds-baby');
  const bookings = feedRows(dir, 'msds-booking');
  const singletonLive = babies.filter((r) => r.PregOutcome === '01');
  const esr = feedRows(dir, 'esr');
  let sick = 0;
  let available = 0;
  for (const r of esr) {
    const [y, m] = (r.Snapshot_Month ?? '').split('-').map(Number) as [number, number];
    const monthDays = new Date(Date.UTC(y, m, 0)).getUTCDate();
    if (!Number.isFinite(monthDays)) continue;
    sick += Number(r.Sickness_Absence_FTE_Days) || 0;
    available += (Number(r.Contracted_FTE) || 0) * monthDays;
  }
  const per1000 = (count: number, years: number): number => Math.round(ratio(count * 1000, years) * 10) / 10;
  const share = (a: number, b: number): number => Math.round(ratio(a, b) * 1000) / 1000;
  return {
    personYears: Math.round(personYears),
    birthsPer1000: per1000(births, personYears),
    deathsPer1000: per1000(deaths, personYears),
    emergencyAdmissionsPer1000: per1000(emergency.length, personYears),
    emergencyAdmissionsPer1000ByAge: Object.fromEntries(
      Object.keys(bandYears).map((b) => [b, per1000(byAge[b] ?? 0, bandYears[b] ?? 0)]),
    ),
    emergencyAdmissionsPer1000ByImdQuintile: Object.fromEntries(
      ['1', '2', '3', '4', '5'].map((q) => [q, per1000(byQuintile[q] ?? 0, householdQuintileYears[q] ?? 0)]),
    ),
    electiveAdmissionsPer1000: per1000(elective.length, personYears),
    dayCaseShare: share(elective.filter((r) => r.Patient_Classification === '2').length, elective.length),
    edAttendancesPer1000: per1000(ecds.length, personYears),
    edFourHourMetShare: share(met, ecds.length),
    outpatientAppointmentsPer1000: per1000(op.length, personYears),
    outpatientDnaRate: share(status(['3']), status(['5', '6', '3'])),
    outpatientFollowUpsPerFirst: Math.round(ratio(follows, firsts) * 100) / 100,
    caesareanShare: share(
      babies.filter((r) => ['7', '8'].includes(r.DeliveryMethodCode ?? '')).length,
      babies.length,
    ),
    pretermPer1000: per1000(
      singletonLive.filter(
        (r) => Number(r.GestationLengthBirth) >= 154 && Number(r.GestationLengthBirth) <= 258,
      ).length,
      singletonLive.length,
    ),
    smokingAtBookingShare: share(
      bookings.filter((r) => r.SmokingStatusBooking === 'Smoker').length,
      bookings.filter((r) => r.SmokingStatusBooking).length,
    ),
    pphPer1000: per1000(deliveries.filter((r) => Number(r.BloodLossMl) >= 1500).length, deliveries.length),
    breastMilkFirstFeedShare: share(
      babies.filter((r) => ['01', '02'].includes(r.BabyFirstFeedIndCode ?? '')).length,
      babies.filter((r) => r.BabyFirstFeedIndCode).length,
    ),
    sicknessAbsenceRate: share(sick, available),
  };
}
