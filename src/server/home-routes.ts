import { scheduledMonths } from '../signoff/feed-schedules.ts';
import { listSignOffs } from '../signoff/sign-off.ts';
import { listUseCases } from '../governance/use-cases.ts';
import { listLoads, type LoadFilter } from '../ingest/load-history.ts';
import { listUsers } from './auth/user-accounts.ts';
import { LOADS_ACCESS, narrowToOwnOrg, readLoads } from './loads-routes.ts';
import { mayUse, type RouteDeclaration, type ServerDeps } from './routes.ts';
import { warehouseSummary } from './warehouse-summary.ts';

interface ActionItem {
  text: string;
  href: string;
}

/** The home page: what the warehouse holds, the latest loads, what needs this person. */
export function homeRoutes(deps: ServerDeps, datasetCount: () => number): RouteDeclaration[] {
  const now = deps.now ?? (() => new Date());
  return [
    {
      method: 'GET',
      path: '/',
      kind: 'page',
      access: 'signed-in',
      nav: 'Home',
      summary: 'Home: what the warehouse holds, the latest loads, anything needing your action',
      handle: async (r) => {
        const principal = r.principal;
        const ownOrg = principal?.role === 'provider' ? (principal.org ?? '-') : null;
        const seesLoads = mayUse(LOADS_ACCESS, principal);
        const [summary, latest, problems] = await Promise.all([
          warehouseSummary(deps.store, ownOrg),
          seesLoads
            ? readLoads(deps, r, narrowToOwnOrg<LoadFilter>({ limit: 5 }, principal)).then(
                (page) => page.loads,
              )
            : Promise.resolve([]),
          seesLoads && (principal?.role === 'provider' || principal?.role === 'admin')
            ? listLoads(deps.store, narrowToOwnOrg<LoadFilter>({ limit: 200 }, principal))
            : Promise.resolve([]),
        ]);
        const actions: ActionItem[] = [];
        const monthAgo = new Date(now().getTime() - 30 * 86_400_000).toISOString();
        for (const load of problems) {
          if ((load.state === 'refused' || load.state === 'failed') && load.startedAt >= monthAgo) {
            actions.push({
              text: `${load.org} ${load.dataset} ${load.period ?? ''}: load ${load.state}. Read the report, fix the file and send it again`,
              href: `/loads/${load.loadId}`,
            });
          }
          if (actions.length >= 10) break;
        }
        // Late feeds: a provider's own, every one for an administrator (issue 16).
        if (principal?.role === 'provider' || principal?.role === 'admin') {
          const own = principal.role === 'provider' ? (principal.org ?? '-') : undefined;
          const late = (await scheduledMonths(deps.store, now(), own)).filter((m) => m.state === 'late');
          for (const m of late.slice(0, 10)) {
            actions.push({
              text: `${m.dataset} from ${m.org} for ${m.period} is late: it was due by ${m.dueOn}`,
              href: `/catalogue/coverage?org=${m.org}`,
            });
          }
        }
        // Months waiting for the person: a BI lead's own to sign off, an administrator's to publish.
        if (principal?.role === 'provider' || principal?.role === 'admin') {
          const caller = { actor: r.actor, role: principal.role, org: principal.org };
          const waiting = (await listSignOffs(deps.store, caller)).filter((m) =>
            principal.role === 'provider'
              ? m.state === 'loaded' || m.state === 'checked'
              : m.state === 'signed-off',
          );
          for (const m of waiting.slice(0, 10)) {
            actions.push({
              text: `${m.dataset} from ${m.org} for ${m.period} waits for ${principal.role === 'provider' ? 'your sign-off' : 'publishing'}`,
              href: `/signoff/${m.org}/${m.dataset}/${m.period}`,
            });
          }
        }
        if (principal?.role === 'ig-lead' || principal?.role === 'admin') {
          // An IG lead approves for its own organisation; an administrator sees every wait.
          const own = principal.role === 'ig-lead' ? principal.org : null;
          const proposed = await listUseCases(deps.store, { state: ['proposed'] });
          for (const useCase of proposed) {
            if (own !== null && !useCase.awaiting.includes(own)) continue;
            actions.push({
              text: `Use case ${useCase.id} “${useCase.title}” awaits approval from ${own ?? useCase.awaiting.join(', ')}`,
              href: `/use-cases/${useCase.id}`,
            });
          }
        }
        if (principal?.role === 'admin') {
          const stamp = now().toISOString();
          for (const user of await listUsers(deps.store)) {
            if (user.lockedUntil && user.lockedUntil > stamp) {
              actions.push({
                text: `The account ${user.email} is locked after failed sign-ins`,
                href: '/audit?action=auth.',
              });
            }
          }
        }
        return r.render('home.njk', {
          title: 'Home',
          summary,
          datasets: datasetCount(),
          latest,
          seesLoads,
          actions,
          ownOrg,
          passwordChanged: r.query('password-changed') === '1',
        });
      },
    },
  ];
}
