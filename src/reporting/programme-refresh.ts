/**
 * Brings the plan and the RAID log up to date with Kernel's records: a tied milestone
 * whose fact has appeared is marked done (on the fact's day, with the fact as evidence); a
 * planned milestone whose due month has ended is marked slipped; automatic issues open,
 * change, reopen and close with the state that raises them. Every change is made by
 * `system`, audited and kept in the item's history.
 *
 * Every read of the plan, the RAID log or an update refreshes first, so nothing the team
 * reads is stale. It writes only when something changed; on PostgreSQL the audit chain's
 * lock serialises two refreshes, and the second finds nothing left to do.
 */
import { inTransaction } from '../governance/governance-values.ts';
import type { Queryable } from '../store/store.ts';
import { findTieFact, parseTie, type TieFact } from './milestone-ties.ts';
import { readPlan, writeMilestone, type Milestone } from './programme-plan.ts';
import { appendHistory, SYSTEM } from './programme-values.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { changeRaidItem, findAutoItem, listRaidItems, raiseRaidItem } from './raid-log.ts';
import { autoConditions, readRuleOptions, type AutoCondition, type RuleOptions } from './raid-rules.ts';

export interface RefreshOptions {
  /** the clock; tests and the demo's replay pass one */
  now?: Date;
  rules?: RuleOptions;
}

export interface RefreshResult {
  milestonesDone: string[];
  milestonesSlipped: string[];
  raidOpened: string[];
  raidReopened: string[];
  raidUpdated: string[];
  raidClosed: string[];
}

interface Pending {
  done: { milestone: Milestone; fact: TieFact }[];
  slipped: Milestone[];
  conditions: AutoCondition[];
  /** open automatic items whose state has cleared */
  cleared: string[];
  /** conditions with no open item, or whose open item says something else */
  changed: AutoCondition[];
}

async function pending(q: Queryable, now: Date, rules: RuleOptions): Promise<Pending> {
  const thisMonth = now.toISOString().slice(0, 7);
  const plan = await readPlan(q);
  const milestones = plan.workstreams.flatMap((w) => w.milestones);
  const done: Pending['done'] = [];
  const slipped: Milestone[] = [];
  for (const m of milestones) {
    if (m.state === 'done') continue;
    let fact: TieFact | null = null;
    if (m.tie) {
      try {
        fact = await findTieFact(q, parseTie(m.tie));
      } catch {
        fact = null; // a tie naming a dataset since removed from the catalogue completes nothing
      }
    }
    if (fact) done.push({ milestone: m, fact });
    else if (m.state === 'planned' && m.due < thisMonth) slipped.push(m);
  }
  const conditions = await autoConditions(q, now, rules);
  const keys = new Set(conditions.map((c) => c.key));
  const automatic = await listRaidItems(q, { automatic: true });
  const cleared = automatic.filter((i) => i.state === 'open' && !keys.has(i.autoKey ?? '')).map((i) => i.id);
  const changed = conditions.filter((c) => {
    const item = automatic.find((i) => i.autoKey === c.key);
    return !item || item.state !== 'open' || item.title !== c.title || item.description !== c.description;
  });
  return { done, slipped, conditions, cleared, changed };
}

export async function refreshProgramme(q: Queryable, options: RefreshOptions = {}): Promise<RefreshResult> {
  const now = options.now ?? new Date();
  const rules = options.rules ?? (await readRuleOptions(q));
  const result: RefreshResult = {
    milestonesDone: [],
    milestonesSlipped: [],
    raidOpened: [],
    raidReopened: [],
    raidUpdated: [],
    raidClosed: [],
  };
  const first = await pending(q, now, rules);
  if (!first.done.length && !first.slipped.length && !first.cleared.length && !first.changed.length) {
    return result;
  }
  return inTransaction(q, async (tx) => {
    if (tx.dialect.lockAuditChain) await tx.exec(tx.dialect.lockAuditChain);
    // Again under the lock: another refresh may have done it meanwhile.
    const work = await pending(tx, now, rules);
    for (const { milestone, fact } of work.done) {
      await writeMilestone(
        tx,
        { ...milestone, state: 'done', doneOn: fact.on, evidence: fact.evidence, evidenceHref: fact.href },
        SYSTEM.actor,
      );
      await appendHistory(tx, milestone.id, {
        actor: SYSTEM.actor,
        action: 'done',
        changes: { state: 'done', doneOn: fact.on, evidence: fact.evidence, evidenceHref: fact.href },
        note: `Completed by Kernel's records (${milestone.tie ?? ''})`,
      });
      await appendAudit(tx, {
        actor: SYSTEM.actor,
        action: 'plan.milestone-done',
        target: `milestone:${milestone.id}`,
        details: { doneOn: fact.on, tie: milestone.tie },
      });
      result.milestonesDone.push(milestone.id);
    }
    for (const milestone of work.slipped) {
      await writeMilestone(tx, { ...milestone, state: 'slipped' }, SYSTEM.actor);
      await appendHistory(tx, milestone.id, {
        actor: SYSTEM.actor,
        action: 'slipped',
        changes: { state: 'slipped' },
        note: `Due in ${milestone.due} and not done by its end`,
      });
      await appendAudit(tx, {
        actor: SYSTEM.actor,
        action: 'plan.milestone-slipped',
        target: `milestone:${milestone.id}`,
        details: { due: milestone.due },
      });
      result.milestonesSlipped.push(milestone.id);
    }
    for (const condition of work.changed) {
      const item = await findAutoItem(tx, condition.key);
      const fields = {
        title: condition.title,
        description: condition.description,
        impact: condition.impact,
        evidenceHref: condition.evidenceHref,
      };
      if (!item) {
        const raised = await raiseRaidItem(tx, { kind: 'issue', owner: condition.owner, ...fields }, SYSTEM, {
          autoKey: condition.key,
          now,
        });
        result.raidOpened.push(raised.id);
      } else if (item.state !== 'open') {
        await changeRaidItem(
          tx,
          item.id,
          { ...fields, state: 'open', note: 'Kernel: the state is back' },
          SYSTEM,
          now,
        );
        result.raidReopened.push(item.id);
      } else {
        await changeRaidItem(tx, item.id, { ...fields, note: 'Kernel: the state changed' }, SYSTEM, now);
        result.raidUpdated.push(item.id);
      }
    }
    for (const id of work.cleared) {
      await changeRaidItem(tx, id, { state: 'closed', note: 'Kernel: the state has cleared' }, SYSTEM, now);
      result.raidClosed.push(id);
    }
    return result;
  });
}
