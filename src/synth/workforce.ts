/**
 * ESR staff for each trust: staff are their own people (not patients), with staff groups,
 * Agenda for Change bands, FTE, contract, starters, leavers and sickness absence
 * (reference digest §5; magnitudes in `synth-rates.ts` WORKFORCE).
 */
import { ACUTE_TRUSTS, COMMUNITY_TRUST, MENTAL_HEALTH_TRUST } from './organisations.ts';
import { NO_DAY } from './population.ts';
import { hashKey, Random, WeightedTable } from './random.ts';
import { formatDay, type Month } from './synth-dates.ts';
import { WORKFORCE } from './synth-rates.ts';
import { laOfAddress, type World } from './world.ts';
import type { Values } from './feed-rows.ts';

export interface Staff {
  org: string;
  employeeNumber: string;
  staffGroup: string;
  band: string;
  fte: number;
  contract: string;
  start: number;
  end: number;
  reason: string;
}

const GROUPS = new WeightedTable(WORKFORCE.staffGroups.map((group) => [group, group[1]] as const));
const OCCUPATION: Record<string, string> = {
  'Nursing and Midwifery Registered': 'N0A',
  'Additional Clinical Services': 'H1A',
  'Administrative and Clerical': 'G0A',
  'Medical and Dental': 'M0A',
  'Allied Health Professionals': 'S0A',
  'Estates and Ancillary': 'G7A',
  'Add Prof Scientific and Technic': 'S5A',
  'Healthcare Scientists': 'S4A',
};
const REASONS = [
  'Voluntary Resignation - Work Life Balance',
  'Voluntary Resignation - Relocation',
  'Voluntary Resignation - Promotion',
  'Voluntary Resignation - Other/Not Known',
  'Retirement Age',
  'End of Fixed Term Contract',
];

function newStaff(r: Random, org: string, serial: number, start: number, windowEnd: number): Staff {
  const [group, , bands] = GROUPS.draw(r);
  const grade = r.pick(bands);
  const medical = group === 'Medical and Dental';
  const contract = r.chance(0.88) ? 'Permanent' : 'Fixed Term Temp';
  // Leaving is a constant hazard at the annual turnover rate.
  const stay = Math.round((-Math.log(1 - r.next()) / WORKFORCE.annualTurnover) * 365.25);
  const end = start + stay <= windowEnd ? start + stay : NO_DAY;
  return {
    org,
    employeeNumber: `${String(10000000 + (hashKey('employee', org, serial) % 89999999))}`,
    staffGroup: group,
    band: medical ? 'MED' : grade,
    fte: r.chance(0.7) ? 1 : Math.round((0.4 + r.next() * 0.5) * 100) / 100,
    contract,
    start,
    end,
    reason:
      end === NO_DAY ? '' : contract === 'Fixed Term Temp' ? 'End of Fixed Term Contract' : r.pick(REASONS),
  };
}

/** Staff in post at the window's start plus the starters who replace each leaver. */
export function buildStaff(world: World): Staff[] {
  const r = new Random(world.seed, 'staff');
  const catchment = new Map<string, number>();
  const population = world.population;
  for (let p = 0; p < population.count; p++) {
    if ((population.birth[p] ?? 0) >= world.window.start) continue;
    const trust =
      world.geography.localAuthorities[laOfAddress(world, population.addressAt(p, world.window.start))]
        ?.acuteTrust ?? 'RWF';
    catchment.set(trust, (catchment.get(trust) ?? 0) + 1);
  }
  const served = population.count;
  const counts: [string, number][] = [
    ...ACUTE_TRUSTS.map(
      (trust) =>
        [trust, ((catchment.get(trust) ?? 0) * (WORKFORCE.staffPerThousand.acute ?? 11)) / 1000] as [
          string,
          number,
        ],
    ),
    [COMMUNITY_TRUST, (served * (WORKFORCE.staffPerThousand.community ?? 2.7)) / 1000],
    [MENTAL_HEALTH_TRUST, (served * (WORKFORCE.staffPerThousand['mental-health'] ?? 1.7)) / 1000],
  ];
  const staff: Staff[] = [];
  for (const [org, expected] of counts) {
    const count = Math.max(3, Math.round(expected));
    const queue: Staff[] = [];
    for (let i = 0; i < count; i++)
      queue.push(
        newStaff(
          r,
          org,
          staff.length + queue.length,
          world.window.start - r.int(30, 20 * 365),
          world.window.end,
        ),
      );
    // Each leaver is replaced by a starter a month or three later.
    for (let i = 0; i < queue.length; i++) {
      const member = queue[i] as Staff;
      if (member.end !== NO_DAY) {
        const start = member.end + r.int(30, 90);
        if (start <= world.window.end)
          queue.push(newStaff(r, org, staff.length + queue.length, start, world.window.end));
      }
    }
    staff.push(...queue);
  }
  return staff;
}

/** A staff member's monthly ESR snapshot row, if in post during the month. */
export function esrRows(member: Staff, month: Month, seed: number, serial: number): Values[] {
  if (member.start > month.last || member.end < month.first) return [];
  const leaving = member.end >= month.first && member.end <= month.last;
  const r = new Random(seed, 'sickness', serial, month.first);
  let sick = 0;
  // About 4.5% of FTE days are lost: most months none, some a short episode, a few long ones.
  if (r.chance(0.2)) sick = r.chance(0.8) ? r.int(1, 5) : r.int(6, 31);
  sick = Math.min(sick, month.days);
  return [
    {
      Employee_Number: member.employeeNumber,
      Assignment_Number: `${member.employeeNumber}-1`,
      Snapshot_Month: formatDay(month.first),
      Organisation_Code: member.org,
      Staff_Group: member.staffGroup,
      Occupation_Code: OCCUPATION[member.staffGroup] ?? 'G0A',
      Pay_Band: member.band,
      Contracted_FTE: member.fte.toFixed(2),
      Contract_Type: member.contract,
      Assignment_Start_Date: formatDay(member.start),
      Assignment_End_Date: leaving ? formatDay(member.end) : '',
      Reason_For_Leaving: leaving ? member.reason : '',
      Sickness_Absence_FTE_Days: (sick * member.fte).toFixed(2),
    },
  ];
}
