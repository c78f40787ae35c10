import { z } from 'zod';
import { ORDERS, REGISTER_TYPES, registerWidth } from '../../modbus/registers.js';
import type { Order } from '../../modbus/registers.js';
import { durationSchema } from './validation.js';
import { AnalyzerControl, CONTROL_BASE } from './control.js';

/**
 * What the status register says, and the HJ 212 data flag the edge agent maps it to (table 8).
 * Over range is not scheduled: the analyzer raises it itself when the value exceeds its range upper limit.
 */
export const ANALYZER_STATUSES = {
  normal: { code: 0, flag: 'N', meaning: 'normal' },
  maintenance: { code: 1, flag: 'M', meaning: 'maintenance' },
  calibration: { code: 2, flag: 'C', meaning: 'calibration' },
  fault: { code: 3, flag: 'D', meaning: 'fault' },
  overRange: { code: 4, flag: 'T', meaning: 'over range (reading above rangeUpper)' },
  stopped: { code: 5, flag: 'F', meaning: 'stopped' },
} as const;
export type AnalyzerStatus = keyof typeof ANALYZER_STATUSES;

/** The parameter whose value turns a reading above it into the over-range status. */
export const RANGE_UPPER_PARAMETER = 'rangeUpper';

/**
 * The letter names of vendors' manuals (bytes A B C D of the big-endian value, in wire order) as the
 * byte and word orders the edge config also uses: a profile written with letters gets an error naming the fix.
 */
export const LETTER_ORDERS: Record<string, { byteOrder: Order; wordOrder: Order }> = {
  ABCD: { byteOrder: 'big', wordOrder: 'big' },
  CDAB: { byteOrder: 'big', wordOrder: 'little' },
  BADC: { byteOrder: 'little', wordOrder: 'big' },
  DCBA: { byteOrder: 'little', wordOrder: 'little' },
};

/** How the letter name `letters` is written now, or undefined if it is no letter name. */
export function letterOrderFix(letters: unknown): string | undefined {
  const orders = typeof letters === 'string' ? LETTER_ORDERS[letters.toUpperCase()] : undefined;
  if (!orders) return undefined;
  return `${letters} is written byteOrder: ${orders.byteOrder}, wordOrder: ${orders.wordOrder} (as in the edge config)`;
}

/** big or little; a letter name (ABCD, CDAB, BADC, DCBA) is refused with its translation. */
export const orderSchema = z.enum(ORDERS, {
  error: (iss) => letterOrderFix(iss.input) ?? 'expected big or little',
});

const identifier = z.string().regex(/^[a-z][A-Za-z0-9-]*$/, 'expected an identifier such as cod or rangeUpper');

const parameterSchema = z.strictObject({
  initial: z.number(),
  unit: z.string().default(''),
  description: z.string().min(1, 'describe the parameter for the register map'),
  writable: z.boolean().default(false),
  min: z.number().optional(),
  max: z.number().optional(),
});

const registerBase = {
  /** 0-based PDU address; tools such as mbpoll number from 1 (`-r address+1`). */
  address: z.number().int().min(0).max(0xffff),
  type: z.enum(REGISTER_TYPES),
  /** value = raw × scale + offset, as vendors' manuals give it: an int16 with scale 0.1 carries one decimal. */
  scale: z
    .number()
    .refine((n) => n !== 0, 'scale 0 would turn every value into the offset; use 1')
    .default(1),
  offset: z.number().default(0),
  /** Default to the profile's orders. */
  byteOrder: orderSchema.optional(),
  wordOrder: orderSchema.optional(),
  description: z.string().optional(),
};

const registerSchema = z.discriminatedUnion('source', [
  z.strictObject({ ...registerBase, source: z.literal('value') }),
  z.strictObject({ ...registerBase, source: z.literal('status') }),
  z.strictObject({ ...registerBase, source: z.literal('total') }),
  z.strictObject({ ...registerBase, source: z.literal('lastCalibration') }),
  z.strictObject({ ...registerBase, source: z.literal('sampleTime') }),
  z.strictObject({ ...registerBase, source: z.literal('cycle') }),
  z.strictObject({ ...registerBase, source: z.literal('param'), param: z.string() }),
]);

const profileObject = z.strictObject({
  id: identifier,
  factor: z
    .string()
    .regex(/^[a-z]\d{5}$/, 'expected a factor code such as w01018 or a21026, or p01001 for a power meter (ST 44)'),
  name: z.string().min(1),
  unit: z.string(),
  /** Byte order inside each register and register order of a multi-register value (modbus/registers.ts). */
  byteOrder: orderSchema.default('big'),
  wordOrder: orderSchema.default('big'),
  /** The reading without any scenario: a daily curve around `mean`. */
  nominal: z.strictObject({
    mean: z.number(),
    amplitude: z.number().nonnegative().default(0),
    noise: z.number().nonnegative().default(0),
    /** How often the analyzer produces a new reading (a COD analyzer runs one digestion cycle per reading). */
    sampleEvery: durationSchema.refine((ms) => ms > 0, 'must be longer than 0').default(10_000),
  }),
  /** A totaliser integrating the value over time (flow meters): total += value × seconds × perSecond. */
  total: z
    .strictObject({ unit: z.string(), perSecond: z.number().positive(), initial: z.number().nonnegative().default(0) })
    .optional(),
  parameters: z.record(identifier, parameterSchema).default({}),
  registers: z.array(registerSchema).min(1, 'list at least one register'),
});

type ProfileObject = z.output<typeof profileObject>;

function checkProfile(profile: ProfileObject, ctx: z.core.$RefinementCtx<ProfileObject>): void {
  const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const owner = new Map<number, number>();
  profile.registers.forEach((reg, i) => {
    const span = registerWidth(reg.type);
    if (reg.address + span - 1 > 0xffff) issue(['registers', i, 'address'], `a ${reg.type} does not fit below 65535`);
    for (let a = reg.address; a < reg.address + span; a++) {
      const other = owner.get(a);
      if (other !== undefined) {
        issue(['registers', i, 'address'], `address ${a} is already used by registers[${other}]; move one of them`);
      }
      owner.set(a, i);
    }
    if (Array.from({ length: span }, (_, k) => reg.address + k).some((a) => AnalyzerControl.covers(a)))
      issue(
        ['registers', i, 'address'],
        `addresses ${CONTROL_BASE}-9015 are the control block of every simulated analyzer (3011-3019); ` +
          'move the register',
      );
    if (reg.wordOrder && span === 1) {
      issue(['registers', i, 'wordOrder'], `${reg.type} is one register and has no word order; remove it`);
    }
    if (reg.source === 'status' && reg.type !== 'uint16' && reg.type !== 'int16') {
      issue(['registers', i, 'type'], 'status codes are small integers: use uint16 or int16');
    }
    if (reg.source === 'total' && !profile.total) {
      issue(['registers', i, 'source'], 'source "total" needs a total block (unit, perSecond) in the profile');
    }
    if (reg.source === 'param' && !(reg.param in profile.parameters)) {
      const known = Object.keys(profile.parameters).join(', ') || 'none declared';
      issue(
        ['registers', i, 'param'],
        `unknown parameter "${reg.param}"; declare it under parameters (known: ${known})`,
      );
    }
  });
  for (const [name, p] of Object.entries(profile.parameters)) {
    if ((p.min !== undefined && p.initial < p.min) || (p.max !== undefined && p.initial > p.max)) {
      issue(['parameters', name, 'initial'], `must lie within min..max (${p.min ?? '-∞'}..${p.max ?? '∞'})`);
    }
  }
}

/** A device profile: one analyzer model's register map and nominal behaviour, as data. */
export const profileSchema = profileObject.superRefine(checkProfile).transform((profile) => ({
  ...profile,
  registers: profile.registers
    .map((reg) => ({
      ...reg,
      byteOrder: reg.byteOrder ?? profile.byteOrder,
      wordOrder: reg.wordOrder ?? profile.wordOrder,
    }))
    .sort((a, b) => a.address - b.address),
}));

export type AnalyzerProfileInput = z.input<typeof profileSchema>;
export type AnalyzerProfile = z.output<typeof profileSchema>;
export type ProfileRegister = AnalyzerProfile['registers'][number];
export type ProfileParameter = AnalyzerProfile['parameters'][string];
