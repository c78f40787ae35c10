import { z } from 'zod';
import { isCalendarTime } from '../../protocol/time.js';
import type { Cp } from '../../protocol/index.js';

/**
 * The requests of HJ 212-2017 table 9 that a platform sends to a logger, as the API takes them: one
 * body per CN, each field named as table 4 names it and held to table 4's range, so a request the
 * logger would have to refuse (RtdInterval=10, MinInterval=7) is refused here, naming the field.
 */

/** Table 4: PolId is a factor code of appendix B (C6). */
const PolId = z.string().regex(/^[a-z]\d{5}$|^[a-z]\d{2}[a-z0-9]{3}$/, 'a factor code of appendix B, e.g. w01018');

/** Table 4: YYYYMMDDhhmmss (N14), a real date and time. */
const HjTime = z
  .string()
  .regex(/^\d{14}$/, 'YYYYMMDDhhmmss, China time (UTC+8)')
  .refine((s) => isCalendarTime(s), 'not a real date and time');

/** Table 4 / B.10: an InfoId is a field-information code, e.g. i13004. */
const InfoId = z.string().regex(/^i\d{5}$/, 'a field-information code of table B.10, e.g. i13004');

/** Table 4: 0<n≤99 (OverTime in seconds, ReCount). */
const N2 = z.number().int().min(1).max(99);

const none = <C extends string>(cn: C) => z.strictObject({ cn: z.literal(cn) });
const polOnly = <C extends string>(cn: C) => z.strictObject({ cn: z.literal(cn), PolId });
const polOptional = <C extends string>(cn: C) => z.strictObject({ cn: z.literal(cn), PolId: PolId.optional() });
const range = <C extends string>(cn: C) =>
  z
    .strictObject({ cn: z.literal(cn), BeginTime: HjTime, EndTime: HjTime })
    .refine((b) => b.EndTime >= b.BeginTime, { message: 'EndTime is not before BeginTime', path: ['EndTime'] });

/** Table 4: MinInterval is one of these minutes. */
const MIN_INTERVALS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30] as const;

export const CommandBodySchema = z.discriminatedUnion(
  'cn',
  [
    // C.1: set timeout and retries.
    z.strictObject({ cn: z.literal('1000'), OverTime: N2, ReCount: N2 }),
    // C.2-C.3: get / set the logger's (or, with PolId, an analyzer's) time.
    polOptional('1011'),
    z.strictObject({ cn: z.literal('1012'), PolId: PolId.optional(), SystemTime: HjTime }),
    none('1061'),
    z.strictObject({ cn: z.literal('1062'), RtdInterval: z.number().int().min(30).max(3600) }),
    none('1063'),
    z.strictObject({
      cn: z.literal('1064'),
      MinInterval: z
        .number()
        .int()
        .refine((n) => (MIN_INTERVALS as readonly number[]).includes(n), `one of ${MIN_INTERVALS.join(', ')} minutes`),
    }),
    // Table 4: NewPW is C6 of 0-9/a-z/A-Z.
    z.strictObject({
      cn: z.literal('1072'),
      NewPW: z.string().regex(/^[0-9A-Za-z]{1,6}$/, 'up to 6 letters or digits'),
    }),
    none('2011'),
    none('2012'),
    none('2021'),
    none('2022'),
    range('2031'),
    range('2041'),
    range('2051'),
    range('2061'),
    // C.30-C.39: analyzer control, addressed to the analyzer of one factor.
    polOnly('3011'),
    polOnly('3012'),
    polOnly('3013'),
    polOnly('3014'),
    none('3015'),
    z.strictObject({
      cn: z.literal('3016'),
      PolId,
      CstartTime: z.string().regex(/^([01]\d|2[0-3])[0-5]\d[0-5]\d$/, 'hhmmss, the time of day sampling starts'),
      Ctime: z.number().int().min(1).max(24),
    }),
    polOnly('3017'),
    polOnly('3018'),
    polOnly('3019'),
    // C.41-C.45: field information, a log (i11001) over a time range or one code.
    z
      .strictObject({
        cn: z.literal('3020'),
        PolId: PolId.optional(),
        InfoId,
        BeginTime: HjTime.optional(),
        EndTime: HjTime.optional(),
      })
      .refine((b) => (b.BeginTime === undefined) === (b.EndTime === undefined), {
        message: 'give BeginTime and EndTime together',
        path: ['EndTime'],
      }),
    // C.46: set one field parameter, e.g. InfoId=i13004 with Info=168.0.
    z.strictObject({
      cn: z.literal('3021'),
      PolId: PolId.optional(),
      InfoId,
      Info: z.string().regex(/^[^;=&,\r\n]{1,64}$/, 'a value without ; = & , or line breaks'),
    }),
  ],
  { error: 'cn is a request of HJ 212-2017 table 9 (1000-1072, 2011-2061, 3011-3021)' },
);
export type CommandBody = z.output<typeof CommandBodySchema>;

/** The CP of a request, fields in the order table C's examples write them. */
export function commandCp(body: CommandBody): Cp {
  const cp: Cp = { params: {}, factors: {} };
  for (const [k, v] of Object.entries(body)) {
    if (k === 'cn' || k === 'Info' || v === undefined) continue;
    cp.params[k] = String(v);
  }
  // C.46: the value travels as `<InfoId>-Info`.
  if (body.cn === '3021') cp.factors[body.InfoId] = { Info: body.Info };
  return cp;
}
