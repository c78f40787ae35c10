import { describe, expect, it } from 'vitest';
import { EdgeConfigError, parseEdgeConfig } from '../edge/index.js';
import { ReadingPipeline, dataStation, standardDryFlow } from '../edge/readings.js';
import { conversionFor } from '../edge/units.js';
import type { EdgeConfigInput } from '../edge/index.js';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EdgeConfigError);
    return (err as Error).message;
  }
  throw new Error('expected an EdgeConfigError');
}

const factorOf = (code: string, address: number, extra: Record<string, unknown> = {}) => ({
  code,
  value: { address },
  ...extra,
});

/** A CEMS stack on one TCP line: one device per factor, each factor's options given by the test. */
function cems(
  factors: Record<string, Record<string, unknown>>,
  flow: Record<string, unknown> = { code: 'a00000', unit: 'm3/h' },
): EdgeConfigInput {
  return {
    station: { mn: '370104201800010000A8C2F1', st: '31', kind: 'gas', flow: flow as never },
    dataDir: '/tmp/unused',
    buses: [{ id: 'cems', kind: 'tcp', host: '127.0.0.1', port: 502 }],
    devices: Object.entries(factors).map(([code, extra], i) => ({
      id: `d${i}`,
      bus: 'cems',
      unit: i + 1,
      factors: [factorOf(code, 0, extra)],
    })),
  };
}

const factorOfConversion = (code: string, unit: string, molarMass?: number): number => {
  const c = conversionFor(code, unit, molarMass);
  if (typeof c === 'string') throw new Error(c);
  return c.factor;
};

describe('units: every factor leaves in the unit of HJ 212-2017 appendix B', () => {
  it('converts flow, mass concentration, ppm and pressure by hand-computed factors', () => {
    // a00000 is m3/s in table B.2: 36000 m3/h ÷ 3600 s/h = 10 m3/s.
    expect(36000 * factorOfConversion('a00000', 'm3/h')).toBeCloseTo(10, 12);
    // w00000 is L/s in table B.1: 36 m3/h = 0.01 m3/s = 10 L/s.
    expect(36 * factorOfConversion('w00000', 'm3/h')).toBeCloseTo(10, 12);
    expect(0.25 * factorOfConversion('w00000', 'm3/s')).toBeCloseTo(250, 12);
    // SO2, eq. (20): C = M / 22.4 × ppm = 64.06 / 22.4 × 100 = 285.98214285714...
    expect(100 * factorOfConversion('a21026', 'ppm')).toBeCloseTo(285.982142857, 8);
    // NOx is reported as NO2: 46.01 / 22.4 × 50 = 102.700892857...
    expect(50 * factorOfConversion('a21002', 'ppm')).toBeCloseTo(102.700892857, 8);
    // NMHC has no molar mass the edge knows; as methane (16.04): 16.04 / 22.4 × 10 = 7.160714285...
    expect(10 * factorOfConversion('a24088', 'ppm', 16.04)).toBeCloseTo(7.160714286, 8);
    // 500 μg/m3 = 0.5 mg/m3; TP 300 μg/L = 0.3 mg/L; NH3 (table B.2 gives ng/m3) 2 mg/m3 = 2e6 ng/m3.
    expect(500 * factorOfConversion('a21026', 'ug/m3')).toBeCloseTo(0.5, 12);
    expect(300 * factorOfConversion('w21011', 'ug/L')).toBeCloseTo(0.3, 12);
    expect(2 * factorOfConversion('a21001', 'mg/m3')).toBeCloseTo(2e6, 3);
    // Flue gas pressure in kPa: −350 Pa = −0.35 kPa.
    expect(-350 * factorOfConversion('a01013', 'Pa')).toBeCloseTo(-0.35, 12);
    expect(factorOfConversion('w01018', 'mg/L')).toBe(1);
  });

  it('refuses a unit that cannot be converted, naming the factor', () => {
    expect(conversionFor('w01018', 'mg/m3')).toBe(
      'mg/m3 cannot be converted to mg/L, the unit appendix B gives w01018',
    );
    expect(conversionFor('a24088', 'ppm')).toBe(
      'no molar mass is known for a24088: state molarMass (g/mol) to convert ppm to mg/m3',
    );
    expect(conversionFor('w01018', 'ppm')).toBe(
      'ppm converts to a mass per cubic metre, but appendix B gives w01018 in mg/L',
    );
    const config = cems({ a01012: { unit: 'Pa' }, a21026: {}, a00000: {} });
    expect(errorOf(() => parseEdgeConfig(config, 'stack.yaml'))).toBe(
      'stack.yaml: devices[d0].factors[a01012].unit: a01012: ' +
        'Pa cannot be converted to ℃, the unit appendix B gives a01012',
    );
    const twice = cems({ a00000: { unit: 'L/s' } });
    expect(errorOf(() => parseEdgeConfig(twice, 'stack.yaml'))).toBe(
      'stack.yaml: devices[d0].factors[a00000].unit: ' +
        'a00000 is read in L/s here but in m3/h in station.flow.unit; state the unit once',
    );
  });

  it('feeds the aggregator appendix B values: 36000 m3/h is a00000 10 m3/s, and Cou in m3', () => {
    const config = parseEdgeConfig(cems({ a21026: { unit: 'ppm' }, a00000: {} }));
    const pipeline = new ReadingPipeline(config);
    const out = pipeline.accept(0, [
      { code: 'a21026', value: 100, flag: 'N' },
      { code: 'a00000', value: 36000, flag: 'N' },
    ]);
    expect(out[0]?.value).toBeCloseTo(285.982142857, 8);
    expect(out[1]).toEqual({ code: 'a00000', value: 10, flag: 'N' });
    // The data sets compute volumes in appendix B's unit: m3/s × seconds.
    expect(dataStation(config.station).flow).toEqual({ code: 'a00000', unit: 'm3/s' });
  });
});

describe('flue gas flow: standard dry by default, actual wet converted by HJ 212-2017 D.2.4 eq. (31)', () => {
  const actualWet = (extra: Record<string, unknown> = {}) => ({
    code: 'a00000',
    unit: 'm3/h',
    basis: 'actual-wet',
    ...extra,
  });
  const full = { a01012: {}, a01013: {}, a01014: {}, a00000: {} };

  it('computes Q_sn = Q_s × 273/(273+t) × (Ba+Ps)/101325 × (1−Xsw) by hand', () => {
    // 10 m3/s at 91 ℃, Ba + Ps = 101.675 − 0.35 = 101.325 kPa, 20 % humidity:
    // 10 × 273/364 × 101.325/101.325 × (1 − 0.20) = 10 × 0.75 × 1 × 0.8 = 6.00 m3/s.
    expect(standardDryFlow(10, 91, 101.325, 20)).toBeCloseTo(6, 12);
    // At 81.06 kPa absolute (81.06 / 101.325 = 0.8): 10 × 0.75 × 0.8 × 0.8 = 4.80 m3/s.
    expect(standardDryFlow(10, 91, 81.06, 20)).toBeCloseTo(4.8, 12);
  });

  it('takes the flow as read by default', () => {
    const pipeline = new ReadingPipeline(parseEdgeConfig(cems(full)));
    expect(pipeline.accept(0, [{ code: 'a00000', value: 36000, flag: 'N' }])[0]?.value).toBe(10);
  });

  it('converts an actual-wet flow with the latest temperature, pressure and humidity', () => {
    const config = parseEdgeConfig(cems(full, actualWet({ ambientPressureKPa: 81.41 })));
    const pipeline = new ReadingPipeline(config);
    // Nothing to convert with yet: no value, flagged D (fault), rather than an unconverted number.
    const first = pipeline.accept(0, [{ code: 'a00000', value: 36000, flag: 'N' }])[0]!;
    expect(first.flag).toBe('D');
    expect(Number.isNaN(first.value)).toBe(true);
    // 36000 m3/h = 10 m3/s; Ba + Ps = 81.41 − 0.35 = 81.06 kPa → 10 × 273/364 × 0.8 × (1 − 0.2) = 4.80 m3/s.
    const out = pipeline.accept(0, [
      { code: 'a01012', value: 91, flag: 'N' },
      { code: 'a01013', value: -0.35, flag: 'N' },
      { code: 'a01014', value: 20, flag: 'N' },
      { code: 'a00000', value: 36000, flag: 'N' },
    ]);
    expect(out[3]?.value).toBeCloseTo(4.8, 9);
    expect(out[3]?.flag).toBe('N');
    // The humidity meter in calibration: the converted flow is not valid either.
    const calibrating = pipeline.accept(0, [
      { code: 'a01014', value: 20, flag: 'C' },
      { code: 'a00000', value: 36000, flag: 'N' },
    ]);
    expect(calibrating[1]?.flag).toBe('C');
  });

  it('uses a measured atmospheric pressure (a01006) or an absolute a01013', () => {
    const measured = new ReadingPipeline(parseEdgeConfig(cems({ ...full, a01006: {} }, actualWet())));
    const out = measured.accept(0, [
      { code: 'a01006', value: 101.675, flag: 'N' },
      { code: 'a01012', value: 91, flag: 'N' },
      { code: 'a01013', value: -0.35, flag: 'N' },
      { code: 'a01014', value: 20, flag: 'N' },
      { code: 'a00000', value: 36000, flag: 'N' },
    ]);
    // 101.675 − 0.35 = 101.325 kPa: 10 × 0.75 × 1 × 0.8 = 6.00 m3/s.
    expect(out[4]?.value).toBeCloseTo(6, 9);
    const absolute = new ReadingPipeline(parseEdgeConfig(cems(full, actualWet({ pressure: 'absolute' }))));
    const abs = absolute.accept(0, [
      { code: 'a01012', value: 91, flag: 'N' },
      { code: 'a01013', value: 81.06, flag: 'N' },
      { code: 'a01014', value: 20, flag: 'N' },
      { code: 'a00000', value: 36000, flag: 'N' },
    ]);
    expect(abs[3]?.value).toBeCloseTo(4.8, 9);
  });

  it('refuses an actual-wet flow without temperature, pressure, humidity or atmospheric pressure', () => {
    const missing = cems({ a01012: {}, a00000: {} }, actualWet({ ambientPressureKPa: 100 }));
    expect(errorOf(() => parseEdgeConfig(missing, 'stack.yaml'))).toBe(
      'stack.yaml: station.flow.basis: converting actual wet flow to standard dry needs a01013, a01014 (temperature ' +
        'a01012, pressure a01013, humidity a01014) measured by a device; add them or set basis: standard-dry',
    );
    expect(errorOf(() => parseEdgeConfig(cems(full, actualWet()), 'stack.yaml'))).toBe(
      'stack.yaml: station.flow.ambientPressureKPa: static pressure needs the atmospheric pressure Ba: measure ' +
        'a01006, state ambientPressureKPa, or set pressure: absolute',
    );
  });
});

describe('configuration errors around units, flue gas and cycles', () => {
  it('names molarMass without ppm, actual-wet on a water outlet and a 16-bit sample time', () => {
    const molar = cems({ a21026: { molarMass: 64 }, a00000: {} });
    expect(errorOf(() => parseEdgeConfig(molar, 'stack.yaml'))).toBe(
      'stack.yaml: devices[d0].factors[a21026].molarMass: a21026: molarMass converts ppm only; ' +
        'set unit: ppm or remove it',
    );
    const water: EdgeConfigInput = {
      station: {
        mn: '010000A8900016F000169DC0',
        st: '32',
        kind: 'water',
        flow: { code: 'w00000', unit: 'L/s', basis: 'actual-wet' },
      },
      dataDir: '/tmp/unused',
      buses: [{ id: 'line', kind: 'tcp', host: '127.0.0.1', port: 502 }],
      devices: [
        { id: 'flow', bus: 'line', unit: 1, factors: [factorOf('w00000', 0)] },
        { id: 'cod', bus: 'line', unit: 2, cycle: { address: 6, type: 'uint16' }, factors: [factorOf('w01018', 0)] },
      ],
    };
    const message = errorOf(() => parseEdgeConfig(water, 'outlet.yaml'));
    expect(message).toContain(
      'outlet.yaml: station.flow.basis: actual-wet is a flue-gas flow basis: remove it for a water outlet',
    );
    expect(message).toContain(
      'outlet.yaml: devices[cod].cycle.type: a sample time in Unix seconds needs 32 bits: ' +
        'use uint32, or holds: counter',
    );
  });
});
