import { z } from 'zod';
import { describeIssues } from './zod-issues.js';

const NO_SEPARATORS = /^[^;,=&\r\n]*$/;
const fieldName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_]*$/, 'a field name is letters and digits, e.g. Rtd or DataTime');
const code = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_]*$/, 'a factor code is letters and digits, e.g. w01018');
const value = z
  .string()
  .refine(
    (v) => NO_SEPARATORS.test(v) || /^\/\/[^\r\n]*\/\/$/.test(v),
    'a value may not hold ; , = & or line breaks (wrap free text as //text//)',
  );
const fields = z.record(fieldName, value);

export const CpSchema = z.object({
  params: fields.default({}),
  factors: z.record(code, fields).default({}),
  info: z.array(z.object({ polId: code.optional(), codes: z.record(code, fields) })).optional(),
});

const headerValue = (what: string) =>
  z.string().min(1).regex(NO_SEPARATORS, `${what} may not hold ; , = & or line breaks`);

/** A packet as JSON: what `hj212 decode` prints and `hj212 encode` reads. Unknown keys are ignored. */
export const PacketSchema = z.object({
  version: z.enum(['2005', '2017', '2025']).default('2017'),
  qn: z
    .string()
    .regex(/^\d{1,20}$/, 'qn is digits, YYYYMMDDhhmmsszzz')
    .optional(),
  st: headerValue('st').max(3).optional(),
  cn: z.string().regex(/^\d{4}$/, 'cn is 4 digits of table 9, e.g. "2011"'),
  pw: headerValue('pw').max(24).optional(),
  mn: headerValue('mn').max(32).optional(),
  flag: z.number().int().min(0).max(255).optional(),
  pnum: z.number().int().min(1).max(9999).optional(),
  pno: z.number().int().min(1).max(9999).optional(),
  cp: CpSchema.default({ params: {}, factors: {} }),
});

export type PacketInput = z.input<typeof PacketSchema>;

/** "cp.factors.w01018.Rtd: ..." — the field path and what to fix, for one line of output. */
export const describeZodError = (error: z.ZodError): string => describeIssues(error, { separator: '; ' });
