// litert.mjs — LiteRT.js (@litertjs/core 2.5.3) under plain Node, through its
// low-level embind API (shared/docs/ORACLES.md §2).
//
// The package's loader is browser-only, but its emscripten glue has a Node
// branch: evaluate the glue with `vm` inside a CommonJS-style wrapper that
// supplies require/__dirname/__filename, call the factory, await the module.
// Build `compat` (SIMD128 without relaxed SIMD: Node 20 needs a flag for
// relaxed SIMD), accelerator 'wasm' (the XNNPACK delegate plus TFLite builtin
// kernels), 1 thread. These are package internals: re-validate on any upgrade.

import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));

export const LITERT_VERSION = '2.5.3';
export const WASM_BUILD = 'compat';

// ElementType values (index.d.ts) -> names, as etpu and the goldens spell them.
export const ELEMENT_TYPE = {
  0: 'NONE', 1: 'FLOAT32', 2: 'INT32', 3: 'UINT8', 4: 'INT64', 5: 'STRING', 6: 'BOOL', 7: 'INT16',
  8: 'COMPLEX64', 9: 'INT8', 10: 'FLOAT16', 11: 'FLOAT64', 12: 'COMPLEX128', 13: 'UINT64',
  14: 'RESOURCE', 15: 'VARIANT', 16: 'UINT32', 17: 'UINT16', 18: 'INT4', 19: 'BFLOAT16',
};

// LiteRT prints its errors through the module's printErr; they are kept here
// so a refusal can be reported (and so a "successful" call that logged an
// error, as with an unresolved custom op, is not trusted).
export class LiteRtError extends Error {}

function packageDir() {
  const pkg = require.resolve('@litertjs/core/package.json', { paths: [HERE] });
  const dir = path.dirname(pkg);
  const version = JSON.parse(fs.readFileSync(pkg, 'utf8')).version;
  if (version !== LITERT_VERSION) {
    throw new LiteRtError(`@litertjs/core is ${version}, expected ${LITERT_VERSION}: run \`npm ci\` in ${HERE}`);
  }
  return dir;
}

// What LiteRT logs is echoed to stderr, except its INFO lines and the NPU
// registry warning (there is no NPU in WebAssembly), unless LITERT_VERBOSE=1.
const VERBOSE = process.env.LITERT_VERBOSE === '1';
const NOISE = /^INFO: |NPU accelerator could not be loaded/;

export async function loadLiteRt({ quiet = false } = {}) {
  let dir;
  try {
    dir = packageDir();
  } catch (e) {
    if (e instanceof LiteRtError) throw e;
    throw new LiteRtError(`@litertjs/core is not installed: run \`npm ci\` in ${HERE} (${e.message})`);
  }
  const glue = path.join(dir, 'wasm', `litert_wasm_${WASM_BUILD}_internal.js`);
  const source = fs.readFileSync(glue, 'utf8');
  const wrapper = vm.runInThisContext(
    `(function (exports, require, module, __filename, __dirname) {\n${source}\n})`,
    { filename: glue });
  const mod = { exports: {} };
  wrapper(mod.exports, require, mod, glue, path.dirname(glue));
  const factory = mod.exports.default ?? mod.exports;
  if (typeof factory !== 'function') throw new LiteRtError(`${glue}: no ModuleFactory export`);
  const log = [];
  const echo = (s) => {
    s = String(s);
    log.push(s);
    if (VERBOSE || (!quiet && !NOISE.test(s))) process.stderr.write(`litert: ${s}\n`);
  };
  const wasm = await factory({ print: echo, printErr: echo });
  wasm.setupLogging();
  return new LiteRt(wasm, log);
}

function vecToArray(v) {
  const a = [];
  for (let i = 0; i < v.size(); i++) a.push(v.get(i));
  v.delete();
  return a;
}

// LiteRT.js throws from bytes() for a dynamic dimension (shape_signature -1,
// as in hello_world_int8); that is a refusal too.
function describeType(t, what) {
  const layout = t.layout();
  const dims = vecToArray(layout.dimensions());
  layout.delete();
  const type = ELEMENT_TYPE[t.elementType().value] ?? `type${t.elementType().value}`;
  let bytes;
  try {
    bytes = t.bytes();
  } catch (e) {
    throw new LiteRtError(`${what} (${type} [${dims}]): LiteRT cannot size it (dynamic shape?): ` +
      String(e.message ?? e).split('\n').join(' '));
  }
  return { type, shape: dims, bytes };
}

// Lines LiteRT logs when it cannot run a model, even if the call returned.
const REFUSAL = /\bERROR\b|[Ff]ailed to|failed to prepare|unresolved custom op|not yet supported|invalid/;

class LiteRt {
  constructor(wasm, log) {
    this.wasm = wasm;
    this.log = log;
    this.env = wasm.LiteRtEnvironment.create(null);
  }

  // Errors logged since `mark`, as one string ('' if none).
  errorsSince(mark) {
    return this.log.slice(mark).filter((l) => REFUSAL.test(l)).join(' | ');
  }

  async compile(modelBytes, label) {
    const w = this.wasm;
    const mark = this.log.length;
    const ptr = w._malloc(modelBytes.byteLength);
    w.HEAPU8.set(modelBytes, ptr);
    let model, compiled;
    try {
      model = w.loadModel(this.env, ptr, modelBytes.byteLength);
    } catch (e) {
      w._free(ptr);
      throw new LiteRtError(`${label}: LiteRT refused the model at load: ${this.errorsSince(mark) || e.message || e}`);
    }
    if (!model) {
      w._free(ptr);
      throw new LiteRtError(`${label}: LiteRT refused the model at load: ${this.errorsSince(mark) || 'no model'}`);
    }
    try {
      compiled = await w.compileModel(this.env, model, {
        accelerator: 'wasm', cpuOptions: { numThreads: 1 }, gpuOptions: {}, webNNOptions: {},
      });
    } catch (e) {
      model.delete();
      w._free(ptr);
      throw new LiteRtError(`${label}: LiteRT refused the model at compile: ${this.errorsSince(mark) || e.message || e}`);
    }
    const errs = this.errorsSince(mark);
    if (errs) {
      compiled.delete();
      model.delete();
      w._free(ptr);
      throw new LiteRtError(`${label}: LiteRT logged errors while compiling the model (treated as a refusal): ${errs}`);
    }
    return new Compiled(this, model, compiled, ptr, label);
  }
}

class Compiled {
  constructor(rt, model, compiled, ptr, label) {
    this.rt = rt;
    this.model = model;
    this.compiled = compiled;
    this.ptr = ptr;
    this.label = label;
    const sig = model.getSignature(0);
    this.numInputs = vecToArray(sig.inputNames()).length;
    this.numOutputs = vecToArray(sig.outputNames()).length;
    sig.delete();
    this.inputs = [];
    for (let i = 0; i < this.numInputs; i++) {
      const t = model.getInputTensorType(0, i);
      this.inputs.push(describeType(t, `${label}: input ${i}`));
      t.delete();
    }
    this.outputs = [];
    for (let i = 0; i < this.numOutputs; i++) {
      const t = model.getOutputTensorType(0, i);
      this.outputs.push(describeType(t, `${label}: output ${i}`));
      t.delete();
    }
    this.inputBuffers = null;
  }

  // Host-memory input buffers, created once and reused by every run.
  makeInputBuffers() {
    const w = this.rt.wasm;
    this.inputBuffers = [];
    for (let i = 0; i < this.numInputs; i++) {
      const t = this.model.getInputTensorType(0, i);
      const b = w.LiteRtTensorBuffer.createManaged(this.rt.env, w.LiteRtTensorBufferType.HOST_MEMORY, t, t.bytes());
      t.delete();
      this.inputBuffers.push(b);
    }
  }

  setInput(i, bytes) {
    const w = this.rt.wasm;
    const want = this.inputs[i].bytes;
    if (bytes.byteLength !== want) {
      throw new LiteRtError(`${this.label}: input ${i} has ${bytes.byteLength} bytes, the model wants ${want} ` +
        `(${this.inputs[i].type} [${this.inputs[i].shape}])`);
    }
    if (!this.inputBuffers) this.makeInputBuffers();
    const b = this.inputBuffers[i];
    const p = b.lock(w.LiteRtTensorBufferLockMode.WRITE);
    try {
      w.HEAPU8.set(bytes, p);
    } finally {
      b.unlock();
    }
  }

  // Time n runs of signature 0 on the inputs set (inference only: output
  // buffers are released outside the timed region). Returns milliseconds.
  async time(n) {
    if (!this.inputBuffers) throw new LiteRtError(`${this.label}: no inputs set`);
    const times = [];
    for (let r = 0; r < n; r++) {
      const t0 = process.hrtime.bigint();
      const outs = await this.compiled.run(0, this.inputBuffers);
      const t1 = process.hrtime.bigint();
      times.push(Number(t1 - t0) / 1e6);
      for (const b of outs) b.delete();
    }
    return times;
  }

  // Run signature 0 on the inputs set; returns one Uint8Array (a copy) per output.
  async run() {
    const w = this.rt.wasm;
    if (!this.inputBuffers) throw new LiteRtError(`${this.label}: no inputs set`);
    const mark = this.rt.log.length;
    let outs;
    try {
      outs = await this.compiled.run(0, this.inputBuffers);
    } catch (e) {
      throw new LiteRtError(`${this.label}: LiteRT failed to run the model: ${this.rt.errorsSince(mark) || e.message || e}`);
    }
    const errs = this.rt.errorsSince(mark);
    const result = [];
    for (let k = 0; k < outs.length; k++) {
      const b = outs[k];
      if (!errs) {
        const want = this.outputs[k]?.bytes;
        if (b.size() !== b.packedSize() || b.offset() !== 0 || b.packedSize() !== want) {
          // Seen with TFLite_Detection_PostProcess outputs, whose declared
          // shape is [] (dynamic): LiteRT.js returns nonsense sizes.
          throw new LiteRtError(`${this.label}: output ${k} (${this.outputs[k]?.type} [${this.outputs[k]?.shape}], ` +
            `${want} bytes) came back as ${b.packedSize()} bytes at offset ${b.offset()}: ` +
            'LiteRT.js cannot return this output (dynamic shape?)');
        }
        const p = b.lock(w.LiteRtTensorBufferLockMode.READ);
        try {
          result.push(w.HEAPU8.slice(p, p + b.packedSize()));
        } finally {
          b.unlock();
        }
      }
      b.delete();
    }
    if (errs) throw new LiteRtError(`${this.label}: LiteRT failed to run the model: ${errs}`);
    if (result.length !== this.numOutputs) {
      throw new LiteRtError(`${this.label}: LiteRT returned ${result.length} outputs, the signature has ${this.numOutputs}`);
    }
    return result;
  }

  delete() {
    for (const b of this.inputBuffers ?? []) b.delete();
    this.inputBuffers = null;
    this.compiled.delete();
    this.model.delete();
    this.rt.wasm._free(this.ptr);
  }
}
