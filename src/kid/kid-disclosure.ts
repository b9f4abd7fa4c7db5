import {
  controlCount,
  controlRate,
  describePolicy,
  type ControlledCount,
  type ControlledRate,
  type DisclosurePolicy,
} from '../analytics/disclosure-control.ts';

/**
 * Disclosure control as every published KID figure applies it (conditions, frailty, the
 * person-level model, the risk model, the population health dashboard): the KID links many
 * controllers' data, so each summary says its rule, controls every count of people, and gives
 * a share as a percentage whose base is controlled too.
 */
export interface KidDisclosure {
  /** the rule in words, published with the figures */
  rule: string;
  count: (people: number) => ControlledCount;
  percent: (people: number, of: number) => ControlledRate;
}

export function kidDisclosure(policy: DisclosurePolicy): KidDisclosure {
  return {
    rule: describePolicy(policy),
    count: (people) => controlCount(people, policy),
    percent: (people, of) => controlRate(people, of, 'percent', policy),
  };
}
