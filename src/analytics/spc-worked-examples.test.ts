/**
 * xmrChart against published worked examples (issue 17).
 *
 * Every expected number below (data, means, limits, which points are special causes) is taken
 * from the source named above its example. The few assertions that go beyond a source (how
 * spc.ts's screening or MDC's run length changes the result on the source's data, or which
 * rule spc.ts attributes a flag to) say so in a comment. Points are numbered from 1, as the
 * sources number them.
 *
 * Two kinds of source:
 * - NHSRplotthedots, the NHS-R community's R package for NHS England's "Making Data Count"
 *   XmR charts (v0.1.x, 2021), whose integration tests snapshot the full output of `ptd_spc()`
 *   (data, mean, lpl, upl, outside_limits, close_to_limits, relative_to_mean, point_type) for
 *   charts of the NHSRdatasets `ae_attendances` data set (NHS England monthly A&E
 *   attendances, April 2016 to March 2019). The snapshots are R-serialised data frames in
 *   tests/testthat/_snaps/integration_tests.md (commit 0c096d8); the values here were read
 *   out of them. NHSRplotthedots screens moving ranges (`screen_outliers`, on by default), as
 *   spc.ts does, so these examples use spc.ts's default screening.
 * - Donald J. Wheeler, "Making Sense of Data: SPC for the Service Sector" (SPC Press, 2003),
 *   as transcribed with page numbers in the test suite of the statprocon Python package
 *   (github.com/mattmccormick/statprocon, tests/test_xmr.py). Wheeler computes limits from the
 *   plain average moving range with no screening, so these examples pass
 *   `screenMovingRanges: false`.
 */
import { describe, expect, it } from 'vitest';
import { type SpcResult, type SpcSegment, type SpecialCauseRule, xmrChart } from './spc.ts';

/** The 1-based numbers of the points a rule flagged. */
function pointsFlaggedBy(result: SpcResult, rule: SpecialCauseRule): number[] {
  return result.points.flatMap((p, i) => (p.rules.includes(rule) ? [i + 1] : []));
}

/** NHSRplotthedots' point_type for each point, from spc.ts's meaning. */
function pointTypes(result: SpcResult): string[] {
  return result.points.map((p) =>
    p.meaning === null
      ? 'common_cause'
      : p.meaning === 'improvement'
        ? 'special_cause_improvement'
        : p.meaning === 'concern'
          ? 'special_cause_concern'
          : 'special_cause_neutral',
  );
}

/** A point_type vector: common cause except the listed (1-based, inclusive) ranges. */
function expectedTypes(
  length: number,
  special: [from: number, to: number, type: 'special_cause_improvement' | 'special_cause_concern'][],
): string[] {
  const types = Array.from({ length }, () => 'common_cause');
  for (const [from, to, type] of special) {
    for (let n = from; n <= to; n++) types[n - 1] = type;
  }
  return types;
}

/**
 * A chart's (or one period's) mean and limits against a ptd_spc snapshot's mean, lpl and upl,
 * which it prints to 6 decimals: compared to 5.
 */
function expectSnapshotLimits(
  chart: Pick<SpcSegment, 'mean' | 'lowerProcessLimit' | 'upperProcessLimit'> | undefined,
  snapshot: { mean: number; lpl: number; upl: number },
): void {
  expect(chart?.mean).toBeCloseTo(snapshot.mean, 5);
  expect(chart?.lowerProcessLimit).toBeCloseTo(snapshot.lpl, 5);
  expect(chart?.upperProcessLimit).toBeCloseTo(snapshot.upl, 5);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

// NHSRplotthedots integration test "ae_all": `ae_attendances` summed over all organisations
// and types by month, April 2016 to March 2019 (36 months), column y of the snapshot.
const AE_ALL_ATTENDANCES = [
  1867781, 2070340, 1958802, 2079034, 1932901, 1952464, 2001816, 1907871, 1944567, 1895272, 1735619, 2015834,
  1949762, 2066789, 1994056, 2073944, 1924663, 1925961, 2044137, 1976971, 2003954, 2000086, 1820012, 2049785,
  1984369, 2164458, 2093942, 2179896, 1997854, 2005695, 2079492, 2037847, 2047518, 2113413, 1954947, 2167550,
];

describe('NHSRplotthedots (NHS-R community, 2021): A&E attendances, all of England', () => {
  // Source: NHSRplotthedots, tests/testthat/test-integration_tests.R, "ae_all attendances spc
  // returns expected values": ptd_spc(ae_all(), attendances, period), improvement direction
  // "increase". Snapshot (tests/testthat/_snaps/integration_tests.md): mean 2000538.944444,
  // lpl 1731844.364444, upl 2269233.524444 for every month; outside_limits all FALSE;
  // close_to_limits TRUE only at months 11, 23 and 28; point_type "common_cause" for all 36.
  it('matches the mean, limits and all-common-cause result of ptd_spc', () => {
    const result = xmrChart(AE_ALL_ATTENDANCES, { polarity: 'higher-is-better' });
    expectSnapshotLimits(result, { mean: 2000538.944444, lpl: 1731844.364444, upl: 2269233.524444 });
    // the package's 2-sigma ("close to limits") points, none of them two in three
    const nearLimit = AE_ALL_ATTENDANCES.flatMap((v, i) =>
      v > (result.upperTwoSigma ?? Infinity) || v < (result.lowerTwoSigma ?? -Infinity) ? [i + 1] : [],
    );
    expect(nearLimit).toEqual([11, 23, 28]);
    expect(pointTypes(result)).toEqual(expectedTypes(36, []));
    expect(result.points.every((p) => p.rules.length === 0)).toBe(true);
    expect(result.icon).toBe('common-cause');
  });

  // Source: the same test file, "ae_all attendances spc with rebase returns expected values":
  // ptd_spc(ae_all(), attendances, period, rebase = as.Date("2017-04-01")), so months 1-12
  // (April 2016 - March 2017) and 13-36 are separate periods. Snapshot: mean 1946858.416667,
  // lpl 1639947.374848, upl 2253769.458485 for months 1-12; mean 2027379.208333,
  // lpl 1772921.063986, upl 2281837.352681 for months 13-36; point_type "common_cause" for all.
  it('matches the rebased periods of ptd_spc (rebase at April 2017)', () => {
    const result = xmrChart(AE_ALL_ATTENDANCES, { polarity: 'higher-is-better', breaks: [12] });
    expect(result.segments).toHaveLength(2);
    const [first, second] = result.segments;
    expect(first?.start).toBe(0);
    expect(first?.end).toBe(11);
    expectSnapshotLimits(first, { mean: 1946858.416667, lpl: 1639947.374848, upl: 2253769.458485 });
    expect(second?.start).toBe(12);
    expect(second?.end).toBe(35);
    expectSnapshotLimits(second, { mean: 2027379.208333, lpl: 1772921.063986, upl: 2281837.352681 });
    // the chart's own figures are the latest period's
    expect(result.mean).toBeCloseTo(2027379.208333, 5);
    expect(pointTypes(result)).toEqual(expectedTypes(36, []));
  });
});

describe('NHSRplotthedots (NHS-R community, 2021): A&E attendances at one trust (RL4) by type', () => {
  // Source: NHSRplotthedots, tests/testthat/test-integration_tests.R, "ae_rl4_by_type
  // attendances spc returns expected values": ptd_spc(ae_rl4_by_type(), attendances, period,
  // facet_field = type), improvement direction "increase"; `ae_attendances` for org_code RL4,
  // April 2016 to March 2019, one chart per type. Values, limits and point types are from the
  // snapshot in tests/testthat/_snaps/integration_tests.md.

  // Facet type "1" (major A&E departments). Snapshot: mean 11204.388889, lpl 9668.276889,
  // upl 12740.500889; no point outside the limits; months 5-11 below the mean (relative_to_mean
  // -1) and "special_cause_concern"; months 34 and 36 close to the upper limit (month 35 not)
  // and "special_cause_improvement"; every other month "common_cause".
  const TYPE_1 = [
    10811, 11800, 11028, 11561, 10700, 10999, 11108, 10573, 10541, 10711, 9797, 11505, 11072, 11858, 11531,
    11752, 11009, 10884, 11436, 10892, 10705, 11186, 10018, 10985, 10709, 11639, 11548, 11844, 10965, 11336,
    11771, 11609, 11494, 12311, 11199, 12471,
  ];

  it('type 1: a shift of 7 months below the mean (concern) and two of three near the upper limit (improvement)', () => {
    const result = xmrChart(TYPE_1, { polarity: 'higher-is-better' });
    expectSnapshotLimits(result, { mean: 11204.388889, lpl: 9668.276889, upl: 12740.500889 });
    expect(pointTypes(result)).toEqual(
      expectedTypes(36, [
        [5, 11, 'special_cause_concern'],
        [34, 34, 'special_cause_improvement'],
        [36, 36, 'special_cause_improvement'],
      ]),
    );
    expect(pointsFlaggedBy(result, 'beyond-limit')).toEqual([]);
    expect(pointsFlaggedBy(result, 'shift')).toEqual(range(5, 11));
    expect(pointsFlaggedBy(result, 'two-of-three')).toEqual([34, 36]);
    expect(pointsFlaggedBy(result, 'trend')).toEqual([]);
    expect(result.icon).toBe('improvement-high');
  });

  // Facet type "other" (other A&E departments). Snapshot: mean 7945.75, lpl 6558.872941,
  // upl 9332.627059. Those limits are the screened ones: the jump from 4279 to 7409 between
  // months 5 and 6 (a moving range of 3130) is above 3.267 × the mean moving range and is left
  // out; unscreened limits would be wider. outside_limits TRUE at months 1-5 (below) and 22
  // (above); months 19-28 above the mean; close_to_limits TRUE at months 9, 13, 14, 21, 26, 33,
  // 34. point_type: "special_cause_concern" 1-5; "special_cause_improvement" 13-14, 19-28,
  // 33-34; "common_cause" otherwise.
  const OTHER = [
    4414, 4664, 4229, 4663, 4279, 7409, 8228, 8614, 9089, 7657, 8131, 8651, 9148, 9165, 8401, 8489, 7637,
    7856, 8782, 8386, 9138, 9830, 8527, 8862, 8466, 8906, 8278, 8344, 7876, 7506, 8226, 8479, 9090, 9270,
    8494, 8863,
  ];

  it('type other: months beyond the limits, a shift of 10 months above the mean and two-of-three pairs, with screened limits', () => {
    const result = xmrChart(OTHER, { polarity: 'higher-is-better' });
    expectSnapshotLimits(result, { mean: 7945.75, lpl: 6558.872941, upl: 9332.627059 });
    expect(result.mean).toBeCloseTo(7945.75, 6); // the snapshot's 7945.75 is exact, so to 6 decimals
    expect(pointTypes(result)).toEqual(
      expectedTypes(36, [
        [1, 5, 'special_cause_concern'],
        [13, 14, 'special_cause_improvement'],
        [19, 28, 'special_cause_improvement'],
        [33, 34, 'special_cause_improvement'],
      ]),
    );
    expect(pointsFlaggedBy(result, 'beyond-limit')).toEqual([1, 2, 3, 4, 5, 22]);
    expect(pointsFlaggedBy(result, 'shift')).toEqual(range(19, 28));
    expect(pointsFlaggedBy(result, 'trend')).toEqual([]);
    // NHSRplotthedots counts only points between the 2-sigma line and the limit towards two
    // in three (close_to_limits excludes outside_limits); spc.ts counts every point beyond the
    // 2-sigma line, so months 1-5 (also beyond the lower limit) and month 22 (beyond the upper
    // limit, next to month 21) carry the rule too. The flagged points and their meaning are the
    // same either way (compared above); only the rule attribution of points already flagged
    // differs.
    expect(pointsFlaggedBy(result, 'two-of-three')).toEqual([1, 2, 3, 4, 5, 13, 14, 21, 22, 33, 34]);
    // without screening the limits are wider than the package's
    const unscreened = xmrChart(OTHER, { polarity: 'higher-is-better', screenMovingRanges: false });
    expect(unscreened.upperProcessLimit ?? 0).toBeGreaterThan(9332.627059);
  });
});

describe('Wheeler, Making Sense of Data (SPC Press, 2003): XmR charts without screening', () => {
  // Source: Wheeler (2003), p. 382, "Data Set to Use When Verifying Software" (transcribed in
  // statprocon tests/test_xmr.py, test_verifying_software): 16 values; moving ranges 695, 0,
  // 375, 315, 140, 55, 200, 305, 55, 280, 115, 460, 385, 222, 1737; average 4135.50, average
  // moving range 355.93, LNPL 3188.72, UNPL 5082.28, URL 1163.19 (all to 2 decimals).
  // Wheeler does not screen: the last moving range (1737, above the URL of 1163.19) is in his
  // average moving range, so screenMovingRanges is false here (spc.ts's default would drop it).
  const VERIFY = [
    5045, 4350, 4350, 3975, 4290, 4430, 4485, 4285, 3980, 3925, 3645, 3760, 3300, 3685, 3463, 5200,
  ];

  it('p. 382 software verification data: average, average moving range and natural process limits', () => {
    const result = xmrChart(VERIFY, { polarity: 'neutral', screenMovingRanges: false });
    expect(result.movingRanges).toEqual([
      null,
      695,
      0,
      375,
      315,
      140,
      55,
      200,
      305,
      55,
      280,
      115,
      460,
      385,
      222,
      1737,
    ]);
    expect(result.mean).toBeCloseTo(4135.5, 2);
    expect(result.meanMovingRange).toBeCloseTo(355.93, 2);
    expect(result.lowerProcessLimit).toBeCloseTo(3188.72, 2);
    expect(result.upperProcessLimit).toBeCloseTo(5082.28, 2);
    expect((result.meanMovingRange ?? 0) * 3.268).toBeCloseTo(1163.19, 1); // Wheeler's URL
    // against Wheeler's limits only the last value (5200 > UNPL 5082.28) is outside them
    expect(pointsFlaggedBy(result, 'beyond-limit')).toEqual([16]);
    expect(result.points[15]?.direction).toBe('high');
    // Wheeler's run rule is eight successive values on one side of the central line; the data
    // have no such run (values 9-15 are seven below the average of 4135.50)
    expect(
      pointsFlaggedBy(
        xmrChart(VERIFY, { polarity: 'neutral', screenMovingRanges: false, shiftLength: 8 }),
        'shift',
      ),
    ).toEqual([]);
  });

  // Source: Wheeler (2003), p. 130, Figure 9.9 "XmR Chart for AM Premedication Peak Flow Rates
  // for Days 1 to 18" (transcribed in statprocon tests/test_xmr.py, test_peak_flow_rates):
  // average 183.1, average moving range 52.4, UNPL 322.5, LNPL 43.7, URL 171.3 (to 1 decimal).
  // The book's limits are computed from the rounded average and average moving range
  // (183.1 ± 2.66 × 52.4), so they are compared here to the nearest whole unit; the exact
  // values are 322.3 and 43.8, as statprocon's test also notes.
  const PEAK_FLOW = [
    120, 140, 100, 150, 260, 150, 100, 120, 300, 300, 275, 300, 140, 170, 150, 150, 190, 180,
  ];

  it('p. 130 peak flow rates: average and limits as printed, unscreened', () => {
    const result = xmrChart(PEAK_FLOW, { polarity: 'higher-is-better', screenMovingRanges: false });
    expect(result.movingRanges).toEqual([
      null,
      20,
      40,
      50,
      110,
      110,
      50,
      20,
      180,
      0,
      25,
      25,
      160,
      30,
      20,
      0,
      40,
      10,
    ]);
    expect(result.mean).toBeCloseTo(183.1, 1);
    expect(result.meanMovingRange).toBeCloseTo(52.4, 1);
    expect(result.upperProcessLimit).toBeCloseTo(322.5, 0);
    expect(result.lowerProcessLimit).toBeCloseTo(43.7, 0);
    // all 18 days lie inside Wheeler's limits (the highest is 300, the lowest 100)
    expect(pointsFlaggedBy(result, 'beyond-limit')).toEqual([]);
    // The moving range of 180 (days 8-9) is above Wheeler's URL of 171.3 (= 3.268 × 52.4):
    // spc.ts's default screening drops it, so the screened limits are narrower than the book's.
    const screened = xmrChart(PEAK_FLOW, { polarity: 'higher-is-better' });
    expect(screened.meanMovingRange ?? 0).toBeLessThan(52.4);
  });

  // Source: Wheeler (2003), Table 8.1 "Percentage of High School Seniors Who Smoke Daily"
  // (transcribed in statprocon tests/test_xmr.py, test_rule_2): 14 yearly values; values 7-14
  // form a run of eight below the central line (Wheeler's detection rule for runs about the
  // central line, eight successive values). The transcription gives no average or limits, so
  // only the run is asserted.
  const SMOKING = [21.3, 20.2, 20.9, 21.0, 18.8, 19.6, 18.7, 18.6, 18.1, 18.9, 19.2, 18.2, 17.3, 19.0];

  it('Table 8.1 smoking percentages: the run of eight below the central line (values 7-14)', () => {
    const wheeler = xmrChart(SMOKING, {
      polarity: 'lower-is-better',
      screenMovingRanges: false,
      shiftLength: 8,
    });
    expect(pointsFlaggedBy(wheeler, 'shift')).toEqual(range(7, 14));
    expect(wheeler.points.slice(6).every((p) => p.direction === 'low' && p.meaning === 'improvement')).toBe(
      true,
    );
    // MDC's shorter run (7) finds the same run: value 5 is below the average too, but value 6 breaks it
    const mdc = xmrChart(SMOKING, { polarity: 'lower-is-better', screenMovingRanges: false });
    expect(pointsFlaggedBy(mdc, 'shift')).toEqual(range(7, 14));
  });
});
