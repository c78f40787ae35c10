import { registerWidth } from '../../modbus/registers.js';
import type { RegisterType } from '../../modbus/registers.js';
import { profileSchema, RANGE_UPPER_PARAMETER } from './profile.js';
import type { AnalyzerProfile, AnalyzerProfileInput } from './profile.js';

/**
 * The built-in analyzers. They share one layout so an integrator configures the edge once:
 *   0-1 value float32 · 2 status · 3 value int16 (value = raw × scale) · 4-5 total uint32 (totalisers) ·
 *   or, on wet-chemistry analyzers (one reading a measurement cycle), 4-5 sample time uint32 · 6 cycle counter ·
 *   10-11 last calibration (Unix seconds) · 12-13 range upper limit · 14-15 standard-check reading ·
 *   20… working parameters. Gaps answer exception 02, as on most real analyzers.
 */
interface CatalogEntry {
  id: string;
  factor: string;
  name: string;
  unit: string;
  nominal: AnalyzerProfileInput['nominal'];
  rangeUpper: number;
  /** Scale of the int16 copy of the value (0.1: one decimal); omitted where the range does not fit 16 bits. */
  int16Scale?: number;
  total?: { unit: string; perSecond: number; initial: number; scale: number };
  standardCheck?: { reading: number; standard: number };
  working?: Record<string, WorkingParameter>;
  /** A non-continuous (wet-chemistry) analyzer, never a totaliser: registers 4-5 sample time, 6 cycle counter. */
  cyclic?: boolean;
}

interface WorkingParameter {
  type: RegisterType;
  scale?: number;
  initial: number;
  unit: string;
  description: string;
  min: number;
  max: number;
}

const WORKING_BASE = 20;

function analyzerProfile(entry: CatalogEntry): AnalyzerProfileInput {
  const { id, factor, name, unit, nominal, rangeUpper, int16Scale, total, standardCheck, working = {}, cyclic } = entry;
  const parameters: AnalyzerProfileInput['parameters'] = {
    [RANGE_UPPER_PARAMETER]: {
      initial: rangeUpper,
      unit,
      description: 'range upper limit; readings above it raise the over-range status',
      writable: true,
      min: 0,
    },
  };
  const registers: AnalyzerProfileInput['registers'] = [
    { address: 0, type: 'float32', source: 'value' },
    { address: 2, type: 'uint16', source: 'status' },
    { address: 10, type: 'uint32', source: 'lastCalibration' },
    { address: 12, type: 'float32', source: 'param', param: RANGE_UPPER_PARAMETER },
  ];
  if (int16Scale !== undefined) registers.push({ address: 3, type: 'int16', scale: int16Scale, source: 'value' });
  if (total) registers.push({ address: 4, type: 'uint32', scale: total.scale, source: 'total' });
  if (cyclic) {
    registers.push({ address: 4, type: 'uint32', source: 'sampleTime' });
    registers.push({ address: 6, type: 'uint16', source: 'cycle' });
  }
  if (standardCheck) {
    parameters.standardCheck = {
      initial: standardCheck.reading,
      unit,
      description: `reading of the last standard check (standard ${[standardCheck.standard, unit].join(' ').trim()})`,
    };
    registers.push({ address: 14, type: 'float32', source: 'param', param: 'standardCheck' });
  }
  let address = WORKING_BASE;
  for (const [param, { type, scale, ...spec }] of Object.entries(working)) {
    parameters[param] = { ...spec, writable: true };
    registers.push({ address, type, scale, source: 'param', param });
    address += registerWidth(type);
  }
  return {
    id,
    factor,
    name,
    unit,
    nominal,
    parameters,
    registers,
    ...(total && { total: { unit: total.unit, perSecond: total.perSecond, initial: total.initial } }),
  };
}

const digestion = (temperature: number, minutes: number): Record<string, WorkingParameter> => ({
  digestionTemp: {
    type: 'int16',
    scale: 0.1,
    initial: temperature,
    unit: '°C',
    description: 'digestion temperature',
    min: 80,
    max: 200,
  },
  digestionTime: { type: 'uint16', initial: minutes, unit: 'min', description: 'digestion time', min: 1, max: 120 },
});

const gasConditioning: Record<string, WorkingParameter> = {
  probeTemp: {
    type: 'int16',
    scale: 0.1,
    initial: 180,
    unit: '°C',
    description: 'heated probe temperature',
    min: 120,
    max: 220,
  },
  coolerTemp: {
    type: 'int16',
    scale: 0.1,
    initial: 4,
    unit: '°C',
    description: 'sample cooler temperature',
    min: 2,
    max: 10,
  },
};

/** Wet-chemistry analyzers give one reading per digestion and measurement cycle. */
const ANALYSIS_CYCLE = '1h';

const CATALOG: CatalogEntry[] = [
  {
    id: 'cod',
    factor: 'w01018',
    name: 'COD analyzer',
    unit: 'mg/L',
    rangeUpper: 500,
    int16Scale: 0.1,
    nominal: { mean: 45, amplitude: 10, noise: 2, sampleEvery: ANALYSIS_CYCLE },
    cyclic: true,
    standardCheck: { reading: 100.6, standard: 100 },
    working: digestion(165, 15),
  },
  {
    id: 'nh3n',
    factor: 'w21003',
    name: 'ammonia nitrogen (NH3-N) analyzer',
    unit: 'mg/L',
    rangeUpper: 50,
    int16Scale: 0.01,
    nominal: { mean: 2.5, amplitude: 0.8, noise: 0.15, sampleEvery: ANALYSIS_CYCLE },
    cyclic: true,
    standardCheck: { reading: 10.08, standard: 10 },
    working: {
      reactionTemp: {
        type: 'int16',
        scale: 0.1,
        initial: 38,
        unit: '°C',
        description: 'colour reaction temperature',
        min: 20,
        max: 60,
      },
      reactionTime: { type: 'uint16', initial: 10, unit: 'min', description: 'colour reaction time', min: 1, max: 60 },
    },
  },
  {
    id: 'tp',
    factor: 'w21011',
    name: 'total phosphorus analyzer',
    unit: 'mg/L',
    rangeUpper: 10,
    int16Scale: 0.001,
    nominal: { mean: 0.3, amplitude: 0.1, noise: 0.03, sampleEvery: ANALYSIS_CYCLE },
    cyclic: true,
    standardCheck: { reading: 2.02, standard: 2 },
    working: digestion(120, 30),
  },
  {
    id: 'tn',
    factor: 'w21001',
    name: 'total nitrogen analyzer',
    unit: 'mg/L',
    rangeUpper: 50,
    int16Scale: 0.01,
    nominal: { mean: 12, amplitude: 3, noise: 0.6, sampleEvery: ANALYSIS_CYCLE },
    cyclic: true,
    standardCheck: { reading: 10.15, standard: 10 },
    working: digestion(125, 30),
  },
  {
    id: 'ph',
    factor: 'w01001',
    name: 'pH meter',
    unit: '',
    rangeUpper: 14,
    int16Scale: 0.01,
    nominal: { mean: 7.2, amplitude: 0.3, noise: 0.05 },
    standardCheck: { reading: 6.87, standard: 6.86 },
  },
  {
    id: 'water-temp',
    factor: 'w01010',
    name: 'water temperature probe',
    unit: '°C',
    rangeUpper: 60,
    int16Scale: 0.1,
    nominal: { mean: 22, amplitude: 3, noise: 0.1 },
  },
  {
    id: 'water-flow',
    factor: 'w00000',
    name: 'wastewater flow meter',
    unit: 'L/s',
    rangeUpper: 200,
    int16Scale: 0.1,
    nominal: { mean: 35, amplitude: 12, noise: 1.5 },
    total: { unit: 'm3', perSecond: 0.001, initial: 12_345.6, scale: 0.1 },
    working: {
      pipeDiameter: {
        type: 'uint16',
        initial: 300,
        unit: 'mm',
        description: 'pipe inner diameter',
        min: 15,
        max: 3000,
      },
    },
  },
  {
    id: 'so2',
    factor: 'a21026',
    name: 'SO2 analyzer (CEMS)',
    unit: 'mg/m3',
    rangeUpper: 200,
    int16Scale: 0.1,
    nominal: { mean: 18, amplitude: 6, noise: 1.5 },
    standardCheck: { reading: 80.9, standard: 80 },
    working: gasConditioning,
  },
  {
    id: 'nox',
    factor: 'a21002',
    name: 'NOx analyzer (CEMS)',
    unit: 'mg/m3',
    rangeUpper: 300,
    int16Scale: 0.1,
    nominal: { mean: 35, amplitude: 10, noise: 3 },
    standardCheck: { reading: 151.2, standard: 150 },
    working: gasConditioning,
  },
  {
    id: 'particulate',
    factor: 'a34013',
    name: 'particulate monitor (CEMS)',
    unit: 'mg/m3',
    rangeUpper: 50,
    int16Scale: 0.01,
    nominal: { mean: 4.5, amplitude: 1.5, noise: 0.4 },
    working: {
      blowbackInterval: {
        type: 'uint16',
        initial: 60,
        unit: 'min',
        description: 'probe blow-back interval',
        min: 5,
        max: 1440,
      },
    },
  },
  {
    id: 'o2',
    factor: 'a19001',
    name: 'O2 analyzer (CEMS)',
    unit: '%',
    rangeUpper: 25,
    int16Scale: 0.01,
    nominal: { mean: 9.5, amplitude: 1, noise: 0.2 },
    standardCheck: { reading: 20.88, standard: 20.9 },
  },
  {
    id: 'flue-temp',
    factor: 'a01012',
    name: 'flue-gas temperature probe',
    unit: '°C',
    rangeUpper: 300,
    int16Scale: 0.1,
    nominal: { mean: 85, amplitude: 8, noise: 0.5 },
  },
  {
    id: 'flue-pressure',
    factor: 'a01013',
    name: 'flue-gas static pressure transmitter',
    unit: 'kPa',
    rangeUpper: 10,
    int16Scale: 0.001,
    nominal: { mean: -0.35, amplitude: 0.05, noise: 0.01 },
  },
  {
    id: 'flue-velocity',
    factor: 'a01011',
    name: 'flue-gas velocity meter (pitot)',
    unit: 'm/s',
    rangeUpper: 40,
    int16Scale: 0.01,
    nominal: { mean: 12, amplitude: 2, noise: 0.3 },
    working: {
      pitotCoefficient: {
        type: 'float32',
        initial: 0.84,
        unit: '',
        description: 'pitot tube coefficient',
        min: 0.5,
        max: 1.5,
      },
      velocityFieldCoefficient: {
        type: 'float32',
        initial: 1.05,
        unit: '',
        description: 'velocity-field coefficient',
        min: 0.5,
        max: 2,
      },
    },
  },
  {
    id: 'flue-humidity',
    factor: 'a01014',
    name: 'flue-gas humidity meter',
    unit: '%',
    rangeUpper: 40,
    int16Scale: 0.01,
    nominal: { mean: 8.5, amplitude: 1.5, noise: 0.2 },
  },
  {
    id: 'flue-flow',
    factor: 'a00000',
    name: 'flue-gas flow (CEMS)',
    unit: 'm3/h',
    rangeUpper: 500_000,
    nominal: { mean: 180_000, amplitude: 30_000, noise: 2000 },
    total: { unit: 'm3', perSecond: 1 / 3600, initial: 9_876_543, scale: 1 },
    working: {
      crossSectionArea: {
        type: 'float32',
        initial: 3.14,
        unit: 'm2',
        description: 'flue cross-section area',
        min: 0.01,
        max: 100,
      },
    },
  },
  {
    // HJ 212-2025 ST 44 (分表计电): active power in kW, the energy totaliser in kWh. p01001 is the project's
    // convention for a first meter's power (docs/protocol-2025.md): the 2025 codes are not public here.
    id: 'power-meter',
    factor: 'p01001',
    name: 'three-phase power meter',
    unit: 'kW',
    rangeUpper: 2000,
    int16Scale: 0.1,
    nominal: { mean: 120, amplitude: 30, noise: 2 },
    total: { unit: 'kWh', perSecond: 1 / 3600, initial: 50_000, scale: 0.1 },
  },
];

/** Built-in profiles by id, validated by the same schema as user-supplied ones. */
export const BUILTIN_PROFILES: ReadonlyMap<string, AnalyzerProfile> = new Map(
  CATALOG.map((entry) => [entry.id, profileSchema.parse(analyzerProfile(entry))]),
);
