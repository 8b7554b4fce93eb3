#!/bin/sh
# run_fuzz.sh SECONDS BUILD_DIR [MAX_LEN] — fuzz etpu's model reader/writer.
#
# BUILD_DIR is configured with
#   cmake -B BUILD_DIR -G Ninja -DCMAKE_C_COMPILER=clang -DETPU_FUZZ=ON -DETPU_SANITIZE=ON
# (the fuzz_model target is built here if needed). The seed corpus is every
# shared model (ETPU_SHARED_DATA, default ../shared/data beside the clone) no
# larger than MAX_LEN (default 1 MiB, at most 4 MiB), copied into a fresh
# directory under ${TMPDIR:-/tmp} — never into the repository. Crash, leak and
# timeout inputs are written to that directory's artifacts/ folder. Prints the
# number of executions; exits non-zero when libFuzzer found a problem.
#
# By default libFuzzer stops at the first crash. ETPU_FUZZ_KEEP_GOING=1 runs
# it in fork mode (-fork=1 -ignore_crashes=1 ...), which records every crash
# in artifacts/ and goes on for the whole time (useful while a known bug is
# unfixed); the exit status is then non-zero when artifacts/ is not empty.
set -eu

if [ $# -lt 2 ]; then
  echo "usage: $0 SECONDS BUILD_DIR [MAX_LEN]" >&2
  exit 2
fi
seconds=$1
build=$2
max_len=${3:-1048576}
if [ "$max_len" -gt 4194304 ]; then max_len=4194304; fi

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
data=${ETPU_SHARED_DATA:-$root/../shared/data}
if [ ! -d "$data" ]; then
  echo "run_fuzz.sh: shared data not found at $data (set ETPU_SHARED_DATA)" >&2
  exit 2
fi

cmake --build "$build" --target fuzz_model >/dev/null
fuzzer=$build/tests/fuzz_model
[ -x "$fuzzer" ] || { echo "run_fuzz.sh: $fuzzer missing (configure with -DETPU_FUZZ=ON)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_model.XXXXXX")
mkdir -p "$work/corpus" "$work/seeds" "$work/artifacts"
# Seeds: models and quantizer_cases .bin files, renamed by content hash.
find "$data" -type f \( -name '*.tflite' -o -path '*quantizer_cases*.bin' \) -size -"$((max_len + 1))"c |
  while IFS= read -r f; do
    h=$(sha1sum "$f" | cut -c1-16)
    cp "$f" "$work/seeds/$h"
  done
echo "run_fuzz.sh: $(ls "$work/seeds" | wc -l) seeds, max_len $max_len, ${seconds} s, work dir $work"

mode=""
if [ "${ETPU_FUZZ_KEEP_GOING:-0}" = 1 ]; then
  mode="-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1"
fi
start=$(date +%s)
set +e
# shellcheck disable=SC2086
"$fuzzer" "$work/corpus" "$work/seeds" $mode \
  -max_len="$max_len" -rss_limit_mb=4096 -timeout=30 -max_total_time="$seconds" \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" >"$work/fuzz.log" 2>&1
rc=$?
set -e
elapsed=$(($(date +%s) - start))

if [ -n "$mode" ]; then
  # Fork mode: the last "#N: cov: ..." status line holds the total.
  execs=$(grep -E '^#[0-9]+:' "$work/fuzz.log" | tail -n 1 | sed 's/^#\([0-9]*\):.*/\1/')
  if [ -n "$(ls "$work/artifacts")" ] && [ "$rc" = 0 ]; then rc=1; fi
else
  execs=$(grep -E '^stat::number_of_executed_units' "$work/fuzz.log" | awk '{print $2}')
fi
tail -n 25 "$work/fuzz.log"
echo "run_fuzz.sh: exit $rc, ${execs:-?} executions in ${elapsed} s, corpus $(ls "$work/corpus" | wc -l) inputs"
if [ -n "$(ls "$work/artifacts")" ]; then
  echo "run_fuzz.sh: artifacts:"
  ls -l "$work/artifacts"
fi
echo "run_fuzz.sh: log $work/fuzz.log"
exit $rc
