#!/usr/bin/env bash
# Every fuzz target for FUZZTIME each (default 3m), one after the other, with a summary line per target:
# executions, new corpus entries and whether it found a crasher. Inputs that crash are written by
# `go test -fuzz` into the package's testdata/fuzz/FuzzX (commit them: they become regression tests run
# by plain `go test`). CI runs each target briefly by execution count (.ci/run); this is the long run.
#
#   bash scripts/fuzz.sh                      # all targets, 3 minutes each
#   FUZZTIME=10m bash scripts/fuzz.sh FuzzWebhook FuzzRead
#   FUZZ_PARALLEL=1 bash scripts/fuzz.sh      # one fuzzing worker (default: 2)
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-3m}
targets=(
  "FuzzWebhook ./bot/wechat/"
  "FuzzParseMessage ./bot/wechat/wxxml/"
  "FuzzAppendReply ./bot/wechat/wxxml/"
  "FuzzDecrypt ./bot/wechat/wxcrypt/"
  "FuzzRead ./internal/table/"
  "FuzzRosterFile ./handlers/roster/"
  "FuzzQuestionFile ./handlers/study/bank/"
  "FuzzPlacesFile ./handlers/attendance/"
  "FuzzParseDocument ./handlers/policy/"
  "FuzzParseLeave ./handlers/attendance/requests/"
  "FuzzParseMakeup ./handlers/attendance/requests/"
)
failed=0
for t in "${targets[@]}"; do
  read -r name pkg <<<"$t"
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
  log=$(mktemp)
  start=$(date +%s)
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 30s -parallel "${FUZZ_PARALLEL:-2}" "$pkg" > "$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  # The last progress line: "fuzz: elapsed: 3m0s, execs: 1234567 (6858/sec), new interesting: 12 (total: 345)"
  last=$(grep -E '^fuzz: elapsed' "$log" | tail -1 | sed 's/^fuzz: //')
  if [ $rc -eq 0 ]; then
    printf '%-18s %-30s ok      %4ds  %s\n' "$name" "$pkg" "$secs" "$last"
  else
    failed=1
    printf '%-18s %-30s FAILED  %4ds  %s\n' "$name" "$pkg" "$secs" "$last"
    grep -E -- '--- FAIL|Failing input|panic:|testdata/fuzz' "$log" | head -8 | sed 's/^/    /'
  fi
  rm -f "$log"
done
exit $failed
