/**
 * Two acute trusts' maternity systems export in layouts of their own (issue 16): their own
 * column names and order, local codes for smoking status, onset of labour, delivery method,
 * sex and Y/N answers, dates as DD/MM/YYYY, a column the warehouse does not take, and at
 * Medway no provider column at all. Each layout is held as the source mapping the trust would
 * write (`world/mappings/<ORG>-<dataset>.json`); the world writes its rows by running that
 * mapping backwards, so every value the mapping reads maps back to exactly what the national
 * extract would have held. Values no local code stands for (an injected code not in the list,
 * a date that does not exist) are written as they are, as a real system's bad data would be.
 */
import type { DatasetSpec } from '../catalogue/dataset-spec.ts';
import { inboundColumns } from '../catalogue/shapes.ts';
import { KernelError } from '../errors.ts';
import { localDate, type SourceMapping } from '../privacy/source-mapping.ts';

/** A source mapping as its JSON file holds it. */
export type SourceMappingJson = Omit<SourceMapping, 'file'>;

export interface LocalLayout {
  mapping: SourceMappingJson;
  /** columns the warehouse does not take (mapped to null), with the value every row carries */
  extras: Record<string, string>;
}

const DATES = 'DD/MM/YYYY';
const RPA_SMOKING = { SMOKER: 'Smoker', 'NON-SMOKER': 'Non-Smoker / Ex-Smoker' };
const RN7_SMOKING = { Y: 'Smoker', N: 'Non-Smoker / Ex-Smoker' };
const RN7_YES_NO = { Yes: 'Y', No: 'N' };

export const LOCAL_LAYOUTS: readonly LocalLayout[] = [
  {
    mapping: {
      org: 'RPA',
      dataset: 'msds-booking',
      columns: {
        Pregnancy_ID: 'UniqPregID',
        Mother_NHS_Number: 'NHSNumberMother',
        Mother_Date_Of_Birth: 'PersonBirthDateMother',
        Ethnic_Group: 'EthnicCategoryMother',
        Mother_Postcode: 'Postcode',
        Booking_Date: 'AntenatalAppDate',
        Gestation_Days_At_Booking: 'GestAgeBooking',
        LMP_Date: 'LastMenstrualPeriodDate',
        EDD: 'EDDAgreed',
        Smoking_At_Booking: 'SmokingStatusBooking',
        Previous_Caesareans: 'PreviousCaesareanSections',
        Previous_Live_Births: 'PreviousLiveBirths',
        Previous_Still_Births: 'PreviousStillBirths',
        Booking_Site: 'OrgSiteIDBooking',
        Record_Status: null,
      },
      codes: { SmokingStatusBooking: RPA_SMOKING },
      dates: {
        PersonBirthDateMother: DATES,
        AntenatalAppDate: DATES,
        LastMenstrualPeriodDate: DATES,
        EDDAgreed: DATES,
      },
      constants: { OrgCodeProvider: 'RPA' },
    },
    extras: { Record_Status: 'Final' },
  },
  {
    mapping: {
      org: 'RPA',
      dataset: 'msds-delivery',
      columns: {
        Pregnancy_ID: 'UniqPregID',
        Delivery_ID: 'LabourDeliveryID',
        Mother_NHS_Number: 'NHSNumberMother',
        Mother_Date_Of_Birth: 'PersonBirthDateMother',
        Mother_Postcode: 'Postcode',
        Delivery_Date: 'DeliveryDate',
        Number_Of_Babies: 'BirthsPerLabandDel',
        Onset_Of_Labour: 'LabourOnsetMethod',
        Labour_Onset_Date: 'LabourOnsetDate',
        Smoking_At_Delivery: 'SmokingStatusDelivery',
        Estimated_Blood_Loss: 'BloodLossMl',
        Perineal_Trauma: 'GenitalTractTraumaticLesion',
        Previous_Caesareans: 'PreviousCaesareanSections',
        Previous_Live_Births: 'PreviousLiveBirths',
        Previous_Still_Births: 'PreviousStillBirths',
        Episiotomy: 'Episiotomy',
        Anaesthesia_In_Labour: 'LabourAnaesthesiaType',
        Artificial_Rupture_Of_Membranes: 'AROM',
        Oxytocin_Given: 'OxytocinAdministeredInd',
        Record_Status: null,
      },
      codes: {
        SmokingStatusDelivery: RPA_SMOKING,
        LabourOnsetMethod: {
          SPONTANEOUS: '1',
          'CS-BEFORE-LABOUR': '2',
          'IOL-ARM': '3',
          'IOL-MEDICAL': '4',
          'IOL-COMBINED': '5',
          'NOT-KNOWN': '9',
        },
      },
      dates: { PersonBirthDateMother: DATES, DeliveryDate: DATES, LabourOnsetDate: DATES },
      constants: { OrgCodeProvider: 'RPA' },
    },
    extras: { Record_Status: 'Final' },
  },
  {
    mapping: {
      org: 'RPA',
      dataset: 'msds-baby',
      columns: {
        Baby_NHS_Number: 'NHSNumberBaby',
        Mother_NHS_Number: 'NHSNumberMother',
        Baby_Hospital_Number: 'LPIDBaby',
        Pregnancy_ID: 'UniqPregID',
        Delivery_ID: 'LabourDeliveryID',
        Baby_Date_Of_Birth: 'PersonBirthDateBaby',
        Birth_Record_Date: 'RPStartDate',
        Baby_Sex: 'PersonPhenSex',
        Birth_Outcome: 'PregOutcome',
        Gestation_Days: 'GestationLengthBirth',
        Delivery_Method: 'DeliveryMethodCode',
        Fetal_Presentation: 'FetusPresentation',
        Birth_Order: 'BirthOrderMaternitySUS',
        Birth_Weight_Grams: 'BirthWeight',
        Apgar_5: 'ApgarScore',
        First_Feed: 'BabyFirstFeedIndCode',
        Neonatal_Unit_Admission: 'NeonatalAdmission',
        Age_At_Death_Days: 'AgeAtDeathBaby',
        Delivery_Site: 'OrgSiteIDActualDelivery',
        Record_Status: null,
      },
      codes: {
        DeliveryMethodCode: {
          SVD: '0',
          'SVD-OTHER': '1',
          'LOW-FORCEPS': '2',
          FORCEPS: '3',
          VENTOUSE: '4',
          BREECH: '5',
          'BREECH-EXTRACTION': '6',
          ELCS: '7',
          EMCS: '8',
          OTHER: '9',
        },
      },
      dates: { PersonBirthDateBaby: DATES, RPStartDate: DATES },
      constants: { OrgCodeProvider: 'RPA' },
    },
    extras: { Record_Status: 'Final' },
  },
  {
    mapping: {
      org: 'RN7',
      dataset: 'msds-booking',
      columns: {
        MUM_NHS_NO: 'NHSNumberMother',
        MUM_DOB: 'PersonBirthDateMother',
        MUM_POSTCODE: 'Postcode',
        ETHNICITY: 'EthnicCategoryMother',
        PREG_REF: 'UniqPregID',
        BOOKING_APPT_DATE: 'AntenatalAppDate',
        GEST_AT_BOOKING_DAYS: 'GestAgeBooking',
        LMP: 'LastMenstrualPeriodDate',
        EDD_AGREED: 'EDDAgreed',
        SMOKER_AT_BOOKING: 'SmokingStatusBooking',
        PREV_CS: 'PreviousCaesareanSections',
        PREV_LIVE: 'PreviousLiveBirths',
        PREV_STILL: 'PreviousStillBirths',
        SITE: 'OrgSiteIDBooking',
        PROVIDER: 'OrgCodeProvider',
      },
      codes: { SmokingStatusBooking: RN7_SMOKING },
      dates: {
        PersonBirthDateMother: DATES,
        AntenatalAppDate: DATES,
        LastMenstrualPeriodDate: DATES,
        EDDAgreed: DATES,
      },
      constants: {},
    },
    extras: {},
  },
  {
    mapping: {
      org: 'RN7',
      dataset: 'msds-delivery',
      columns: {
        MUM_NHS_NO: 'NHSNumberMother',
        MUM_DOB: 'PersonBirthDateMother',
        MUM_POSTCODE: 'Postcode',
        PREG_REF: 'UniqPregID',
        LABOUR_REF: 'LabourDeliveryID',
        BABIES: 'BirthsPerLabandDel',
        ONSET: 'LabourOnsetMethod',
        ONSET_DATE: 'LabourOnsetDate',
        DELIVERY_DATE: 'DeliveryDate',
        SMOKER_AT_DELIVERY: 'SmokingStatusDelivery',
        EBL_ML: 'BloodLossMl',
        PERINEUM: 'GenitalTractTraumaticLesion',
        PREV_CS: 'PreviousCaesareanSections',
        PREV_LIVE: 'PreviousLiveBirths',
        PREV_STILL: 'PreviousStillBirths',
        EPISIOTOMY: 'Episiotomy',
        ANAESTHESIA: 'LabourAnaesthesiaType',
        ARM: 'AROM',
        SYNTOCINON: 'OxytocinAdministeredInd',
        PROVIDER: 'OrgCodeProvider',
        WARD: null,
      },
      codes: {
        SmokingStatusDelivery: RN7_SMOKING,
        LabourOnsetMethod: { S: '1', C: '2', A: '3', M: '4', AM: '5', U: '9' },
        Episiotomy: RN7_YES_NO,
        AROM: RN7_YES_NO,
        OxytocinAdministeredInd: RN7_YES_NO,
      },
      dates: { PersonBirthDateMother: DATES, LabourOnsetDate: DATES, DeliveryDate: DATES },
      constants: {},
    },
    extras: { WARD: 'Delivery Suite' },
  },
  {
    mapping: {
      org: 'RN7',
      dataset: 'msds-baby',
      columns: {
        BABY_NHS_NO: 'NHSNumberBaby',
        MUM_NHS_NO: 'NHSNumberMother',
        BABY_MRN: 'LPIDBaby',
        PREG_REF: 'UniqPregID',
        LABOUR_REF: 'LabourDeliveryID',
        BABY_DOB: 'PersonBirthDateBaby',
        RECORD_DATE: 'RPStartDate',
        SEX: 'PersonPhenSex',
        OUTCOME: 'PregOutcome',
        GEST_DAYS: 'GestationLengthBirth',
        MODE_OF_DELIVERY: 'DeliveryMethodCode',
        PRESENTATION: 'FetusPresentation',
        BIRTH_ORDER: 'BirthOrderMaternitySUS',
        WEIGHT_G: 'BirthWeight',
        APGAR_5: 'ApgarScore',
        FIRST_FEED: 'BabyFirstFeedIndCode',
        NNU_ADMISSION: 'NeonatalAdmission',
        AGE_AT_DEATH_DAYS: 'AgeAtDeathBaby',
        BIRTH_SITE: 'OrgSiteIDActualDelivery',
        PROVIDER: 'OrgCodeProvider',
      },
      codes: {
        PersonPhenSex: { M: '1', F: '2', I: '9', U: 'X' },
        DeliveryMethodCode: {
          '10': '0',
          '11': '1',
          '20': '2',
          '21': '3',
          '30': '4',
          '40': '5',
          '41': '6',
          '50': '7',
          '51': '8',
          '90': '9',
        },
        NeonatalAdmission: RN7_YES_NO,
      },
      dates: { PersonBirthDateBaby: DATES, RPStartDate: DATES },
      constants: {},
    },
    extras: {},
  },
];

/** The layout of `org`'s `dataset`, when it has one of its own. */
export function localLayoutFor(org: string, dataset: string): LocalLayout | undefined {
  return LOCAL_LAYOUTS.find((l) => l.mapping.org === org && l.mapping.dataset === dataset);
}

/** The name of a layout's mapping file in the world's `mappings/` folder. */
export function mappingFileName(org: string, dataset: string): string {
  return `${org}-${dataset}.json`;
}

export interface LocalWriter {
  /** the local header */
  header: string[];
  /** the fields the extract does not carry (constants): they take no defects */
  constants: Set<string>;
  /** a national row (in the dataset's inbound order) in the local layout */
  toLocal(national: readonly string[]): string[];
}

/** Runs a layout's mapping backwards: national rows in, local rows out. */
export function localWriter(layout: LocalLayout, spec: DatasetSpec): LocalWriter {
  const { mapping, extras } = layout;
  const index = new Map(inboundColumns(spec).map((c, i) => [c, i] as const));
  const header = Object.keys(mapping.columns);
  const cells = header.map((local): ((row: readonly string[]) => string) => {
    const field = mapping.columns[local];
    if (field === null || field === undefined) return () => extras[local] ?? '';
    const at = index.get(field) as number;
    const codes = mapping.codes[field];
    if (codes) {
      const inverse = new Map(Object.entries(codes).map(([l, n]) => [n, l] as const));
      if (inverse.size !== Object.keys(codes).length) {
        throw new KernelError('internal', `The local codes of ${mapping.org}'s ${field} are not one to one`);
      }
      return (row) => {
        const value = row[at] ?? '';
        return inverse.get(value) ?? value;
      };
    }
    const format = mapping.dates[field];
    if (format !== undefined) {
      return (row) => {
        const value = row[at] ?? '';
        return localDate(format, value) ?? value;
      };
    }
    return (row) => row[at] ?? '';
  });
  return {
    header,
    constants: new Set(Object.keys(mapping.constants)),
    toLocal: (national) => cells.map((cell) => cell(national)),
  };
}
