#!/usr/bin/env bash
# run_latency_ratio.sh — etpu's single-thread latency against LiteRT's, in
# one run on one machine, for MobileNet v1 0.25 (128) and MobileNet v2 1.0
# (224), the two uint8 Coral classifiers; prints the ratio etpu / LiteRT.
#
#   bash bench/run_latency_ratio.sh [BUILD_DIR]      (default: build)
#   RUNS=100 bash bench/run_latency_ratio.sh         (timed runs per side; default 50)
#
# LiteRT: bench/bench_litert.mjs (LiteRT.js 2.5.3, XNNPACK in WebAssembly,
# 1 thread; needs Node and `npm ci` in tools/oracle), on the model's litert
# golden input_0.bin (cat.bmp resized by ImageMagick). etpu: the "litert"
# line of BUILD_DIR/bench/bench_run N MODEL (profile litert, 1 thread, cat.bmp
# decoded by etpu), or, without bench_run, `BUILD_DIR/etpu run MODEL
# --profile litert --repeat N` on the same golden input. Each side reports
# the median invoke time; the two run alternately, model by model, so a busy
# machine slows both (rerun for stable figures). A benchmark, not a test: it
# is not registered with ctest.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${1:-build}
RUNS=${RUNS:-50}
SHARED=${ETPU_SHARED_DATA:-../shared/data}
GOLDENS=$SHARED/goldens/litert
MODELS=(mobilenet_v1_0.25_128_quant mobilenet_v2_1.0_224_quant)

command -v node >/dev/null || { echo "run_latency_ratio: node is not installed (apt-get install nodejs npm)" >&2; exit 1; }
[ -d tools/oracle/node_modules/@litertjs/core ] || { echo "run_latency_ratio: run 'npm ci' in tools/oracle first" >&2; exit 1; }

# The number after "median" in a line of text, or nothing.
median_of() { sed -n 's/.*median[^0-9]*\([0-9][0-9.]*\) *ms.*/\1/p' | head -n 1; }

printf '%-30s %12s %12s %10s  %s\n' model "LiteRT ms" "etpu ms" "etpu/LiteRT" "etpu measured by"
status=0
for stem in "${MODELS[@]}"; do
  model=$SHARED/coral/$stem.tflite
  input=$GOLDENS/$stem/input_0.bin
  if [ ! -f "$model" ] || [ ! -f "$input" ]; then
    echo "run_latency_ratio: $model or $input is missing" >&2
    status=1
    continue
  fi
  lit=$(node bench/bench_litert.mjs --runs "$RUNS" "$model" | median_of)
  how="-"
  out=""
  if [ -x "$BUILD/bench/bench_run" ]; then
    how="bench_run $RUNS (profile litert)"
    out=$("$BUILD/bench/bench_run" "$RUNS" "$model" 2>&1 | grep -E '^[[:space:]]*litert[[:space:]]') || true
  elif "$BUILD/etpu" run --help 2>&1 | grep -q -- '--repeat'; then
    how="etpu run --repeat $RUNS"
    out=$("$BUILD/etpu" run "$model" --input "$input" --profile litert --top 0 --repeat "$RUNS" 2>&1) || true
  else
    out="neither $BUILD/bench/bench_run nor 'etpu run --repeat' exists"
  fi
  ours=$(printf '%s\n' "$out" | median_of)
  if [ -n "$ours" ] && [ -n "$lit" ]; then
    ratio=$(awk -v a="$ours" -v b="$lit" 'BEGIN { printf "%.2f", a / b }')
  else
    ratio="n/a"
    ours=${ours:-n/a}
    how="$how: $(printf '%s\n' "$out" | tail -n 1 | cut -c1-160)"
  fi
  printf '%-30s %12s %12s %10s  %s\n' "$stem" "${lit:-n/a}" "$ours" "$ratio" "$how"
done
exit $status
