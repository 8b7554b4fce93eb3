#!/bin/sh
# run_fuzz_package.sh SECONDS BUILD_DIR [MAX_LEN] — fuzz the Edge TPU package
# reader (fuzz_package.c).
#
# BUILD_DIR is configured as for run_fuzz.sh
#   cmake -B BUILD_DIR -G Ninja -DCMAKE_C_COMPILER=clang -DETPU_FUZZ=ON -DETPU_SANITIZE=ON
# (fuzz_package and extract_options are built here if needed). Seeds: the
# custom options of every compiled model under the shared data
# (ETPU_SHARED_DATA, default ../shared/data beside the clone) no larger than
# MAX_LEN (default 1 MiB), cut out with extract_options into a fresh
# directory under ${TMPDIR:-/tmp} — never into the repository. Prints the
# number of executions; exits non-zero when libFuzzer found a problem.
set -eu

if [ $# -lt 2 ]; then
  echo "usage: $0 SECONDS BUILD_DIR [MAX_LEN]" >&2
  exit 2
fi
seconds=$1
build=$2
max_len=${3:-1048576}

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
data=${ETPU_SHARED_DATA:-$root/../shared/data}
if [ ! -d "$data" ]; then
  echo "run_fuzz_package.sh: shared data not found at $data (set ETPU_SHARED_DATA)" >&2
  exit 2
fi

cmake --build "$build" --target fuzz_package extract_options >/dev/null
fuzzer=$build/tests/fuzz_package
extract=$build/tests/extract_options
[ -x "$fuzzer" ] || { echo "run_fuzz_package.sh: $fuzzer missing (configure with -DETPU_FUZZ=ON)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_package.XXXXXX")
mkdir -p "$work/corpus" "$work/seeds" "$work/artifacts"
find "$data" -type f -name '*.tflite' | sort | while IFS= read -r f; do
  out="$work/seeds/$(echo "$f" | sha1sum | cut -c1-16)"
  if "$extract" "$f" "$out" 2>/dev/null && [ "$(wc -c <"$out")" -le "$max_len" ]; then :; else rm -f "$out"; fi
done
echo "run_fuzz_package.sh: $(ls "$work/seeds" | wc -l) seeds, max_len $max_len, ${seconds} s, work dir $work"

start=$(date +%s)
set +e
"$fuzzer" "$work/corpus" "$work/seeds" -max_len="$max_len" -rss_limit_mb=4096 -timeout=30 \
  -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/artifacts/" >"$work/fuzz.log" 2>&1
rc=$?
set -e
elapsed=$(($(date +%s) - start))
execs=$(grep -E '^stat::number_of_executed_units' "$work/fuzz.log" | awk '{print $2}')
tail -n 15 "$work/fuzz.log"
echo "run_fuzz_package.sh: exit $rc, ${execs:-?} executions in ${elapsed} s, corpus $(ls "$work/corpus" | wc -l) inputs"
if [ -n "$(ls "$work/artifacts")" ]; then
  echo "run_fuzz_package.sh: artifacts:"
  ls -l "$work/artifacts"
fi
echo "run_fuzz_package.sh: log $work/fuzz.log"
exit $rc
