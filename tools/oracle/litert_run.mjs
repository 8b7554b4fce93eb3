#!/usr/bin/env node
// litert_run.mjs — run a .tflite model in LiteRT.js 2.5.3 (XNNPACK in
// WebAssembly, 1 thread): the oracle of etpu's `litert` profile.
//
//   node litert_run.mjs MODEL.tflite OUTDIR IN0.bin [IN1.bin ...]
//       Runs the model once: INi.bin holds the raw bytes of model input i.
//       Writes output k (signature 0's order; for a model without
//       SignatureDefs that is the subgraph's output order) as
//       OUTDIR/output_<k>.bin, raw bytes.
//
//   node litert_run.mjs --each MODEL.tflite OUTROOT FILE...
//       Many runs in one process: compiles once, then takes the files in
//       groups of n (n = the model's input count; one file per run for a
//       one-input model) and writes run j's outputs as
//       OUTROOT/<j>/output_<k>.bin (j from 0). Saves a Node start-up and a
//       compile per run. LiteRT.js refuses models with variable tensors, so
//       no state carries over: each run equals a fresh process
//       (tests/oracle_litert.py checks that on run 0 of every model).
//
// Both print one JSON line on stdout describing the model's inputs and
// outputs ({"inputs":[{type,shape,bytes}],"outputs":[...]}).
// Exit status: 0 success; 2 usage; 3 LiteRT refused the model or failed to
// run it (the message says why); 4 I/O or input-size error.

import fs from 'node:fs';
import path from 'node:path';
import { loadLiteRt, LiteRtError } from './litert.mjs';

const USAGE = 'usage: node litert_run.mjs MODEL.tflite OUTDIR IN0.bin [IN1.bin ...]\n' +
  '       node litert_run.mjs --each MODEL.tflite OUTROOT IN_a.bin [IN_b.bin ...]';

function fail(code, msg) {
  process.stderr.write(`litert_run: ${msg}\n`);
  process.exit(code);
}

function readFile(p) {
  try {
    return new Uint8Array(fs.readFileSync(p));
  } catch (e) {
    fail(4, `cannot read ${p}: ${e.message}`);
  }
}

function writeOutputs(dir, outputs) {
  fs.mkdirSync(dir, { recursive: true });
  outputs.forEach((bytes, k) => fs.writeFileSync(path.join(dir, `output_${k}.bin`), bytes));
}

async function main(argv) {
  let each = false;
  if (argv[0] === '--each') {
    each = true;
    argv = argv.slice(1);
  }
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (argv.length < 3) fail(2, `missing arguments\n${USAGE}`);
  const [modelPath, outDir, ...inputs] = argv;
  const modelBytes = readFile(modelPath);
  const label = path.basename(modelPath);

  const rt = await loadLiteRt();
  const m = await rt.compile(modelBytes, label);
  const describe = JSON.stringify({ inputs: m.inputs, outputs: m.outputs });
  if (each) {
    const n = m.numInputs;
    if (n < 1 || inputs.length % n) {
      fail(2, `${label}: the model has ${n} inputs; ${inputs.length} files is not a whole number of runs`);
    }
    for (let j = 0; j * n < inputs.length; j++) {
      for (let i = 0; i < n; i++) m.setInput(i, readFile(inputs[j * n + i]));
      writeOutputs(path.join(outDir, String(j)), await m.run());
    }
  } else {
    if (inputs.length !== m.numInputs) {
      fail(2, `${label}: the model has ${m.numInputs} inputs, ${inputs.length} files given`);
    }
    inputs.forEach((p, i) => m.setInput(i, readFile(p)));
    writeOutputs(outDir, await m.run());
  }
  process.stdout.write(`${describe}\n`);
  // No m.delete(): the process ends here, and LiteRT.js's destructors have
  // crashed on models it half-ran (detection post-processing).
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof LiteRtError) fail(/bytes, the model wants/.test(e.message) ? 4 : 3, e.message);
    // A wasm trap or an embind exception: LiteRT could not run the model.
    const msg = String(e?.message ?? e).split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
    if (process.env.LITERT_VERBOSE === '1') process.stderr.write(`${e?.stack ?? e}\n`);
    fail(3, `LiteRT failed: ${msg}`);
  });
