/** Issue 12: one list of members, which governance, the catalogue and the synthetic world agree on. */
import { describe, expect, it } from 'vitest';
import { ORG_TYPES } from '../governance/organisations.ts';
import { KENT_AND_MEDWAY_MEMBERS } from '../governance/kent-medway-members.ts';
import { MEMBER_ORGANISATIONS, suppliesOf } from '../synth/organisations.ts';
import { getDataset, listDatasets } from './catalogue.ts';
import { GP_PRACTICE_SUPPLIES, MEMBERS } from './members.ts';

describe('the members', () => {
  it('are each of a known type, once, and supply only datasets their type may', () => {
    expect(new Set(MEMBERS.map((m) => m.code)).size).toBe(MEMBERS.length);
    for (const member of MEMBERS) {
      expect([member.code, (ORG_TYPES as readonly string[]).includes(member.type)]).toEqual([
        member.code,
        true,
      ]);
      for (const dataset of member.supplies) {
        // the catalogue's `suppliers` say which kinds of organisation may send a dataset
        expect([member.code, dataset, getDataset(dataset).suppliers.includes(member.type)]).toEqual([
          member.code,
          dataset,
          true,
        ]);
      }
    }
    for (const dataset of GP_PRACTICE_SUPPLIES) expect(getDataset(dataset).suppliers).toContain('gp');
    // every dataset has someone to send it
    const sent = new Set([...MEMBERS.flatMap((m) => m.supplies), ...GP_PRACTICE_SUPPLIES]);
    for (const spec of listDatasets()) expect([spec.id, sent.has(spec.id)]).toEqual([spec.id, true]);
  });

  it('are the same members in governance and in the synthetic world', () => {
    expect(KENT_AND_MEDWAY_MEMBERS.map((o) => [o.code, o.name, o.type])).toEqual(
      MEMBERS.map((m) => [m.code, m.name, m.type]),
    );
    const world = MEMBERS.filter((m) => m.syntheticWorld);
    expect(MEMBER_ORGANISATIONS.map((o) => [o.code, o.name, o.type])).toEqual(
      world.map((m) => [m.code, m.name, m.type]),
    );
    for (const org of MEMBER_ORGANISATIONS) {
      expect([org.code, suppliesOf(org)]).toEqual([
        org.code,
        MEMBERS.find((m) => m.code === org.code)?.supplies,
      ]);
    }
  });
});
