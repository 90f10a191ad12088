/**
 * The command-line options, declared once. The JSDoc of each field is the source of `--help` and of
 * docs/parameters.md (scripts/docs.ts reads it with ts-morph); the parser below reads the same table.
 */

/** Options of `npm run gen`. */
export interface GenOptions {
  /** Width in bits of activations, weights and output codes (LayerNorm input/output codes, softmax input codes). @range 2..16 @default 4 */
  bits: number;
  /** Blocks to generate, comma-separated. @allowed the block names @default all */
  blocks: string;
  /** Folder the configuration folder is written into. @default rtl-out */
  out: string;
  /** JSON file of per-block overrides, one section per block named like --blocks ({"gemm": {...}, "softmax": {...}, ...}), and optionally "prefix"; see the block parameters below. @default none */
  spec: string;
  /** Starts every generated module and file name with PREFIX_ (a Verilog identifier of up to 32 characters); also "prefix" in the spec file. The configuration folder becomes <folder>-PREFIX. @default the configuration folder's name (bits4, bits4_1a2b3c4d), so module names are unique per configuration */
  prefix: string;
}

/** Options of `npm run verify` (besides --bits, --blocks and --spec of `gen`). */
export interface VerifyCliOptions {
  /** Vector file (format of ../shared/vectors/FORMAT.md): run each of its cases through the golden model and the RTL; exit status 1 when the RTL differs from the model or the model is outside its block's tolerance of the file's expected outputs (README, Verification results), 2 when a case names a block the project does not know. Each case fixes its widths, dimensions and constants (so --bits is refused); a --spec file then chooses only the hardware each case runs on: lanes (softmax, attention, gelu, residual, layernorm), rows and cols (gemm, encoder), requant_cycles (gemm, encoder), multiplier (gemm), datapath (layernorm, gelu, residual, encoder), max_token_units (layernorm); any other key is refused, and the JSON line gains "hardware". @default none: verify the default stimulus of each block */
  vectors: string;
  /** Print the report as one JSON object on the last line of standard output. @default false */
  json: boolean;
  /** Chance in percent that a testbench source or sink stalls in a cycle. @range 0..90 @default 20 */
  stall: number;
  /** Seed of the stall pattern and of random stimulus. @range 1..2147483647 @default 1 */
  seed: number;
  /** Write a VCD waveform beside each simulation run. @default false */
  vcd: boolean;
  /** With --vectors: generate ONE instance per block (per distinct set of generation-time widths among its cases), sized for the largest case, and run every case through it back to back in one simulation, each case's program loaded before its data; the JSON line gains "instances". Blocks whose constants already stream with the data (gemm) run case by case. @default false */
  'one-instance': boolean;
  /** With --vectors: write the model's output per case into DIR, for anyone to check the figures (encoder: DIR/<index>-encoder.json with {"output": N × C resid2 codes of the chained model}). @default none */
  dump: string;
  /** Simulator the testbenches run on; both see the same stimulus and stall pattern. Verilator compiles for seconds first, then runs large vector sets faster. @allowed icarus, verilator @default icarus */
  sim: string;
}

/** Options of `npm run synth` (besides --blocks, --out and --spec of `gen`). */
export interface SynthCliOptions {
  /** Widths to synthesize: one value or a comma-separated list (each 2 to 16); the plots span every width reported so far. @default 4 */
  bits: string;
  /** iCE40 part placed and routed with nextpnr-ice40 (HX8K in the CT256 package, UP5K in SG48; UP5K maps multipliers to its DSPs). @allowed hx8k, up5k @default hx8k */
  device: string;
  /** Families to report, comma-separated: ice40 is placed and routed, ecp5 and xilinx (7-series) are synthesized only, as estimates. @allowed ice40, ecp5, xilinx @default ice40,ecp5,xilinx */
  families: string;
  /** Placer seed of nextpnr. @range 1..2147483647 @default 1 */
  seed: number;
  /** Tool runs at once (each in a worker thread). @range 1..256 @default the available cores */
  jobs: number;
  /** Print the rows ({configuration, bits, block, device, lc, lut, ff, carry, bram, dsp, fmax_mhz}, plus lanes for a block that has them and macs, the MACs per cycle, on gemm rows) as one JSON object on the last line of standard output. @default false */
  json: boolean;
}

/** Options of `npm run bench`: each generated block beside its hand-written behavioural baseline, simulated, synthesized and routed in one run. */
export interface BenchCliOptions {
  /** Widths to benchmark, comma-separated. @default 4,8 */
  bits: string;
  /** Blocks to benchmark, comma-separated. @allowed the block names @default all */
  blocks: string;
  /** iCE40 part placed and routed. @allowed hx8k, up5k @default hx8k */
  device: string;
  /** Placer seed of nextpnr. @range 1..2147483647 @default 1 */
  seed: number;
  /** Tool runs at once. @range 1..256 @default the available cores */
  jobs: number;
  /** JSON file of per-block overrides, as for `gen`; give it several times for several variants. Each block with a section in a file is also benchmarked with it (no baseline: the baselines are the default hardware), beside its defaults. @default none */
  spec: string;
  /** Markdown file the benchmark table is written to. @default docs/benchmarks.md */
  doc: string;
  /** Run no synthesis tool: report only results already in the cache (build/synth-cache) and mark the other designs as not measured yet (to regenerate the document while a long run is still going). @default false */
  cached: boolean;
  /** Print the results as one JSON object on the last line of standard output. @default false */
  json: boolean;
}

/** Options of `npm run sweep`: every block at every width (and spec file), synthesized, placed and routed (cached like `synth`), with throughput and accuracy against float64 (the encoder: SQNR against a public case's float_out where its configuration runs one); shard it over machines with --shard and combine the reports with --merge. */
export interface SweepCliOptions {
  /** Blocks to sweep, comma-separated: those with an accuracy measure (gelu and residual are exact and attention is measured inside the encoder, so they have none of their own). @allowed the measured blocks @default all of them */
  blocks: string;
  /** Widths: values and ranges, comma-separated, e.g. 4,6,8 or 2..8 (each 2 to 16). @default none (required) */
  bits: string;
  /** JSON file of per-block overrides, as for `gen`; give it several times to sweep several variants (a file with no section for a block sweeps that block's defaults). @default none */
  spec: string;
  /** iCE40 part placed and routed. @allowed hx8k, up5k @default hx8k */
  device: string;
  /** Folder report.json, report.md, pareto-BLOCK.svg (pareto-BLOCK-METRIC.svg, one per metric, when a block's configurations are measured by different metrics) and fmax.svg are written into (replaced whole). @default none (required) */
  out: string;
  /** Run only the i-th of n disjoint parts of the configuration list (configurations i, i+n, i+2n, ... counting from 1), for a CI matrix; every configuration is in exactly one shard. @allowed i/n with 1 <= i <= n @default the whole sweep */
  shard: string;
  /** --merge DIR1 DIR2 ... --out DIR: combine the shards' reports into one (refuses shards of different sweeps and a configuration reported twice) and draw the plots. No synthesis runs. @default none */
  merge: string;
  /** Placer seed of nextpnr. @range 1..2147483647 @default 1 */
  seed: number;
  /** Tool runs at once. @range 1..256 @default the available cores */
  jobs: number;
}
