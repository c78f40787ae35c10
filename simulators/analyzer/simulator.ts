import { pino } from 'pino';
import type { Logger } from 'pino';
import { warpedClock } from '../shared/clock.js';
import type { SimClock } from '../shared/clock.js';
import { planSimulation } from './config.js';
import type { AnalyzerConfig } from './config.js';
import { AnalyzerDevice } from './device.js';
import { answerRequest } from './modbus.js';
import type { Answer } from './modbus.js';
import { serveRtu } from './rtu.js';
import type { RtuOptions } from './rtu.js';
import { serveTcp } from './tcp.js';
import type { TcpOptions } from './tcp.js';

export interface AnalyzerSimulatorOptions {
  /** Defaults to start + warp × elapsed real time; inject a fixed clock to test at known instants. */
  clock?: SimClock;
  logger?: Logger;
}

export interface RunningAnalyzerSimulator {
  tcp: TcpOptions | undefined;
  rtu: RtuOptions | undefined;
  devices: ReadonlyMap<number, AnalyzerDevice>;
  close(): Promise<void>;
}

function logAnswer(logger: Logger, unit: number, pdu: Buffer, answer: Answer): void {
  if (!logger.isLevelEnabled('debug')) return;
  const request = { unit, fc: pdu[0], address: pdu.length >= 3 ? pdu.readUInt16BE(1) : undefined };
  const outcome =
    answer.kind === 'silent'
      ? { silent: answer.reason }
      : { reply: answer.pdu.toString('hex'), ...(answer.garble && { garble: answer.garble }) };
  logger.debug({ ...request, ...outcome }, 'modbus request');
}

/** Starts the configured transports; every transport serves the same devices. */
export async function startAnalyzerSimulator(
  config: AnalyzerConfig,
  options: AnalyzerSimulatorOptions = {},
): Promise<RunningAnalyzerSimulator> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const plan = planSimulation(config, options.clock?.now() ?? Date.now());
  const clock = options.clock ?? warpedClock(plan.start, plan.warp);
  const devices = new Map(
    plan.devices.map((d) => [d.unit, new AnalyzerDevice(d.unit, d.profile, d.signal, clock, d.standardCheck)]),
  );
  const respond = (unit: number, pdu: Buffer): Answer => {
    const answer = answerRequest(devices, unit, pdu);
    logAnswer(logger, unit, pdu, answer);
    return answer;
  };
  const tcp = plan.tcp ? await serveTcp(plan.tcp, respond, logger) : undefined;
  const closeTcpAndRethrow = async (err: unknown): Promise<never> => {
    await tcp?.close();
    throw err;
  };
  const rtu = plan.rtu ? await serveRtu(plan.rtu, respond, logger).catch(closeTcpAndRethrow) : undefined;
  logger.info(
    {
      tcp: tcp && `${tcp.address.host}:${tcp.address.port}`,
      rtu: plan.rtu && { path: plan.rtu.path, baudRate: plan.rtu.baudRate, parity: plan.rtu.parity },
      devices: plan.devices.map(({ unit, profile }) => ({ unit, profile: profile.id, factor: profile.factor })),
      start: new Date(plan.start).toISOString(),
      warp: plan.warp,
    },
    'analyzer simulator started',
  );
  return {
    tcp: tcp?.address,
    rtu: plan.rtu,
    devices,
    close: async () => {
      await Promise.all([tcp?.close(), rtu?.close()]);
      logger.info('analyzer simulator stopped');
    },
  };
}
