// A script's main run in the test's own process, with what the shell would see of `tsx scripts/<name>.ts ARGS`: the
// exit status, stdout and stderr. Starting Node and tsx again costs about a second of CPU per call, most of the
// time of a bad-argument case; each script keeps a few real runs through tsx for its command-line wiring.
import { exitStatus, type ScriptMain } from '../../scripts/cli.ts';

export interface ScriptRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Calls run one at a time: each captures process.stdout and process.stderr while its main runs. */
let queue: Promise<unknown> = Promise.resolve();

export function runInProcess(main: ScriptMain, argv: string[]): Promise<ScriptRun> {
  const run = queue.then(() => capture(main, argv));
  queue = run.catch(() => undefined);
  return run;
}

async function capture(main: ScriptMain, argv: string[]): Promise<ScriptRun> {
  const out: string[] = [];
  const err: string[] = [];
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  const into = (sink: string[]) => ((chunk: string | Uint8Array) => {
    sink.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = into(out);
  process.stderr.write = into(err);
  try {
    const exitCode = await exitStatus(main, argv);
    // As execa gives them: without the final newline
    return { exitCode, stdout: out.join('').replace(/\n$/, ''), stderr: err.join('').replace(/\n$/, '') };
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
  }
}
