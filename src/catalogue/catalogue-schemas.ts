/**
 * The catalogue as the API answers it, as zod schemas: a dataset's specification (the shape
 * `dataset-spec.ts` declares, field by field) and the code lists its fields use. Typed against
 * those interfaces, so the compiler fails if a specification gains a property these omit.
 */
import { z } from 'zod';
import {
  DATASET_SUBJECTS,
  FIELD_TYPES,
  PRIVACY_ROLES,
  TOKEN_KINDS,
  type CodeList,
  type DatasetSpec,
  type FieldSpec,
  type LinkageEncodingSpec,
  type PseudonymiseRule,
} from './dataset-spec.ts';

const fieldName = (description: string) => z.string().describe(description);

const pseudonymiseSchema: z.ZodType<PseudonymiseRule> = z
  .discriminatedUnion('method', [
    z.object({
      method: z.literal('token'),
      as: fieldName('the token column it becomes, e.g. person_token'),
      kind: z.enum(TOKEN_KINDS),
    }),
    z.object({
      method: z.literal('postcode-geography'),
      lsoa: fieldName('the LSOA column it becomes'),
      imdDecile: fieldName('the IMD decile column it becomes'),
    }),
    z.object({
      method: z.literal('birth-date'),
      age: fieldName('the age-in-years column it becomes'),
      yearMonth: fieldName('the birth year-month column it becomes'),
      eventDate: fieldName('the field the age is worked out at'),
    }),
    z.object({ method: z.literal('drop') }),
  ])
  .describe('what the de-identification agent does with a direct identifier');

const fieldSpecSchema: z.ZodType<FieldSpec> = z.object({
  name: z.string().describe('column name as in the NHS Data Dictionary or the SUS extract'),
  title: z.string(),
  description: z.string().optional(),
  type: z.enum(FIELD_TYPES),
  format: z.string().optional().describe('Data Dictionary format, e.g. an2, n10, CCYY-MM-DD'),
  required: z.boolean(),
  codeList: z.string().optional().describe('id of the code list its values come from'),
  role: z.enum(PRIVACY_ROLES).describe('what the field is, for privacy'),
  pseudonymise: pseudonymiseSchema.optional(),
  recordKey: z
    .boolean()
    .optional()
    .describe('a quasi-identifier naming a record (a spell, a pregnancy), not a person'),
  maxLength: z.number().int().optional(),
  pattern: z.string().optional().describe('a regular expression the whole value must match (unanchored)'),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
});

const linkageEncodingSchema: z.ZodType<LinkageEncodingSpec> = z
  .object({
    scheme: z.literal('person-v1'),
    fields: z
      .object({
        given_name: z.string().optional(),
        family_name: z.string().optional(),
        date_of_birth: z.string().optional(),
        sex: z.string().optional(),
        postcode: z.string().optional(),
      })
      .describe('the dataset field each input of the scheme comes from'),
  })
  .describe('the Bloom-filter encodings the agent makes for probabilistic linkage');

const datasetSpecShape = {
  id: z.string().describe('e.g. msds-delivery'),
  title: z.string(),
  description: z.string(),
  version: z.string(),
  standard: z.string().describe('the standard it follows, e.g. CDS 6.3 type 130'),
  subject: z.enum(DATASET_SUBJECTS).describe('who the rows are about'),
  suppliers: z.array(z.string()).describe('the kinds of organisation that supply it'),
};

export const codeListSchema: z.ZodType<CodeList> = z.object({
  id: z.string(),
  title: z.string(),
  source: z.string().describe('where the codes come from'),
  subset: z
    .boolean()
    .optional()
    .describe('only a few codes of a much larger scheme: a value matching pattern is valid too'),
  pattern: z.string().optional(),
  codes: z.array(z.object({ code: z.string(), meaning: z.string() })),
});

/** `GET /api/v1/datasets`: each dataset with the number of its fields. */
export const datasetListSchema: z.ZodType<{
  datasets: (Pick<DatasetSpec, keyof typeof datasetSpecShape> & { fields: number })[];
}> = z.object({
  datasets: z.array(z.object({ ...datasetSpecShape, fields: z.number().int().describe('how many fields') })),
});

/** `GET /api/v1/datasets/{dataset}`: the specification and the code lists its fields use. */
export const datasetDictionarySchema: z.ZodType<DatasetSpec & { codeLists: CodeList[] }> = z.object({
  ...datasetSpecShape,
  periodField: z.string().describe('the date field whose month is a row’s reporting period'),
  fields: z.array(fieldSpecSchema),
  dateOrder: z
    .array(z.object({ start: z.string(), end: z.string() }))
    .describe('pairs of date fields: a row whose end is before its start fails date-order'),
  daysWithin: z
    .array(z.object({ days: z.string(), start: z.string(), end: z.string() }))
    .optional()
    .describe(
      'a count of days no more than the calendar days from start to end, counting both: else days-within',
    ),
  linkageEncoding: linkageEncodingSchema.optional(),
  codeLists: z.array(codeListSchema),
});
