import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { O2_CODE } from '../protocol/codes/factors.js';
import { CHINA_UTC_OFFSET_MINUTES } from '../protocol/time.js';
import { factor } from '../protocol/index.js';
import { GRAMS_PER_M3 } from './datasets.js';
import { ORDERS, REGISTER_TYPES } from '../modbus/registers.js';
import { conversionFor, readingUnit } from './units.js';
import { issueMessage, issuePath, siteChecks } from './config-check.js';

export { REGISTER_TYPES as DATA_TYPES } from '../modbus/registers.js';
export type { RegisterType as DataType } from '../modbus/registers.js';
// The values the running agent uses live apart from the schema, so that importing them loads no zod (config-values.ts).
export * from './config-values.js';
import {
  EdgeConfigError,
  CLOCK_POLICIES,
  HJ_FLAGS,
  MIN_INTERVALS,
  RETRIES_MAX,
  TIMEOUT_SECONDS_MAX,
  type HjFlag,
} from './config-values.js';

const factorCode = z
  .string()
  .regex(/^[a-z]\d{5}$|^[a-z]{2}\d{3}$/, 'expected an HJ 212-2017 factor code such as w01018 or a21026 (appendix B)');
const id = z.string().regex(/^[A-Za-z][\w-]*$/, 'expected a name of letters, digits, - and _, such as rs485-1');

const registerSchema = z.strictObject({
  address: z
    .number()
    .int()
    .min(0)
    .max(0xffff)
    .describe('0-based PDU address (mbpoll -r counts from 1: use address + 1 there)'),
  type: z.enum(REGISTER_TYPES).default('float32'),
  byteOrder: z
    .enum(ORDERS)
    .default('big')
    .describe('byte order inside each 16-bit register; little swaps the two bytes (BADC, DCBA)'),
  wordOrder: z
    .enum(ORDERS)
    .default('big')
    .describe('order of the registers of a 32/64-bit value; little puts the low word first (CDAB)'),
  scale: z
    .number()
    .refine((n) => n !== 0, 'scale 0 would turn every reading into the offset; use 1')
    .default(1)
    .describe('value = raw × scale + offset'),
  offset: z.number().default(0),
  function: z.enum(['holding', 'input']).default('holding').describe('FC 03 (holding) or FC 04 (input registers)'),
});
export type RegisterSpec = z.output<typeof registerSchema>;

const DEFAULT_STATUS_FLAGS: Record<string, HjFlag> = { '0': 'N', '1': 'M', '2': 'C', '3': 'D', '4': 'T', '5': 'F' };

const statusSchema = registerSchema
  .extend({
    type: z.enum(['int16', 'uint16']).default('uint16'),
    flags: z
      .record(z.string().regex(/^\d+$/, 'status codes are register values such as 0 or 3'), z.enum(HJ_FLAGS))
      .default(DEFAULT_STATUS_FLAGS)
      .describe('status register value → HJ 212 data flag (table 8); a value not listed counts as D (fault)'),
  })
  .omit({ scale: true, offset: true });
export type StatusSpec = z.output<typeof statusSchema>;

const factorSchema = z.strictObject({
  code: factorCode,
  value: registerSchema,
  status: statusSchema.optional().describe("overrides the device's status register for this factor"),
  decimals: z.number().int().min(0).max(6).default(3).describe('decimals sent on the wire'),
  unit: z
    .string()
    .min(1)
    .optional()
    .describe(
      'the unit the analyzer reports (L/s, m3/s, m3/h, mg/L, ug/L, mg/m3, ug/m3, ppm, Pa, kPa...); the edge converts ' +
        "each reading to appendix B's unit. Default: appendix B's",
    ),
  molarMass: z
    .number()
    .positive()
    .optional()
    .describe('g/mol, to convert ppm to mg/m3 (M / 22.4 × ppm, HJ 212-2017 eq. 20) where the edge knows none'),
  converted: z
    .boolean()
    .optional()
    .describe('false: no converted (Zs) values for this factor, e.g. NMHC (a24088) judged as measured'),
  couUnit: z
    .enum(['kg', 'g', 'mg'])
    .optional()
    .describe("unit of Cou where the platform wants other than appendix B's (e.g. g for metals)"),
});

const parameterSchema = registerSchema.extend({
  info: z.string().regex(/^i\d{5}$/, 'expected an i-code of table B.10 such as i13004'),
});

const cycleSchema = registerSchema
  .extend({
    type: z.enum(['int16', 'uint16', 'int32', 'uint32']).default('uint32'),
    holds: z
      .enum(['sampleTime', 'counter'])
      .default('sampleTime')
      .describe(
        'sampleTime: the register holds the sample time of the value on display (Unix seconds, UTC); counter: a ' +
          'cycle counter or status that changes when a cycle completes (SampleTime is then the poll time)',
      ),
  })
  .omit({ scale: true, offset: true });
export type CycleSpec = z.output<typeof cycleSchema>;

const address = z.number().int().min(0).max(0xffff).describe('0-based PDU address');

/** How the analyzer is told to act: FC05 on a coil, or FC06/FC16 of a value into holding register(s). */
const triggerSchema = z.union([
  z.strictObject({ coil: address.describe('FC05 writes ON (0xFF00) to this coil') }),
  z.strictObject({
    register: address.describe('FC16 writes `value` here'),
    value: z.number().int().min(0).max(0xffff).default(1),
  }),
]);

/** The analyzer's verdict on the action; ExeRtn of HJ 212-2017 table 6 follows from it. */
export const VERDICTS = ['running', 'success', 'failure', 'busy', 'condition-error'] as const;
export type Verdict = (typeof VERDICTS)[number];
const verdictSchema = z.strictObject({
  address,
  function: z.enum(['holding', 'input']).default('holding'),
  values: z
    .record(z.string().regex(/^\d+$/, 'register values such as 0 or 2'), z.enum(VERDICTS))
    .describe('register value → verdict; running is polled again, a value not listed is a failure (ExeRtn 2)'),
  pollSeconds: z.number().positive().max(60).default(1),
  timeoutSeconds: z
    .number()
    .positive()
    .max(7200)
    .default(600)
    .describe('longest wait for a verdict other than running; then ExeRtn 2'),
});

const actionSchema = z.strictObject({ trigger: triggerSchema, verdict: verdictSchema.optional() });
const wordSchema = registerSchema
  .extend({ type: z.enum(['int16', 'uint16', 'int32', 'uint32']).default('uint16') })
  .omit({ scale: true, offset: true });

/** CstartTime (HJ 212-2017 §6.6.1, hhmmss) in the analyzer: the decimal number 143000, or seconds since midnight. */
const startTimeSchema = wordSchema.extend({
  format: z.enum(['hhmmss', 'secondsOfDay']).default('hhmmss'),
  type: z.enum(['uint32']).default('uint32'),
});
const periodSchema = wordSchema.describe('Ctime, hours between samples');

const controlSchema = z
  .strictObject({
    '3011': actionSchema.optional().describe('zero and span calibration (table C.30)'),
    '3012': actionSchema.optional().describe('immediate sampling (C.31)'),
    '3013': actionSchema.optional().describe('cleaning / back-flush (C.32)'),
    '3014': actionSchema.optional().describe('comparison sampling (C.33)'),
    '3015': actionSchema
      .extend({
        vaseNo: wordSchema.optional().describe('the bottle the sample went into (VaseNo), read after success'),
      })
      .optional()
      .describe('retained sample on exceedance (C.34): 9011, the 3015 upload with DataTime and VaseNo, 9012'),
    '3016': z
      .strictObject({
        startTime: startTimeSchema,
        period: periodSchema,
        verdict: verdictSchema.optional(),
      })
      .optional()
      .describe('set the sampling period (C.35): FC16 of CstartTime and Ctime'),
    '3017': z
      .strictObject({
        startTime: startTimeSchema,
        period: periodSchema,
      })
      .optional()
      .describe('get the sampling period (C.36): read, then the 3017 upload'),
    '3018': z
      .strictObject({ stime: wordSchema.describe('Stime, minutes') })
      .optional()
      .describe('get the sample-out time (C.37): read, then the 3018 upload'),
    '3019': z
      .strictObject({
        sn: z.strictObject({
          address,
          function: z.enum(['holding', 'input']).default('holding'),
          registers: z.number().int().min(1).max(32).default(6).describe('EPC96: 96 bits, 6 registers'),
          encoding: z
            .enum(['hex', 'ascii'])
            .default('hex')
            .describe('hex: 4 hex digits per register (EPC96 → 24); ascii: 2 characters per register, NULs trimmed'),
        }),
      })
      .optional()
      .describe('get the analyzer id (C.38): read, then the 3019 upload with PolId-SN'),
    '3022': actionSchema
      .optional()
      .describe('HJ 212-2025 instant sample retention (即时留样, docs/protocol-2025.md): 9011, 9012 on the verdict'),
    '3024': actionSchema
      .extend({
        // Without a verdict the result registers could still hold the last check's: required here.
        verdict: verdictSchema.describe('required: the result is read once it says success'),
        result: z
          .strictObject({
            standard: registerSchema.describe("the standard's value (StandardValue of the 2062)"),
            measured: registerSchema.describe("the analyzer's reading of the standard (Check of the 2062)"),
            passed: z
              .strictObject({
                address,
                function: z.enum(['holding', 'input']).default('holding'),
                values: z
                  .record(z.string().regex(/^\d+$/, 'register values such as 1 or 2'), z.enum(['pass', 'fail']))
                  .describe('register value → pass or fail; a value not listed sends no Pass field'),
              })
              .optional()
              .describe('whether the check passed, where the analyzer says so'),
          })
          .describe('read after the verdict says success; uploaded as CN 2062'),
      })
      .optional()
      .describe(
        'HJ 212-2025 start a standard check (启动标样核查): 9011, the verdict, the result read and uploaded as ' +
          '2062 through the outbox, 9012',
      ),
  })
  .describe(
    'analyzer control commands 3011-3019 (HJ 212-2017 table 9) and 3022/3024 (HJ 212-2025) mapped to Modbus; ' +
      'unmapped ones are refused',
  );
export type ControlConfig = z.output<typeof controlSchema>;

const deviceSchema = z.strictObject({
  id,
  bus: id.describe('the id of a bus in buses'),
  unit: z.number().int().min(0).max(247).describe('Modbus slave id'),
  pollSeconds: z.number().positive().max(3600).default(1),
  status: statusSchema.optional(),
  cycle: cycleSchema
    .optional()
    .describe(
      'a non-continuous analyzer (COD, NH3-N, TP, TN): its value is taken only when this register changes, with ' +
        'SampleTime, and an hour is its cycle value',
    ),
  factors: z.array(factorSchema).min(1, 'list at least one factor this device measures'),
  parameters: z
    .array(parameterSchema)
    .default([])
    .describe('analyzer parameters reported with CN 3020 (dynamic control)'),
  parametersPollSeconds: z.number().positive().default(60),
  control: controlSchema.optional(),
});
export type DeviceConfig = z.output<typeof deviceSchema>;

const facilitySchema = z.strictObject({
  code: z
    .string()
    .regex(/^SB\d{1,3}$/, 'expected a treatment-facility code SB1 to SB999 (table 4: SBxxx-RS, SBxxx-RT)'),
  name: z.string().optional(),
  bus: id.describe('the id of a bus in buses'),
  unit: z.number().int().min(0).max(247).describe('Modbus slave id of the controller reporting the run state'),
  pollSeconds: z.number().positive().max(3600).default(5),
  state: registerSchema
    .extend({ type: z.enum(['int16', 'uint16']).default('uint16') })
    .omit({ scale: true, offset: true })
    .describe('the run-state register'),
  states: z
    .record(z.string().regex(/^\d+$/, 'register values such as 0 or 1'), z.number().int().min(0).max(5))
    .default({ '0': 0, '1': 1 })
    .describe(
      'register value → run state of table 4 (0 off, 1 running, 2 calibrating, 3 maintenance, 4 alarm, 5 ' +
        'blowback); unlisted values count as 4',
    ),
});
export type FacilityConfig = z.output<typeof facilitySchema>;

/**
 * HJ 212-2025 data sets ST 44 (用电监控, 分表计电) and ST 45 (工况). The 2025 factor codes of these data
 * sets are not public here: each quantity is configured with the code the platform assigned; the
 * project convention for when it assigned none is in docs/protocol-2025.md ("ST 44 and ST 45").
 */
const quantitySchema = z.strictObject({
  code: factorCode,
  register: registerSchema,
  decimals: z.number().int().min(0).max(6).default(2).describe('decimals sent on the wire'),
});

const powerMeterSchema = z.strictObject({
  id,
  name: z.string().optional(),
  bus: id.describe('the id of a bus in buses'),
  unit: z.number().int().min(0).max(247).describe('Modbus slave id of the meter'),
  pollSeconds: z.number().positive().max(3600).default(5),
  serves: z
    .enum(['treatment', 'production'])
    .describe('what the metered circuit powers: a treatment facility (治污) or production (生产)'),
  facility: z
    .string()
    .min(1)
    .describe(
      'the facility it powers: SBxxx for a treatment facility (table 4), a line or workshop name for production',
    ),
  power: quantitySchema.describe('active power, kW'),
  energy: quantitySchema.optional().describe('active energy totaliser, kWh'),
  current: quantitySchema.optional().describe('phase current, A'),
});
export type PowerMeterConfig = z.output<typeof powerMeterSchema>;

const processSignalsSchema = z.strictObject({
  id,
  name: z.string().optional(),
  bus: id.describe('the id of a bus in buses'),
  unit: z.number().int().min(0).max(247).describe('Modbus slave id of the controller (PLC/DCS gateway)'),
  pollSeconds: z.number().positive().max(3600).default(5),
  signals: z
    .array(quantitySchema.extend({ name: z.string().optional() }))
    .min(1, 'list at least one signal: a run state (0/1), a temperature, a pressure...'),
});
export type ProcessSignalsConfig = z.output<typeof processSignalsSchema>;

const busCommon = {
  id,
  timeoutMs: z.number().int().min(50).max(60_000).default(1000).describe('timeout of every Modbus request'),
  maxGap: z
    .number()
    .int()
    .min(0)
    .max(120)
    .default(8)
    .describe('registers between two wanted ranges read anyway to save a request'),
  maxRegisters: z.number().int().min(1).max(125).default(100),
  backoffMaxSeconds: z
    .number()
    .positive()
    .default(60)
    .describe('longest pause before retrying a device that stopped answering'),
};

const tcpBusSchema = z.strictObject({
  ...busCommon,
  kind: z.literal('tcp'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(502),
});

const rtuBusSchema = z.strictObject({
  ...busCommon,
  kind: z.literal('rtu'),
  path: z.string().min(1).describe('serial device; prefer a stable /dev/serial/by-id/... name'),
  baudRate: z.number().int().positive().default(9600),
  parity: z.enum(['none', 'even', 'odd']).default('none'),
  dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
  stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
});
const busSchema = z.discriminatedUnion('kind', [tcpBusSchema, rtuBusSchema]);
export type BusConfig = z.output<typeof busSchema>;

const stationSchema = z.strictObject({
  mn: z
    .string()
    .regex(/^[0-9A-Za-z]{14,24}$/, 'expected the MN of the data logger: 14 to 24 letters and digits')
    .describe('HJ 212-2017/2025 platforms decoding strictly expect 24 hex digits; 14 characters is the older form'),
  st: z.string().regex(/^\d{2}$/, 'expected a system code of table 5, such as 32 (water) or 31 (air)'),
  kind: z.enum(['water', 'gas']).describe('water: Cou kg = mg/L × m3 × 1e-3; gas: Cou kg = mg/m3 × m3 × 1e-6'),
  serial: z
    .string()
    .regex(/^[0-9A-Za-z-]{1,32}$/, 'expected the serial number on the box: up to 32 letters, digits and -')
    .optional()
    .describe('the data logger hardware serial number, uploaded with CN 1001 at each connection of a 2025 uplink'),
  utcOffsetMinutes: z
    .number()
    .int()
    .min(-720)
    .max(840)
    .default(CHINA_UTC_OFFSET_MINUTES)
    .describe('HJ 212 times are local; China is UTC+8 (480)'),
  flow: z
    .strictObject({
      code: factorCode,
      unit: z
        .enum(['L/s', 'm3/s', 'm3/h'])
        .describe(
          "the unit the flow analyzer reports; readings are converted to appendix B's (w00000 L/s, a00000 m3/s)",
        ),
      basis: z
        .enum(['standard-dry', 'actual-wet'])
        .optional()
        .describe(
          'flue gas: standard-dry (the default, as most CEMS report it) is sent as read; actual-wet is converted ' +
            'with a01012, a01013, a01014 (HJ 212-2017 D.2.4 eq. 31)',
        ),
      pressure: z
        .enum(['static', 'absolute'])
        .optional()
        .describe('actual-wet only: a01013 is the static (gauge) pressure Ps (the default), or absolute Ba + Ps'),
      ambientPressureKPa: z
        .number()
        .min(50)
        .max(110)
        .optional()
        .describe('actual-wet with static pressure: the site atmospheric pressure Ba where no device measures a01006'),
    })
    .optional()
    .describe('the flow factor; needed for Cou (emission amounts)'),
  referenceO2: z
    .number()
    .min(0)
    .lt(21)
    .optional()
    .describe('reference O2 % of the emission standard, for converted (Zs) values'),
  o2Code: factorCode.default(O2_CODE),
});

const uplinkCommon = {
  id,
  mn: z
    .string()
    .regex(/^[0-9A-Za-z]{14,24}$/)
    .optional()
    .describe("this platform's MN for the station; defaults to station.mn"),
  pw: z.string().min(1).max(6).describe('access password the platform issued'),
  version: z
    .enum(['2005', '2017', '2025'])
    .default('2017')
    .describe('the edition the platform speaks; on HJ/T 212-2005 links factor codes go out as 2005 codes'),
  sm4Key: z
    .string()
    .regex(/^[0-9A-Fa-f]{32}$/, 'expected the SM4 key the platform issued: 32 hex digits (16 bytes)')
    .optional()
    .describe('HJ 212-2025: the CP of data commands (2000-2999), 1014 and 3020 is SM4-encrypted with this key'),
  keyRotationDays: z
    .number()
    .positive()
    .optional()
    .describe('HJ 212-2025: ask the platform for a new SM4 key (1014) once the key in force is this old; needs sm4Key'),
  keyGraceSeconds: z
    .number()
    .int()
    .min(0)
    .default(600)
    .describe('HJ 212-2025: after a key change (1014), frames under the old key are still decoded for this long'),
  heartbeatSeconds: z
    .number()
    .int()
    .min(5)
    .default(60)
    .describe(
      'HJ 212-2025: a heartbeat (9015) goes out when nothing else was sent for this long; not on 2005/2017 links',
    ),
  outboxBytes: z
    .number()
    .int()
    .min(64 * 1024)
    .default(64 * 1024 * 1024)
    .describe('outbox cap; beyond it the oldest real-time/minute records are dropped first'),
  realtime: z.boolean().default(true).describe('send real-time data (2011); many provinces ask for less'),
  runState: z
    .boolean()
    .default(true)
    .describe(
      'send treatment-facility run states (2021) with the real-time data; 2021/2022 from the platform switch it',
    ),
  window: z
    .number()
    .int()
    .min(1)
    .max(64)
    .default(4)
    .describe('records sent before waiting for their 9014; 1 is stop-and-wait'),
  timeoutSeconds: z
    .number()
    .positive()
    .max(TIMEOUT_SECONDS_MAX)
    .default(10)
    .describe("9014 answer timeout (table 1: 5-10 s); a platform's 1000 (OverTime) replaces it on every uplink"),
  retries: z
    .number()
    .int()
    .min(0)
    .max(RETRIES_MAX)
    .default(3)
    .describe("resends before the link is presumed dead (table 1: 3); a platform's 1000 (ReCount) replaces it"),
  reconnectMinSeconds: z.number().positive().default(1),
  reconnectMaxSeconds: z
    .number()
    .positive()
    .default(60)
    .describe('longest pause between reconnect attempts (back-off doubles up to it)'),
};

const tcpUplinkSchema = z.strictObject({
  ...uplinkCommon,
  kind: z.literal('hj212-tcp'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
});

const mqttUplinkSchema = z.strictObject({
  ...uplinkCommon,
  kind: z.literal('mqtt'),
  url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'expected a broker URL such as mqtts://broker:8883'),
  username: z.string().optional(),
  password: z.string().optional(),
  ca: z.string().optional().describe('PEM file of the CA that signed the broker certificate (TLS)'),
});
const uplinkSchema = z.discriminatedUnion('kind', [tcpUplinkSchema, mqttUplinkSchema]);
export type UplinkConfig = z.output<typeof uplinkSchema>;

export const edgeConfigSchema = z
  .strictObject({
    station: stationSchema,
    rtdIntervalSeconds: z.number().int().min(30).max(3600).default(30).describe('RtdInterval (1061/1062)'),
    minIntervalMinutes: z
      .number()
      .refine(
        (n) => (MIN_INTERVALS as readonly number[]).includes(n),
        `expected one of ${MIN_INTERVALS.join(', ')} (minutes that divide an hour)`,
      )
      .default(10)
      .describe('MinInterval (1063/1064)'),
    dataDir: z.string().min(1).describe('directory for the history and outbox databases'),
    historyDays: z.number().int().min(1).max(3650).default(180),
    clockTrusted: z
      .boolean()
      .default(false)
      .describe('the box keeps time by NTP or GPS: it does not ask platforms for the time (1013)'),
    clockPolicy: z
      .enum(CLOCK_POLICIES)
      .optional()
      .describe(
        "what a platform's 1012 does: 'set' sets the box clock; 'keep-ntp' keeps the NTP time, answers success and " +
          "logs the difference (default with clockTrusted: true, else 'set')",
      ),
    buses: z.array(busSchema).min(1, 'declare at least one Modbus bus'),
    devices: z.array(deviceSchema).min(1, 'declare at least one device'),
    facilities: z
      .array(facilitySchema)
      .default([])
      .describe('treatment facilities whose run state (2021) and daily run time (2041) are reported'),
    powerMeters: z
      .array(powerMeterSchema)
      .default([])
      .describe('HJ 212-2025 ST 44: power meters of treatment and production circuits, uploaded on 2025 uplinks'),
    processSignals: z
      .array(processSignalsSchema)
      .default([])
      .describe('HJ 212-2025 ST 45: production condition signals (工况), uploaded on 2025 uplinks'),
    uplinks: z.array(uplinkSchema).default([]),
    health: z
      .strictObject({
        host: z.string().default('127.0.0.1'),
        // 8213: next to the cloud API's 8212, so both run on one machine without a collision.
        port: z.number().int().min(0).max(65535).default(8213),
      })
      .optional(),
  })
  .superRefine((config, ctx) => {
    if (config.clockPolicy === 'keep-ntp' && !config.clockTrusted)
      ctx.addIssue({
        code: 'custom',
        path: ['clockPolicy'],
        message:
          "keep-ntp keeps a clock that follows NTP, and this box's does not: set clockTrusted: true (the box runs " +
          'NTP or GPS) or clockPolicy: set',
      });
    const buses = new Set(config.buses.map((b) => b.id));
    config.devices.forEach((device, i) => {
      if (!buses.has(device.bus)) {
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'bus'],
          message: `no bus has id ${device.bus}; declare it in buses or use one of ${[...buses].join(', ')}`,
        });
      }
    });
    config.facilities.forEach((f, i) => {
      if (!buses.has(f.bus))
        ctx.addIssue({
          code: 'custom',
          path: ['facilities', i, 'bus'],
          message: `no bus has id ${f.bus}; declare it in buses or use one of ${[...buses].join(', ')}`,
        });
      if (config.facilities.findIndex((g) => g.code === f.code) !== i)
        ctx.addIssue({
          code: 'custom',
          path: ['facilities', i, 'code'],
          message: `facility ${f.code} is listed twice`,
        });
    });
    for (const [list, key] of [
      [config.powerMeters, 'powerMeters'],
      [config.processSignals, 'processSignals'],
    ] as const)
      list.forEach((item, i) => {
        if (!buses.has(item.bus))
          ctx.addIssue({
            code: 'custom',
            path: [key, i, 'bus'],
            message: `no bus has id ${item.bus}; declare it in buses or use one of ${[...buses].join(', ')}`,
          });
      });
    for (const [list, key] of [
      [config.powerMeters, 'powerMeters'],
      [config.processSignals, 'processSignals'],
      [config.buses, 'buses'],
      [config.devices, 'devices'],
      [config.uplinks, 'uplinks'],
    ] as const) {
      const seen = new Set<string>();
      list.forEach((item, i) => {
        if (seen.has(item.id))
          ctx.addIssue({
            code: 'custom',
            path: [key, i, 'id'],
            message: `id ${item.id} is used twice; give each one its own`,
          });
        seen.add(item.id);
      });
    }
    const codes = [
      ...config.devices.flatMap((d, i) =>
        d.factors.map((f, j) => ({ code: f.code, path: ['devices', i, 'factors', j, 'code'] as PropertyKey[] })),
      ),
      ...config.powerMeters.flatMap((m, i) =>
        (['power', 'energy', 'current'] as const).flatMap((q) =>
          m[q] ? [{ code: m[q].code, path: ['powerMeters', i, q, 'code'] as PropertyKey[] }] : [],
        ),
      ),
      ...config.processSignals.flatMap((g, i) =>
        g.signals.map((s, j) => ({ code: s.code, path: ['processSignals', i, 'signals', j, 'code'] as PropertyKey[] })),
      ),
    ];
    const seenCodes = new Set<string>();
    for (const { code, path } of codes) {
      if (seenCodes.has(code))
        ctx.addIssue({ code: 'custom', path, message: `factor ${code} is measured twice; keep one source per factor` });
      seenCodes.add(code);
    }
    config.devices.forEach((d, i) =>
      d.factors.forEach((f, j) => {
        const unit = factor(f.code)?.unit;
        if (f.couUnit !== undefined && (unit === undefined || !(unit in GRAMS_PER_M3)))
          ctx.addIssue({
            code: 'custom',
            path: ['devices', i, 'factors', j, 'couUnit'],
            message: `${f.code} has no emission amount (its unit is ${unit ?? 'not in appendix B'}); remove couUnit`,
          });
      }),
    );
    config.uplinks.forEach((uplink, i) => {
      if (uplink.sm4Key !== undefined && uplink.version !== '2025') {
        ctx.addIssue({
          code: 'custom',
          path: ['uplinks', i, 'sm4Key'],
          message: 'SM4 encryption is part of HJ 212-2025: set version: "2025" or remove sm4Key',
        });
      }
      if (uplink.keyRotationDays !== undefined && uplink.sm4Key === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['uplinks', i, 'keyRotationDays'],
          message:
            'key rotation (1014) changes the SM4 key of an HJ 212-2025 link: set sm4Key or remove keyRotationDays',
        });
      }
    });
    const flow = config.station.flow?.code;
    if (flow !== undefined && !seenCodes.has(flow)) {
      ctx.addIssue({
        code: 'custom',
        path: ['station', 'flow', 'code'],
        message: `no device measures ${flow}; add it to a device's factors`,
      });
    }
    checkUnits(config, ctx);
    config.devices.forEach((device, i) => {
      const cycle = device.cycle;
      if (cycle?.holds === 'sampleTime' && (cycle.type === 'int16' || cycle.type === 'uint16'))
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'cycle', 'type'],
          message: 'a sample time in Unix seconds needs 32 bits: use uint32, or holds: counter',
        });
    });
    checkFlueGasBasis(config, seenCodes, ctx);
    if (config.station.referenceO2 !== undefined && !seenCodes.has(config.station.o2Code)) {
      ctx.addIssue({
        code: 'custom',
        path: ['station', 'referenceO2'],
        message: `converted values need O2 (${config.station.o2Code}) measured by a device`,
      });
    }
  })
  .superRefine(siteChecks);

type ParsedConfig = z.output<typeof edgeConfigSchema>;

/** Every factor's reading unit converts to appendix B's; the error names the factor and the fix. */
function checkUnits(config: ParsedConfig, ctx: z.core.$RefinementCtx): void {
  const flow = config.station.flow;
  config.devices.forEach((device, i) =>
    device.factors.forEach((f, j) => {
      const path = ['devices', i, 'factors', j, 'unit'];
      if (flow?.code === f.code && f.unit !== undefined && f.unit !== flow.unit)
        ctx.addIssue({
          code: 'custom',
          path,
          message: `${f.code} is read in ${f.unit} here but in ${flow.unit} in station.flow.unit; state the unit once`,
        });
      const unit = readingUnit(f, config.station);
      if (f.molarMass !== undefined && unit !== 'ppm')
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'factors', j, 'molarMass'],
          message: `${f.code}: molarMass converts ppm only; set unit: ppm or remove it`,
        });
      if (unit === undefined) return;
      const conversion = conversionFor(f.code, unit, f.molarMass);
      if (typeof conversion === 'string') ctx.addIssue({ code: 'custom', path, message: `${f.code}: ${conversion}` });
    }),
  );
}

/** HJ 212-2017 D.2.4 eq. (31) needs the flue gas temperature, pressure and humidity of the same instant. */
function checkFlueGasBasis(config: ParsedConfig, measured: ReadonlySet<string>, ctx: z.core.$RefinementCtx): void {
  const flow = config.station.flow;
  if (flow?.basis !== 'actual-wet') return;
  const path = ['station', 'flow', 'basis'];
  if (config.station.kind !== 'gas') {
    ctx.addIssue({
      code: 'custom',
      path,
      message: 'actual-wet is a flue-gas flow basis: remove it for a water outlet',
    });
    return;
  }
  const missing = FLUE_GAS_STATE_CODES.filter((code) => !measured.has(code));
  if (missing.length > 0)
    ctx.addIssue({
      code: 'custom',
      path,
      message:
        `converting actual wet flow to standard dry needs ${missing.join(', ')} (temperature a01012, pressure ` +
        'a01013, humidity a01014) measured by a device; add them or set basis: standard-dry',
    });
  if (flow.pressure !== 'absolute' && !measured.has('a01006') && flow.ambientPressureKPa === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['station', 'flow', 'ambientPressureKPa'],
      message:
        'static pressure needs the atmospheric pressure Ba: measure a01006, state ambientPressureKPa, or set ' +
        'pressure: absolute',
    });
}

/** Temperature (℃), pressure (kPa) and humidity (%) of the flue gas, appendix B table B.2. */
export const FLUE_GAS_STATE_CODES = ['a01012', 'a01013', 'a01014'] as const;

export type EdgeConfig = ParsedConfig;
export type EdgeConfigInput = z.input<typeof edgeConfigSchema>;

/** `plant.yaml: devices[cod].factors[w01018].value.address: …`: list items by their id, the fix said. */
function describeIssue(source: string, issue: z.core.$ZodIssue, input: unknown): string {
  return `${source}: ${issuePath(issue.path, input) || '(top level)'}: ${issueMessage(issue, input)}`;
}

/** Validates a parsed configuration; `source` (the file name) prefixes every error line. */
export function parseEdgeConfig(input: unknown, source = 'config'): EdgeConfig {
  const result = edgeConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new EdgeConfigError(result.error.issues.map((issue) => describeIssue(source, issue, input)).join('\n'));
}

export function parseEdgeConfigYaml(text: string, source = 'config'): EdgeConfig {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new EdgeConfigError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  return parseEdgeConfig(data, source);
}

export async function loadEdgeConfig(file: string): Promise<EdgeConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new EdgeConfigError(`${file}: cannot read the configuration: ${(err as Error).message}`);
  }
  return parseEdgeConfigYaml(text, file);
}

/** The JSON Schema editors use (yaml-language-server), generated from the zod schema it mirrors. */
export function edgeConfigJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(edgeConfigSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'hj212 edge agent configuration',
  };
}
