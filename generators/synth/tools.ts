/**
 * Runs YoWASP Yosys and nextpnr-ice40 (WebAssembly builds, no native install) in worker threads, a bounded number at a
 * time, and caches each job's outputs by a hash of everything that can change them: tool versions, arguments and the
 * content of every input file. An unchanged design is therefore never synthesized twice.
 */
import { version as nextpnrVersion } from '@yowasp/nextpnr-ice40';
import { version as yosysVersion } from '@yowasp/yosys';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

export type ToolName = 'yosys' | 'nextpnr-ice40';

/** Versions of the YoWASP packages; part of every cache key and of every report. */
export const TOOL_VERSIONS: Readonly<Record<ToolName, string>> = { yosys: yosysVersion, 'nextpnr-ice40': nextpnrVersion };

export interface ToolStep {
  tool: ToolName;
  args: string[];
}

/** Tool steps that share one virtual file tree: files written by a step are visible to the next. */
export interface ToolJob {
  /** Shown in progress lines and errors, e.g. "gemm hx8k place and route". */
  label: string;
  steps: ToolStep[];
  /** Input files (name → text) of the virtual file tree. */
  files: Record<string, string>;
  /** Names of the files to return (reports, not netlists). */
  keep: string[];
  /**
   * A failure whose log matches is a result, not an error (e.g. a design that does not fit the device): it is returned
   * with `failed` set and cached like any result.
   */
  acceptFailure?: RegExp;
}

export interface ToolLog {
  tool: string;
  seconds: number;
  text: string;
}

export interface ToolResult {
  outputs: Record<string, string>;
  /** Wall-clock seconds of each step when it ran (also when the result now comes from the cache). */
  logs: ToolLog[];
  cached: boolean;
  /** Set when the job failed in a way `acceptFailure` accepts; `outputs` then holds what the earlier steps wrote. */
  failed?: boolean;
}

/** A tool exited with an error: carries the tool's own error lines for the user. */
export class ToolError extends Error {
  constructor(
    readonly label: string,
    readonly tool: string,
    readonly code: number,
    readonly lines: string[],
  ) {
    super(`${label}: ${tool} failed (exit code ${code}):\n${lines.join('\n')}`);
    this.name = 'ToolError';
  }
}

/** The lines of a tool log that explain a failure: the first ERROR line with some context, else the last lines. */
export function errorLines(log: string): string[] {
  const lines = log.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
  const first = lines.findIndex((l) => /\bERROR\b/.test(l));
  if (first < 0) return lines.slice(-20);
  return lines.slice(Math.max(0, first - 8), first + 6);
}

/** A job that `cacheOnly` would have had to run. */
export class NotCachedError extends Error {
  constructor(readonly label: string) {
    super(`${label}: not in the synthesis cache`);
    this.name = 'NotCachedError';
  }
}

export interface RunnerOptions {
  /** Folder of cached results; undefined disables the cache. */
  cacheDir?: string;
  /** Never run a tool: a job missing from the cache throws NotCachedError. */
  cacheOnly?: boolean;
  /** Jobs run at once; default: the available cores. */
  parallel?: number;
}

interface WorkerReply {
  ok: boolean;
  tool?: string;
  code?: number;
  outputs?: Record<string, string>;
  logs: ToolLog[];
}

const workerUrl = new URL('./tool-worker.mjs', import.meta.url);

/** Runs jobs with at most `parallel` workers at a time, through the cache. */
export class ToolRunner {
  private readonly slots: JobSlots;
  private readonly workers = new Set<Worker>();
  private stopped = false;

  constructor(private readonly options: RunnerOptions = {}) {
    this.slots = new JobSlots(Math.max(1, options.parallel ?? availableParallelism()));
  }

  /** Cache key of a job: tool versions, steps, kept outputs and every input file. */
  static key(job: ToolJob): string {
    const hash = createHash('sha256');
    hash.update(JSON.stringify({ versions: TOOL_VERSIONS, steps: job.steps, keep: job.keep }));
    for (const name of Object.keys(job.files).sort()) hash.update(`\0${name}\0${job.files[name]}`);
    return hash.digest('hex');
  }

  /** Runs a job (or returns its cached result); a job of lower `priority` waits while one of higher priority waits. */
  async run(job: ToolJob, priority = 0): Promise<ToolResult> {
    const key = ToolRunner.key(job);
    const cached = this.readCache(key);
    if (cached) return { ...cached, cached: true };
    if (this.options.cacheOnly) throw new NotCachedError(job.label);
    await this.slots.acquire(priority);
    let reply: WorkerReply;
    try {
      if (this.stopped) throw new Error(`${job.label}: cancelled`);
      reply = await runWorker(job, this.workers);
    } finally {
      this.slots.release();
    }
    if (!reply.ok) {
      const failed = reply.logs.at(-1);
      if (job.acceptFailure && failed && job.acceptFailure.test(failed.text)) {
        const result = { outputs: reply.outputs ?? {}, logs: trimLogs(reply.logs, 200), failed: true };
        this.writeCache(key, result);
        return { ...result, cached: false };
      }
      throw new ToolError(job.label, reply.tool ?? 'tool', reply.code ?? -1, errorLines(failed?.text ?? ''));
    }
    for (const name of job.keep) {
      if (reply.outputs![name] === undefined) {
        throw new ToolError(job.label, job.steps.at(-1)!.tool, 0, [`did not write ${name}`, ...errorLines(reply.logs.at(-1)?.text ?? '')]);
      }
    }
    const result = { outputs: reply.outputs!, logs: trimLogs(reply.logs, 60) };
    this.writeCache(key, result);
    return { ...result, cached: false };
  }

  /** Stops every running job (after a failure elsewhere) so the process can exit at once. */
  cancel(): void {
    this.stopped = true;
    for (const worker of this.workers) void worker.terminate();
  }

  private readCache(key: string): Omit<ToolResult, 'cached'> | undefined {
    if (!this.options.cacheDir) return undefined;
    try {
      return JSON.parse(readFileSync(join(this.options.cacheDir, `${key}.json`), 'utf8')) as Omit<ToolResult, 'cached'>;
    } catch {
      return undefined;
    }
  }

  private writeCache(key: string, result: Omit<ToolResult, 'cached'>): void {
    if (!this.options.cacheDir) return;
    mkdirSync(this.options.cacheDir, { recursive: true });
    const path = join(this.options.cacheDir, `${key}.json`);
    const staging = `${path}.${process.pid}.tmp`;
    writeFileSync(staging, JSON.stringify(result));
    renameSync(staging, path);
  }
}

/**
 * At most `parallel` holders at a time. A caller that finds every slot taken waits; a freed slot goes to the waiting
 * caller of highest priority, the earliest to arrive among equals.
 */
export class JobSlots {
  private running = 0;
  /** Callers waiting for a slot, highest priority first, in arrival order within a priority. */
  private readonly waiting: Array<{ priority: number; start: () => void }> = [];

  constructor(private readonly parallel: number) {}

  /** Resolves when the caller holds a slot; it must call release() once done with it. */
  acquire(priority = 0): Promise<void> {
    if (this.running < this.parallel) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((start) => {
      const at = this.waiting.findIndex((w) => w.priority < priority);
      this.waiting.splice(at < 0 ? this.waiting.length : at, 0, { priority, start });
    });
  }

  /** Frees a slot: handed straight to the first waiting caller, if any. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next.start();
    else this.running--;
  }
}

/** Keeps the tail of each log only: enough to read the timing or utilisation summary, small enough to cache. */
function trimLogs(logs: ToolLog[], lines: number): ToolLog[] {
  return logs.map((l) => ({ ...l, text: l.text.split('\n').slice(-lines).join('\n') }));
}

function runWorker(job: ToolJob, active: Set<Worker>): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl, { workerData: { steps: job.steps, files: job.files, keep: job.keep } });
    active.add(worker);
    worker.once('exit', () => active.delete(worker));
    let settled = false;
    worker.once('message', (reply: WorkerReply) => { settled = true; resolve(reply); void worker.terminate(); });
    worker.once('error', (err) => { settled = true; reject(err); });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`${job.label}: worker exited with code ${code} before replying`));
    });
  });
}
