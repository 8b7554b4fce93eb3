#!/usr/bin/env node
// bench_litert.mjs — LiteRT's single-thread latency, the peer figure for
// etpu's interpreter (bench/run_latency_ratio.sh prints the ratio).
//
//   node bench/bench_litert.mjs [--runs N] [--warmup W] [--json] [MODEL.tflite...]
//
// LiteRT.js 2.5.3 (tools/oracle: run `npm ci` there first), WebAssembly
// build `compat` (SIMD128), accelerator 'wasm' = XNNPACK, 1 thread — the
// oracle of etpu's litert profile. One process, one compile per model, W
// warm-up runs (and at least 2 s of them), then N timed runs of `run()` (inference only; inputs are set
// once, outputs released outside the timed region); prints median and min.
// Default models: coral/mobilenet_v1_0.25_128_quant.tflite and
// coral/mobilenet_v2_1.0_224_quant.tflite from ../shared/data (or
// $ETPU_SHARED_DATA). Input: the litert golden input_0.bin (cat.bmp) of a
// model with the same input size when there is one, else fixed bytes.
// ORACLES.md §8 measured 1.92 ms and 15.7 ms for these two on its machine.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLiteRt, LiteRtError } from '../tools/oracle/litert.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SHARED = process.env.ETPU_SHARED_DATA || path.join(HERE, '..', '..', 'shared', 'data');
const DEFAULT_MODELS = ['coral/mobilenet_v1_0.25_128_quant.tflite', 'coral/mobilenet_v2_1.0_224_quant.tflite'];

function usage(msg) {
  if (msg) process.stderr.write(`bench_litert: ${msg}\n`);
  process.stderr.write('usage: node bench/bench_litert.mjs [--runs N] [--warmup W] [--json] [MODEL.tflite...]\n');
  process.exit(2);
}

// input_0.bin (cat.bmp) of a litert golden directory whose model input has
// this dtype and size; this model's own directory first.
function goldenInput(stem, type, bytes) {
  const dir = path.join(SHARED, 'goldens', 'litert');
  let names = [];
  try { names = fs.readdirSync(dir).sort(); } catch { return null; }
  names.sort((a, b) => (b === stem) - (a === stem));
  for (const name of names) {
    try {
      const man = JSON.parse(fs.readFileSync(path.join(dir, name, 'manifest.json'), 'utf8'));
      const t = man.model_input_tensors[0];
      const p = path.join(dir, name, 'input_0.bin');
      if (t.dtype === type && t.nbytes === bytes && fs.statSync(p).size === bytes) {
        return { data: new Uint8Array(fs.readFileSync(p)), what: `goldens/litert/${name}/input_0.bin (cat)` };
      }
    } catch { /* not a golden directory */ }
  }
  return null;
}

const WARMUP_MS = 2000; // minimum warm-up time per model, see main()

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(argv) {
  let runs = 50, warmup = 5, json = false;
  const models = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs' || a === '--warmup') {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < (a === '--runs' ? 1 : 0)) usage(`${a} needs a count`);
      if (a === '--runs') runs = v; else warmup = v;
    } else if (a === '--json') json = true;
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else models.push(a);
  }
  if (!models.length) models.push(...DEFAULT_MODELS.map((m) => path.join(SHARED, m)));

  const rt = await loadLiteRt();
  const results = [];
  for (const model of models) {
    let bytes;
    try { bytes = new Uint8Array(fs.readFileSync(model)); } catch (e) { usage(`cannot read ${model}: ${e.message}`); }
    const label = path.basename(model, '.tflite');
    const t0 = process.hrtime.bigint();
    const m = await rt.compile(bytes, label);
    const compileMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const inputs = [];
    for (let i = 0; i < m.numInputs; i++) {
      const g = m.numInputs === 1 ? goldenInput(label, m.inputs[i].type, m.inputs[i].bytes) : null;
      const data = g ? g.data : new Uint8Array(m.inputs[i].bytes).map((_, j) => (j * 7919) & 0xff);
      m.setInput(i, data);
      inputs.push(g ? g.what : 'fixed bytes');
    }
    // V8 compiles WebAssembly twice: a quick baseline first, the optimizing
    // tier in the background. Timing before it lands made LiteRT look 5x
    // slower on the small MobileNet (6-10 ms instead of 1-1.6 ms), so warm
    // up for at least WARMUP_MS as well as `warmup` runs.
    await m.time(warmup);
    const warmStart = process.hrtime.bigint();
    let warmed = warmup;
    while (Number(process.hrtime.bigint() - warmStart) / 1e6 < WARMUP_MS) {
      await m.time(1);
      warmed++;
    }
    const times = await m.time(runs);
    const r = {
      model: label, runtime: 'litert', litert: '2.5.3 wasm compat XNNPACK', threads: 1, runs, warmup: warmed,
      median_ms: median(times), min_ms: Math.min(...times), compile_ms: compileMs, input: inputs.join(', '),
    };
    results.push(r);
    if (!json) {
      console.log(`litert ${label}: median ${r.median_ms.toFixed(3)} ms, min ${r.min_ms.toFixed(3)} ms over ${runs} runs ` +
        `(after ${warmed} warm-up runs; load+compile ${compileMs.toFixed(0)} ms; 1 thread, XNNPACK, wasm compat; input ${r.input})`);
    }
  }
  if (json) console.log(JSON.stringify(results));
  return 0;
}

main(process.argv.slice(2)).then((c) => process.exit(c), (e) => {
  process.stderr.write(`bench_litert: ${e instanceof LiteRtError ? e.message : e?.stack ?? e}\n`);
  process.exit(3);
});
