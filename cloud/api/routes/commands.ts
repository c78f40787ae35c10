import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { command, EXE_RTN, QN_RTN } from '../../../protocol/index.js';
import { sendCommand, type SendDeps } from '../../commands/send.js';
import { CommandBodySchema } from '../../commands/requests.js';
import { COMMAND_STATES, type CommandBook } from '../../commands/store.js';
import type { StationKeys } from '../../keys.js';
import type { StationPasswords } from '../../passwords.js';
import { hashSecret } from '../../secrets.js';
import type { Registry } from '../../registry.js';
import { assertSees } from '../auth.js';
import { ApiErrors } from '../errors.js';
import { MnParams } from '../schemas.js';
import { stationOf } from './station.js';

export interface CommandsDeps extends Omit<SendDeps, 'commands'> {
  registry: () => Registry;
  commands: Pick<CommandBook, 'nextQn' | 'add' | 'notConnected' | 'get' | 'list' | 'expire'>;
  /** HJ 212-2025 station keys (1014): issued here, withdrawn when the request cannot go out. */
  keys: Pick<StationKeys, 'issue' | 'withdraw' | 'keyed'>;
  /** PWs a 1072 sets: the centre takes the NewPW once the logger's 9012 confirms it (cloud/passwords.ts). */
  passwords: Pick<StationPasswords, 'propose'>;
}

/** What a recorded 1014 shows for its NewKey: the key itself stays in the key table, never in a command's record. */
export const KEY_REDACTED = '(new key)';

const CpSchema = z.object({
  params: z.record(z.string(), z.string()),
  factors: z.record(z.string(), z.record(z.string(), z.string())),
  info: z
    .array(z.object({ polId: z.string().optional(), codes: z.record(z.string(), z.record(z.string(), z.string())) }))
    .optional(),
});

/** A request and what came of it; times in ms since epoch. */
export const CommandViewSchema = z.object({
  id: z.number().int(),
  mn: z.string(),
  cn: z.string(),
  cp: CpSchema,
  qn: z.string(),
  sentAt: z.number(),
  by: z.string(),
  via: z.enum(['tcp', 'mqtt', 'http']).nullable(),
  deadline: z.number(),
  state: z.enum(COMMAND_STATES),
  result: z.object({ code: z.number().int(), meaning: z.string() }).nullable(),
  answers: z.array(z.object({ cn: z.string(), at: z.number(), cp: CpSchema })),
});

const NameSchema = z.object({ name: z.string(), nameEn: z.string() });

/**
 * Names of table 9 (HJ 212-2017) for the requests this API takes and the answers a logger sends, and of tables 6 and 7.
 */
export const CommandNamesSchema = z.object({
  requests: z.array(NameSchema.extend({ cn: z.string() })),
  answers: z.array(NameSchema.extend({ cn: z.string() })),
  exeRtn: z.array(NameSchema.extend({ code: z.number().int() })),
  qnRtn: z.array(NameSchema.extend({ code: z.number().int() })),
});

/** The CNs CommandBodySchema takes, in table 9's order. */
const REQUEST_CNS: string[] = CommandBodySchema.options.map((o) => o.shape.cn.value);

function commandNames(): z.output<typeof CommandNamesSchema> {
  const use = (cn: string, direction: 'down' | 'up') => {
    const u = command(cn)?.uses.find((x) => x.direction === direction);
    return u ? { cn, name: u.name, nameEn: u.nameEn } : [];
  };
  const uploads = [...new Set([...REQUEST_CNS, '9011', '9012', '9013'])];
  return {
    requests: REQUEST_CNS.flatMap((cn) => use(cn, 'down')),
    answers: uploads.flatMap((cn) => use(cn, 'up')),
    exeRtn: EXE_RTN.map(({ code, name, nameEn }) => ({ code, name, nameEn })),
    qnRtn: QN_RTN.map(({ code, name, nameEn }) => ({ code, name, nameEn })),
  };
}

export type CommandView = z.output<typeof CommandViewSchema>;

const CommandParams = z.object({ id: z.coerce.number().int().min(1) });
const ListQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

/**
 * `POST /stations/:mn/commands`: a request of HJ 212-2017 table 9 sent to the station's logger and
 * recorded with its answers (9011, 9012, the data); `GET /stations/:mn/commands`, `GET /commands/:id`.
 */
export const commandsRoutes: FastifyPluginAsyncZod<CommandsDeps> = async (app, deps) => {
  const { registry, commands, now } = deps;

  app.post(
    '/stations/:mn/commands',
    {
      // Reverse control (反控) is the platform's: an enterprise reads its logger's answers, it does not command it.
      config: { role: 'operator', reviewer: 'sending a request to a logger' },
      schema: {
        summary: 'send a table-9 request to the station’s logger',
        params: MnParams,
        body: CommandBodySchema,
        response: { 201: CommandViewSchema },
      },
    },
    async ({ params, body, principal }, reply) => {
      const station = stationOf(registry, params.mn);
      // C.9: the logger uses the NewPW after its 9012; hashed before the request goes, so it is held in time.
      const newPw = body.cn === '1072' ? await hashSecret(body.NewPW) : undefined;
      const record = await sendCommand(deps, station, body, principal!.name);
      if (newPw !== undefined && record.state === 'sent') deps.passwords.propose(station.mn, record.qn, newPw);
      if (record.state === 'not-connected') {
        const seen = deps.addressOf(station.mn);
        const why = !seen
          ? 'not heard since this server started'
          : seen.pw === undefined
            ? 'no PW heard to address it with'
            : `no ${seen.via} connection to it`;
        throw new ApiErrors.NotConnected(station.mn, `${why}; command ${record.id}`);
      }
      return reply.code(201).send(record);
    },
  );

  app.get(
    '/stations/:mn/commands',
    {
      config: { role: 'read' },
      schema: {
        summary: 'requests sent to the station’s logger, newest first, with their answers',
        params: MnParams,
        querystring: ListQuery,
        response: { 200: z.array(CommandViewSchema) },
      },
    },
    async ({ params, query }) => {
      const station = stationOf(registry, params.mn);
      await commands.expire(now());
      return commands.list(station.mn, query.limit);
    },
  );

  app.post(
    '/stations/:mn/key',
    {
      config: { role: 'admin' },
      schema: {
        summary:
          'issue the station a new SM4 key (HJ 212-2025 1014, docs/protocol-2025.md), ' +
          'recorded as a command with its 9011/9012',
        params: MnParams,
        response: { 201: CommandViewSchema },
      },
    },
    async ({ params, principal }, reply) => {
      const station = stationOf(registry, params.mn);
      if (!deps.keys.keyed(station.mn)) throw new ApiErrors.NoKey(station.mn);
      const at = now();
      const seen = deps.addressOf(station.mn);
      const packet = seen?.pw !== undefined ? deps.keys.issue(station.mn) : undefined;
      const sent = packet !== undefined && seen !== undefined && deps.send(station.mn, seen.via, packet);
      if (packet && !sent) deps.keys.withdraw(station.mn, packet.qn!);
      const record = await commands.add({
        mn: station.mn,
        cn: '1014',
        cp: { params: { NewKey: KEY_REDACTED }, factors: {} },
        // The 9011/9012 are found by the 1014's QN, which took its place in the station's sequence.
        qn: packet?.qn ?? commands.nextQn(station.mn, at),
        sentAt: at,
        by: principal!.name,
        via: seen?.via ?? null,
        deadline: at + station.timeoutSeconds * 1000,
        state: sent ? 'sent' : 'not-connected',
      });
      if (!sent) {
        const why = !seen ? 'not heard since this server started' : `no ${seen.via} connection to it`;
        throw new ApiErrors.NotConnected(station.mn, `${why}; command ${record.id}`);
      }
      return reply.code(201).send(record);
    },
  );

  const names = commandNames();
  app.get(
    '/command-names',
    {
      config: { role: 'read' },
      schema: {
        summary:
          'names of the requests, answers and result codes (HJ 212-2017 tables 9, 6, 7), as the dashboard labels them',
        response: { 200: CommandNamesSchema },
      },
    },
    async () => names,
  );

  app.get(
    '/commands/:id',
    {
      config: { role: 'read' },
      schema: { summary: 'one request and its answers', params: CommandParams, response: { 200: CommandViewSchema } },
    },
    async ({ params, principal }) => {
      await commands.expire(now());
      const record = await commands.get(params.id);
      if (!record) throw new ApiErrors.NoCommand(params.id);
      const station = registry().get(record.mn);
      if (station) assertSees(principal!, station);
      return record;
    },
  );
};
