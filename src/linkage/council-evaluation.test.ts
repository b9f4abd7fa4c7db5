import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newLinkageSecret } from '../privacy/linkage-secret.ts';
import { generateWorld } from '../synth/generate-world.ts';
import { evaluateCouncilLinkage } from './council-evaluation.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-council-linkage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('council records linked to the master index on encodings, against the world truth', () => {
  it('links council records with and without NHS numbers to a complete index, and to the PMI feeds as sent', async () => {
    const world = path.join(dir, 'world');
    generateWorld({ out: world, people: 20_000, seed: 5, from: '2020-04', to: '2020-06' });
    const secret = newLinkageSecret();
    const work = path.join(dir, 'work');
    const complete = await evaluateCouncilLinkage({ world, work, secret, index: 'whole-population' });
    expect(complete.linkable).toBe(complete.councilRecords);
    expect(complete.withoutNhsNumber).toBeGreaterThan(0);
    expect(complete.all.precision).toBeGreaterThanOrEqual(0.99);
    expect(complete.all.recall).toBeGreaterThanOrEqual(0.99);
    expect(complete.noNhsNumber.precision).toBeGreaterThanOrEqual(0.99);
    expect(complete.noNhsNumber.recall).toBeGreaterThanOrEqual(0.98);
    // The council feeds carry the identity errors councils make (COUNCIL_DEFECT_RATES), and
    // records with them still link to the right person.
    const errors = ['mistyped-name', 'nickname', 'old-address'];
    for (const kind of errors) expect(complete.byError[kind]?.records ?? 0, kind).toBeGreaterThan(0);
    const withErrors = errors.map((k) => complete.byError[k]!.quality);
    const right = withErrors.reduce((n, q) => n + q.truePositives, 0);
    const linkable = withErrors.reduce((n, q) => n + q.truePositives + q.falseNegatives, 0);
    expect(right / linkable).toBeGreaterThanOrEqual(0.9);
    // Against the PMI feeds as sent: GP practices send their whole register in the first
    // month (the person spine's baseline), so every council person is in them to be found.
    const feeds = await evaluateCouncilLinkage({ world, work: path.join(dir, 'work2'), secret });
    expect(feeds.linkable).toBe(feeds.councilRecords);
    expect(feeds.all.precision).toBeGreaterThanOrEqual(0.99);
    expect(feeds.all.recall).toBeGreaterThanOrEqual(0.98);
  }, 120_000);
});
