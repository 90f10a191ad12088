// Runs one synthesis job in a worker thread: a list of YoWASP tool steps sharing one virtual file tree, so that yosys's
// netlist feeds nextpnr without leaving memory. Plain JavaScript because worker threads do not inherit the tsx
// loader; the job and its result are described in generators/synth/tools.ts.
import { parentPort, workerData } from 'node:worker_threads';

const decoder = new TextDecoder();

async function command(tool) {
  if (tool === 'yosys') return (await import('@yowasp/yosys')).runYosys;
  if (tool === 'nextpnr-ice40') return (await import('@yowasp/nextpnr-ice40')).runNextpnrIce40;
  throw new Error(`unknown tool ${tool}`);
}

async function run({ steps, files, keep }) {
  let tree = { ...files };
  const logs = [];
  for (const step of steps) {
    const chunks = [];
    const collect = (bytes) => { if (bytes) chunks.push(decoder.decode(bytes)); };
    const run = await command(step.tool);
    const started = Date.now();
    try {
      tree = await run(step.args, tree, { stdout: collect, stderr: collect });
    } catch (err) {
      // An exit status from the tool, or a crash of the WebAssembly module itself (e.g. "unreachable" on abort).
      const crashed = !(err && typeof err.code === 'number');
      if (crashed) chunks.push(`\nERROR: ${step.tool} crashed: ${String(err?.message ?? err)}\n`);
      logs.push({ tool: step.tool, seconds: (Date.now() - started) / 1000, text: chunks.join('') });
      // What the earlier steps wrote (e.g. Yosys's statistics when nextpnr then fails).
      return { ok: false, tool: step.tool, code: crashed ? -1 : err.code, logs, outputs: kept(tree, keep) };
    }
    logs.push({ tool: step.tool, seconds: (Date.now() - started) / 1000, text: chunks.join('') });
  }
  return { ok: true, outputs: kept(tree, keep), logs };
}

function kept(tree, keep) {
  const outputs = {};
  for (const name of keep) {
    const value = tree[name];
    if (typeof value === 'string') outputs[name] = value;
    else if (value instanceof Uint8Array) outputs[name] = decoder.decode(value);
  }
  return outputs;
}

run(workerData).then(
  (result) => parentPort.postMessage(result),
  (err) => parentPort.postMessage({ ok: false, tool: 'worker', code: -1, logs: [{ tool: 'worker', seconds: 0, text: String(err?.stack ?? err) }] }),
);
