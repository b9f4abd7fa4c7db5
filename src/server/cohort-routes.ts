/**
 * The cohort builder in the portal (`/cohorts`; docs/cohorts.md): choose a use case, then
 * criteria — conditions, age band, sex, IMD decile, practices, PCNs, emergency admissions — and see
 * the counts by practice and by age band × sex, disclosure-controlled; save the cohort for the
 * use case. Thin: the page runs the cohort operations (src/cohorts/cohort-operations.ts),
 * which the API (`/api/v1/cohorts…`) and `kernel cohorts …` run too.
 */
import { COHORT_SEXES, SEX_LABELS } from '../cohorts/cohort-definition.ts';
import {
  COHORT_OPERATIONS,
  COHORT_ROLES,
  countCohortOperation,
  listCohortsOperation,
  saveCohortOperation,
} from '../cohorts/cohort-operations.ts';
import { describeError } from '../errors.ts';
import { conditionLists } from '../kid/conditions.ts';
import type { FormFields } from './request-body.ts';
import { operationRoutes } from './operation-routes.ts';
import { isFormMistake, useCasesFor } from './page-helpers.ts';
import type { RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';

const text = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');

/**
 * The form's criteria as the operations take them. The portal's form parser keeps the first
 * value of a repeated field, so each checkbox has a name of its own (`condition-diabetes`).
 */
export function criteriaFromForm(form: FormFields): Record<string, unknown> {
  const ticked = (prefix: string, values: readonly string[]) =>
    values.filter((v) => text(form[`${prefix}-${v}`]) !== '');
  const number = (field: string) => (text(form[field]) === '' ? {} : { [field]: text(form[field]) });
  const practices = text(form.practices)
    .split(/[\s,]+/)
    .filter(Boolean);
  return {
    conditions: ticked(
      'condition',
      conditionLists().map((c) => c.id),
    ),
    conditionsMatch: text(form.conditionsMatch) || 'all',
    sexes: ticked('sex', COHORT_SEXES),
    imdDeciles: ticked(
      'imd',
      Array.from({ length: 10 }, (_, i) => String(i + 1)),
    ),
    practices,
    pcns: text(form.pcns)
      .split(/[\s,]+/)
      .filter(Boolean),
    ...number('minConditions'),
    ...number('ageFrom'),
    ...number('ageTo'),
    ...number('emergencyAdmissions'),
    ...number('admissionMonths'),
  };
}

/** The criteria's checkbox items for the NHS.UK `checkboxes` macro, ticked as the form was sent. */
function formItems(form: FormFields) {
  const item = (prefix: string, value: string, label: string) => ({
    name: `${prefix}-${value}`,
    id: `${prefix}-${value}`,
    value: 'yes',
    text: label,
    checked: text(form[`${prefix}-${value}`]) !== '',
  });
  return {
    conditions: conditionLists().map((c) => item('condition', c.id, c.title)),
    sexes: COHORT_SEXES.map((s) => item('sex', s, SEX_LABELS[s])),
    imd: Array.from({ length: 10 }, (_, i) =>
      item(
        'imd',
        String(i + 1),
        i === 0 ? '1 (most deprived)' : i === 9 ? '10 (least deprived)' : String(i + 1),
      ),
    ),
  };
}

async function builderPage(
  r: RouteRequest,
  useCase: string,
  form: FormFields,
  extra: Record<string, unknown> = {},
) {
  const { cohorts } = await r.run(listCohortsOperation, { useCase });
  return r.render('cohorts/builder.njk', {
    title: `Cohort builder: ${useCase}`,
    useCase,
    form: Object.fromEntries(Object.entries(form).filter(([, v]) => typeof v === 'string')),
    items: formItems(form),
    saved: cohorts,
    ...extra,
  });
}

export function cohortRoutes(deps: ServerDeps): RouteDeclaration[] {
  return [
    {
      method: 'GET',
      path: '/cohorts',
      kind: 'page',
      access: COHORT_ROLES,
      nav: 'Cohorts',
      query: [
        { name: 'useCase', description: 'the use case to count under' },
        { name: 'cohort', description: 'a saved cohort to count' },
        { name: 'date', description: 'the day, YYYY-MM-DD' },
      ],
      summary:
        'The cohort builder: criteria, counts by practice and segment (disclosure-controlled), saved cohorts',
      handle: async (r) => {
        const useCase = r.query('useCase');
        if (!useCase) {
          const useCases = await useCasesFor(r, deps);
          return r.render('cohorts/builder.njk', { title: 'Cohort builder', useCases });
        }
        const cohort = r.query('cohort');
        const date = r.query('date') ?? '';
        if (!cohort) return builderPage(r, useCase, { date });
        try {
          const counts = await r.run(countCohortOperation, { useCase, cohort, date });
          return await builderPage(r, useCase, { date }, { counts, countedCohort: cohort });
        } catch (error) {
          if (!isFormMistake(error)) throw error;
          return await builderPage(r, useCase, { date }, { error: describeError(error) });
        }
      },
    },
    {
      method: 'POST',
      path: '/cohorts',
      kind: 'page',
      access: COHORT_ROLES,
      summary: 'Count a cohort, or save it for the use case',
      handle: async (r) => {
        const form = await r.form();
        const useCase = text(form.useCase);
        const date = text(form.date);
        const criteria = criteriaFromForm(form);
        try {
          if (text(form.action) === 'save') {
            const saved = await r.run(saveCohortOperation, { useCase, name: text(form.name), ...criteria });
            return await builderPage(r, useCase, form, {
              notice: `Saved “${saved.name}” (${saved.id}) for ${saved.useCaseId}.`,
            });
          }
          const counts = await r.run(countCohortOperation, { useCase, date, ...criteria });
          return await builderPage(r, useCase, form, { counts });
        } catch (error) {
          // A mistake in the form is shown above it, the criteria kept; a refusal is the policy's.
          if (!isFormMistake(error)) throw error;
          return await builderPage(r, useCase, form, { error: describeError(error) });
        }
      },
    },
    ...operationRoutes(COHORT_OPERATIONS, deps),
  ];
}
