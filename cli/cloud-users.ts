import type { ReadStream } from 'node:tty';
import { loadCloudConfig, openSqlite } from '../cloud/index.js';
import {
  passwordProblem,
  RoleSchema,
  SessionOptionsSchema,
  UserNameSchema,
  UserStore,
  type UserBook,
} from '../cloud/accounts.js';
import type { CloudConfig } from '../cloud/config.js';
import { PgSessionStore, PgUserStore } from '../cloud/state/pg-accounts.js';
import { migrate, openPg } from '../cloud/state/pg-schema.js';
import { scopeView, ScopeSchema } from '../cloud/scope.js';
import type { CliIo } from './index.js';

const ADD_USAGE =
  'hj212 cloud user add NAME --role read|operator|admin [--enterprise E | --region R] --config FILE.yaml';

export const USER_HELP = `       ${ADD_USAGE}
       hj212 cloud user passwd NAME --config FILE.yaml
                                                add an account, or set its password (read from stdin, or
                                                asked twice on a terminal without echo)
       hj212 cloud user role NAME --role ROLE --config FILE.yaml
       hj212 cloud user scope NAME [--enterprise E | --region R] --config FILE.yaml
                                                an enterprise user sees only its enterprise, an authority
                                                only its region; neither: the whole centre
       hj212 cloud user remove NAME --config FILE.yaml
       hj212 cloud user list --config FILE.yaml     the accounts in the config's state database (a cluster's:
                                                its PostgreSQL, cluster.postgres)
`;

/** Reads one line from a terminal with echo off (raw mode), showing the prompt on stderr. */
function askHidden(io: CliIo, prompt: string): Promise<string> {
  const tty = io.stdin as ReadStream;
  io.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (e?: Error): void => {
      tty.setRawMode(false);
      tty.pause();
      tty.off('data', onData);
      io.stderr.write('\n');
      if (e) reject(e);
      else resolve(typed);
    };
    const onData = (b: Buffer): void => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    tty.setRawMode(true);
    tty.resume();
    tty.on('data', onData);
  });
}

/** The first line of stdin (a pipe or a file: `echo "$PW" | hj212 cloud user add …`). */
async function firstLine(io: CliIo): Promise<string> {
  let text = '';
  for await (const chunk of io.stdin) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

async function readPassword(io: CliIo): Promise<string> {
  if (!(io.stdin as ReadStream).isTTY) return firstLine(io);
  const first = await askHidden(io, 'password: ');
  const again = await askHidden(io, 'again: ');
  if (first !== again) throw new UserCliError('the two passwords differ');
  return first;
}

class UserCliError extends Error {}

/** The accounts of a cloud config and how to end a user's sessions (a no-op where a running cloud does it). */
interface Accounts {
  users: UserBook;
  endSessions(user: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A single cloud's accounts are in its state database (SQLite); a cluster's in its PostgreSQL, migrated
 * first (the CLI may run before any process has). There a role or scope changed here also ends the user's
 * sessions on every process at once, as through the API; a removed user's go with the row, and a new
 * password ends them at their next request (the stamp).
 */
async function openAccounts(config: CloudConfig): Promise<Accounts> {
  if (config.cluster) {
    const pool = openPg(config.cluster.postgres, 2);
    try {
      await migrate(pool);
    } catch (e) {
      await pool.end();
      throw new UserCliError(`cluster.postgres: ${(e as Error).message}`);
    }
    // Only closeUser is used here, which no session option bears on.
    const sessions = new PgSessionStore(pool, SessionOptionsSchema.parse({}));
    return { users: new PgUserStore(pool), endSessions: (u) => sessions.closeUser(u), close: () => pool.end() };
  }
  const db = openSqlite(config.state);
  return { users: new UserStore(db), endSessions: async () => undefined, close: async () => void db.close() };
}

/** `hj212 cloud user …`: accounts in the state database of a cloud config (the cloud may be running). */
export async function userCommand(
  args: string[],
  opts: { config?: string; role?: string; enterprise?: string; region?: string },
  io: CliIo,
): Promise<number> {
  const [action, name] = args;
  const fail = (message: string, code = 1): number => {
    io.stderr.write(`hj212 cloud user: ${message}\n`);
    return code;
  };
  if (action === undefined || !['add', 'passwd', 'role', 'scope', 'remove', 'list'].includes(action))
    return fail(`say what to do: add, passwd, role, scope, remove or list\n${USER_HELP}`, 2);
  if (opts.config === undefined) return fail('--config FILE.yaml names the cloud whose accounts these are', 2);
  if (action !== 'list') {
    const valid = UserNameSchema.safeParse(name);
    if (!valid.success) return fail(name === undefined ? 'give a user name' : valid.error.issues[0]!.message, 2);
  }
  const role = opts.role === undefined ? undefined : RoleSchema.safeParse(opts.role);
  if (role && !role.success) return fail(`--role is read, operator or admin, not ${opts.role}`, 2);
  if ((action === 'add' || action === 'role') && !role) return fail('--role read|operator|admin is required', 2);
  const scope = ScopeSchema.safeParse(scopeView({ enterprise: opts.enterprise, region: opts.region }));
  if (!scope.success) return fail('--enterprise and --region exclude each other: an account is one or the other', 2);
  const config = await loadCloudConfig(opts.config);
  let accounts: Accounts;
  try {
    accounts = await openAccounts(config);
  } catch (e) {
    if (e instanceof UserCliError) return fail(e.message);
    throw e;
  }
  const { users } = accounts;
  try {
    const user = name!;
    switch (action) {
      case 'list':
        for (const u of await users.list())
          io.stdout.write(
            `${JSON.stringify({
              ...u,
              createdAt: new Date(u.createdAt).toISOString(),
              passwordChangedAt: new Date(u.passwordChangedAt).toISOString(),
            })}\n`,
          );
        return 0;
      case 'remove':
        if (!(await users.remove(user))) return fail(`no user ${user}`);
        io.stderr.write(`removed ${user}; a running cloud ends its sessions at their next request\n`);
        return 0;
      case 'scope':
        if (!(await users.setScope(user, scope.data))) return fail(`no user ${user}`);
        await accounts.endSessions(user);
        io.stderr.write(`${user} sees ${scope.data.enterprise ?? scope.data.region ?? 'the whole centre'} now\n`);
        return 0;
      case 'role':
        if (!(await users.setRole(user, role!.data!))) return fail(`no user ${user}`);
        await accounts.endSessions(user);
        io.stderr.write(`${user} is ${role!.data} now\n`);
        return 0;
    }
    if (action === 'add' && (await users.get(user)))
      return fail(`a user ${user} exists already (user passwd ${user} sets its password)`);
    if (action === 'passwd' && !(await users.get(user))) return fail(`no user ${user} (user add ${user} adds it)`);
    let password: string;
    try {
      password = await readPassword(io);
    } catch (e) {
      return fail((e as Error).message);
    }
    const problem = passwordProblem(user, password);
    if (problem !== undefined) return fail(problem);
    if (action === 'add') await users.add(user, role!.data!, password, scope.data);
    else {
      await users.passwd(user, password);
      await accounts.endSessions(user);
    }
    io.stderr.write(action === 'add' ? `added ${user} (${role!.data})\n` : `password of ${user} set\n`);
    return 0;
  } finally {
    await accounts.close();
  }
}
