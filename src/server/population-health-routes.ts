/**
 * The population health dashboard (docs/kid.md, "Population health dashboard"): the portal
 * page `/kid/population-health` and the API `GET /api/v1/kid/population-health`. Both call
 * `readPopulationHealth` (src/kid/population-health.ts), which opens an audited KID read
 * under the chosen use case and answers disclosure-controlled figures; the page draws them.
 */
import { KernelError } from '../errors.ts';
import { readUserOf } from '../governance/access-policy.ts';
import {
  mayOpenPopulationHealth,
  parseScope,
  populationHealthUseCases,
  readPopulationHealth,
  readPopulationHealthPage,
  type DashboardScope,
} from '../kid/population-health.ts';
import { populationHealthSchema } from '../kid/population-health-schemas.ts';
import { populationHealthView } from '../kid/population-health-view.ts';
import type { ParamDoc, RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';

const WHO = ['admin', 'provider', 'analyst', 'ig-lead', 'viewer'] as const;

const QUERY: ParamDoc[] = [
  {
    name: 'scope',
    description: 'ics (default), practice:CODE, pcn:CODE or lsoa:CODE, e.g. practice:G82001',
  },
  {
    name: 'useCase',
    description: 'the use case to read under (default: the first of yours under which the dashboard opens)',
  },
  {
    name: 'date',
    description: 'the day, YYYY-MM-DD (default: the person-level model’s date, or the latest PMI record’s)',
  },
];

function scopeLabel(scope: DashboardScope): string {
  return scope.kind === 'ics'
    ? 'Kent and Medway'
    : `${scope.kind === 'practice' ? 'Practice' : scope.kind === 'pcn' ? 'Primary care network' : 'LSOA'} ${scope.code}`;
}

async function requestFrom(r: RouteRequest, deps: ServerDeps, options: { picker: boolean }) {
  const principal = r.principal;
  if (!principal) throw new KernelError('unauthenticated', 'Sign in to see the population health dashboard');
  // The use cases the dashboard opens under: for the page's picker, or to find a default.
  const user = readUserOf(principal);
  const asked = r.query('useCase');
  const useCases = options.picker || !asked ? await populationHealthUseCases(deps.store, user) : [];
  const useCaseId = asked ?? useCases[0]?.id;
  const lsoa = r.query('lsoa')?.trim();
  const scopeText = lsoa ? `lsoa:${lsoa}` : (r.query('scope') ?? 'ics');
  const day = r.query('date')?.trim() || undefined;
  return {
    useCases,
    useCaseId,
    filter: { scope: scopeText, lsoa: lsoa ?? '', useCase: useCaseId ?? '', date: day ?? '' },
    /** The answer, read as the API and the page read it (`readPopulationHealth`'s arguments). */
    readArguments: () => {
      if (!useCaseId)
        throw new KernelError(
          'forbidden',
          'You are on no active use case under which you may read the model’s population and conditions',
          {
            hint: 'Ask your IG lead or an administrator to add you to one that covers pmi and gp-events for your organisation',
          },
        );
      const access = {
        user,
        useCaseId,
        actor: r.actor,
      };
      return [deps.store, access, { scope: parseScope(scopeText), ...(day ? { day } : {}) }] as const;
    },
  };
}

export function populationHealthRoutes(deps: ServerDeps): RouteDeclaration[] {
  return [
    {
      method: 'GET',
      path: '/kid/population-health',
      kind: 'page',
      access: WHO,
      nav: 'Population health',
      // The page is refused (readArguments) to whoever populationHealthUseCases gives none;
      // the menu asks the same question of the same function.
      mayOpen: (principal) => mayOpenPopulationHealth(deps.store, readUserOf(principal)),
      tag: 'analytics',
      summary:
        'Population health dashboard: population pyramid, long-term conditions, multimorbidity by age and deprivation, frailty and cost, by practice, PCN or LSOA',
      query: [...QUERY, { name: 'lsoa', description: 'an LSOA code; takes the place of scope' }],
      handle: async (r) => {
        const request = await requestFrom(r, deps, { picker: true });
        const page = { title: 'Population health', useCases: request.useCases, filter: request.filter };
        try {
          const { answer: result, areas } = await readPopulationHealthPage(...request.readArguments());
          const label = scopeLabel(result.scope);
          return r.render('kid/population-health.njk', {
            ...page,
            result,
            scopeLabel: label,
            view: populationHealthView(result, label),
            areas,
            filter: { ...request.filter, scope: result.scope.text, date: result.day },
          });
        } catch (error) {
          // A mistake in the filters is shown beside them; a refusal stands as an error page.
          if (
            error instanceof KernelError &&
            ['usage', 'not-found'].includes(error.code) &&
            error.where?.field
          ) {
            const field = error.where.field === 'scope' && request.filter.lsoa ? 'lsoa' : error.where.field;
            return r.render(
              'kid/population-health.njk',
              {
                ...page,
                result: null,
                areas: { practices: [], pcns: [] },
                errors: [{ text: error.message + (error.hint ? `. ${error.hint}` : ''), href: `#${field}` }],
                errorFor: { [field]: error.message },
              },
              400,
            );
          }
          throw error;
        }
      },
    },
    {
      method: 'GET',
      path: '/api/v1/kid/population-health',
      kind: 'api',
      access: WHO,
      tag: 'analytics',
      summary:
        'The population health dashboard’s figures for the system, a practice, a PCN or an LSOA, read under a use case, disclosure-controlled',
      query: QUERY,
      response: populationHealthSchema,
      handle: async (r) =>
        r.json(
          await readPopulationHealth(...(await requestFrom(r, deps, { picker: false })).readArguments()),
        ),
    },
  ];
}
