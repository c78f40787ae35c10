import { commands } from './commands.js';

export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const defaultIo: CliIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  hj212 ${name.padEnd(18)} ${c.summary}`);
  return ['Usage: hj212 <command> [options]', '', 'Commands:', ...lines, ''].join('\n');
}

/** Runs one CLI invocation and resolves to the process exit code. */
export async function runCli(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  // `hj212 sim analyzer` style: a two-word command wins over a one-word one.
  const two = rest[0] !== undefined ? commands[`${name} ${rest[0]}`] : undefined;
  const command = two ?? commands[name];
  if (!command) {
    io.stderr.write(`hj212: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return command.run(two ? rest.slice(1) : rest, io);
}
