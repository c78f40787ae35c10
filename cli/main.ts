#!/usr/bin/env node
import { runCli } from './index.js';
import { endQuietlyOnClosedPipe } from './io.js';

endQuietlyOnClosedPipe(process.stdout, (code) => process.exit(code));
endQuietlyOnClosedPipe(process.stderr, (code) => process.exit(code));

process.exitCode = await runCli(process.argv.slice(2));
