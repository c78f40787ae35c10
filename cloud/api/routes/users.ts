import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { passwordProblem, RoleSchema, UserNameSchema, type SessionBook, type UserBook } from '../../accounts.js';
import type { Registry } from '../../registry.js';
import { scopeView, ScopeSchema, type Scope } from '../../scope.js';
import { assertCentre } from '../auth.js';
import { ApiErrors } from '../errors.js';
import { UserViewSchema } from '../schemas.js';

export interface UsersDeps {
  users: Pick<UserBook, 'list' | 'get' | 'add' | 'passwd' | 'setRole' | 'setScope' | 'remove'>;
  sessions: Pick<SessionBook, 'closeUser'>;
  /** The enterprises and regions a scope may name. */
  registry: () => Registry;
}

const UserParams = z.object({ name: z.string() });
const NewUserSchema = z
  .strictObject({
    name: UserNameSchema,
    role: RoleSchema,
    password: z.string().max(1024),
    /** An enterprise user (排污单位): sees and changes only this enterprise's outlets. */
    enterprise: z.string().min(1).optional(),
    /** An authority user (主管部门) of this region: sees and reviews only its stations. */
    region: z.string().min(1).optional(),
  })
  .refine((u) => u.enterprise === undefined || u.region === undefined, {
    message: 'an account is an enterprise user or an authority of a region, not both: give enterprise or region',
    path: ['region'],
  });
const PasswordSchema = z.strictObject({ password: z.string().max(1024) });
const ChangeSchema = z.strictObject({ role: RoleSchema });

/**
 * The accounts of the people who log in (admin only): `GET/POST /users`, `PUT /users/:name/password`,
 * `PUT /users/:name/role`, `DELETE /users/:name`. A changed password or role and a removed user end
 * that user's sessions at once.
 */
export const usersRoutes: FastifyPluginAsyncZod<UsersDeps> = async (app, { users, sessions, registry }) => {
  // Accounts are the centre's to manage: an enterprise's or an authority's admin manages its own data, not logins.
  app.addHook('preHandler', async (req) => assertCentre(req.principal!, 'managing accounts'));
  /** A scope must name an enterprise or region the registry has, or the account would see nothing. */
  const known = (scope: Scope): Scope => {
    const stations = registry().stations;
    if (scope.enterprise !== undefined && !stations.some((s) => s.enterprise === scope.enterprise))
      throw new ApiErrors.BadRequest(
        `body.enterprise: no enterprise ${scope.enterprise} in the registry (GET /stations lists them)`,
      );
    if (scope.region !== undefined && !stations.some((s) => s.region === scope.region))
      throw new ApiErrors.BadRequest(
        `body.region: no region ${scope.region} in the registry (GET /stations lists them)`,
      );
    return scopeView(scope);
  };
  const strong = (name: string, password: string): void => {
    const problem = passwordProblem(name, password);
    if (problem !== undefined) throw new ApiErrors.WeakPassword(problem);
  };
  const existing = async (name: string) => {
    const user = await users.get(name);
    if (!user) throw new ApiErrors.NoUser(name);
    return user;
  };

  app.get(
    '/users',
    {
      config: { role: 'admin' },
      schema: { summary: 'the accounts, by name', response: { 200: z.array(UserViewSchema) } },
    },
    async () => await users.list(),
  );

  app.post(
    '/users',
    {
      config: { role: 'admin' },
      schema: { summary: 'add an account', body: NewUserSchema, response: { 201: UserViewSchema } },
    },
    async ({ body, principal, log }, reply) => {
      strong(body.name, body.password);
      const scope = known(body);
      if (!(await users.add(body.name, body.role, body.password, scope))) throw new ApiErrors.UserExists(body.name);
      log.warn(
        { who: `user:${body.name}`, by: principal!.name, role: body.role, ...scope, reason: 'user-added' },
        'account added',
      );
      return reply.code(201).send(await existing(body.name));
    },
  );

  app.put(
    '/users/:name/password',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'set an account’s password (its sessions end)',
        params: UserParams,
        body: PasswordSchema,
        response: { 200: UserViewSchema },
      },
    },
    async ({ params, body, principal, log }) => {
      await existing(params.name);
      strong(params.name, body.password);
      await users.passwd(params.name, body.password);
      await sessions.closeUser(params.name);
      log.warn({ who: `user:${params.name}`, by: principal!.name, reason: 'password-set' }, 'password changed');
      return await existing(params.name);
    },
  );

  app.put(
    '/users/:name/role',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'change an account’s role (its sessions end)',
        params: UserParams,
        body: ChangeSchema,
        response: { 200: UserViewSchema },
      },
    },
    async ({ params, body, principal, log }) => {
      await existing(params.name);
      await users.setRole(params.name, body.role);
      await sessions.closeUser(params.name);
      log.warn(
        { who: `user:${params.name}`, by: principal!.name, role: body.role, reason: 'role-set' },
        'role changed',
      );
      return await existing(params.name);
    },
  );

  app.put(
    '/users/:name/scope',
    {
      config: { role: 'admin' },
      schema: {
        summary:
          'set whose data an account sees: an enterprise, a region, or (empty) the whole centre; its sessions end',
        params: UserParams,
        body: ScopeSchema,
        response: { 200: UserViewSchema },
      },
    },
    async ({ params, body, principal, log }) => {
      await existing(params.name);
      const scope = known(body);
      await users.setScope(params.name, scope);
      await sessions.closeUser(params.name);
      log.warn({ who: `user:${params.name}`, by: principal!.name, ...scope, reason: 'scope-set' }, 'scope changed');
      return await existing(params.name);
    },
  );

  app.delete(
    '/users/:name',
    {
      config: { role: 'admin' },
      schema: { summary: 'remove an account (its sessions end)', params: UserParams, response: { 204: z.null() } },
    },
    async ({ params, principal, log }, reply) => {
      if (!(await users.remove(params.name))) throw new ApiErrors.NoUser(params.name);
      await sessions.closeUser(params.name);
      log.warn({ who: `user:${params.name}`, by: principal!.name, reason: 'user-removed' }, 'account removed');
      return reply.code(204).send(null);
    },
  );
};
