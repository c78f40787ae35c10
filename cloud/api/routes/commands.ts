import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { sendCommand, type SendDeps } from '../../commands/send.js';
import { CommandBodySchema } from '../../commands/requests.js';
import { COMMAND_STATES, type CommandStore } from '../../commands/store.js';
import type { Registry } from '../../registry.js';
import { ApiErrors } from '../errors.js';
import { MnParams } from '../schemas.js';
import { stationOf } from './station.js';

export interface CommandsDeps extends Omit<SendDeps, 'commands'> {
  registry: () => Registry;
  commands: Pick<CommandStore, 'nextQn' | 'add' | 'get' | 'list' | 'expire'>;
}

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
      config: { role: 'operator' },
      schema: {
        summary: 'send a table-9 request to the station’s logger',
        params: MnParams,
        body: CommandBodySchema,
        response: { 201: CommandViewSchema },
      },
    },
    async ({ params, body, principal }, reply) => {
      const station = stationOf(registry, params.mn);
      const record = sendCommand(deps, station, body, principal!.name);
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
      commands.expire(now());
      return commands.list(station.mn, query.limit);
    },
  );

  app.get(
    '/commands/:id',
    {
      config: { role: 'read' },
      schema: { summary: 'one request and its answers', params: CommandParams, response: { 200: CommandViewSchema } },
    },
    async ({ params }) => {
      commands.expire(now());
      const record = commands.get(params.id);
      if (!record) throw new ApiErrors.NoCommand(params.id);
      return record;
    },
  );
};
