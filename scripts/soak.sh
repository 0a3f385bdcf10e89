#!/usr/bin/env bash
# The soak: the county morning peak (`yanzhen bench county`: 5,000 aides studying, checking in and
# answering the survey in the chat, their 07:00-09:00 compressed into DURATION) against two
# `yanzhen serve` instances on one PostgreSQL and one Redis, with a fake WeChat API behind them. Every
# SAMPLE seconds it records each instance's RSS, goroutines and open files, the database's connections
# and Redis's memory; at the end it verifies the driver's journal (every acknowledged effect is in the
# database) and says, for each series over the last 45 minutes (the last 75 % of a shorter run),
# whether it stayed within 10 % (max/min - 1 <= 0.10) and its least-squares slope per hour.
#
# Goroutines are read every second and each sample holds the interval's mean (goroutinesN) and its
# highest reading (goroutinesN_max): one instantaneous reading of a server with ~28 goroutines moves
# by 10 % whenever three requests happen to be in flight, while the mean over 30 readings moves only
# when something stays. The verdict ("judged") is on RSS and the goroutine means, the issue's two
# figures; the other series are shown for their trend.
#
# Each open connection holds one goroutine in the server. Left to itself, the driver's connection pool
# follows the load's bursts (a connection idle for two minutes is closed by the server, a burst opens
# new ones), so the goroutine count would measure the load tool's pool. HOLD_CONNS=1 (the default)
# makes the driver keep CONNS connections to each instance open, as a load balancer's keep-alive pool
# would (`bench county --hold-conns`: a GET /healthz on each every 30 s); HOLD_CONNS=0 leaves it.
#
#   bash scripts/soak.sh                    # DURATION=1h
#   DURATION=4m bash scripts/soak.sh        # a trial
#   OUT=/tmp/soak-x AIDES=5000 PEAK=2h ARRIVALS=peak CONNS=64 bash scripts/soak.sh
#
# Output in OUT (default /tmp/soak-<date>): samples.csv, stats.csv (the driver's, every 10 s),
# journal.jsonl, driver.txt (its summary and /usr/bin/time -v), verify.txt, summary.txt, the servers'
# and the fake's logs. Exit status: 1 when verify finds a lost effect.
#
# ARRIVALS=flat (the default) starts the sessions evenly over DURATION: the peak's plateau held for the
# whole run, so the load is steady and anything that grows is a leak. ARRIVALS=peak shapes them like the
# morning (most in the middle of DURATION); then goroutines, open files and Redis keys follow the load
# and only the slope and the sample after the run tell whether anything is left behind.
#
# Needs: PostgreSQL on 127.0.0.1:5432 as postgres (database yanzhen_soak is dropped and created again),
# redis-server (a private one is started on REDIS_PORT, 28179, so that tests flushing the shared
# Redis's databases cannot disturb the run), ports 28181, 28182 and 28189 free.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-1h}
PEAK=${PEAK:-2h}
ARRIVALS=${ARRIVALS:-flat}
AIDES=${AIDES:-5000}
MEMBERS=${MEMBERS:-$AIDES}
VILLAGES=${VILLAGES:-100}
CONNS=${CONNS:-64}
HOLD_CONNS=${HOLD_CONNS:-1}
SAMPLE=${SAMPLE:-30}
PORTS=(28181 28182)
FAKE_ADDR=${FAKE_ADDR:-127.0.0.1:28189}
DBNAME=yanzhen_soak
REDIS_PORT=${REDIS_PORT:-28179}
REDIS_DB=0
OUT=${OUT:-/tmp/soak-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
BIN=$OUT/yanzhen

# seconds DURATION: "1h", "4m", "90s", "1h30m" in seconds.
seconds() {
  local d=$1 total=0 n
  while [[ $d =~ ^([0-9]+)([hms])(.*)$ ]]; do
    n=${BASH_REMATCH[1]}
    case ${BASH_REMATCH[2]} in h) n=$((n * 3600)) ;; m) n=$((n * 60)) ;; esac
    total=$((total + n)) d=${BASH_REMATCH[3]}
  done
  [ -z "$d" ] && [ "$total" -gt 0 ] || { echo "soak: bad duration $1 (e.g. 1h, 4m, 90s)" >&2; exit 2; }
  echo "$total"
}
RUN_SECS=$(seconds "$DURATION")

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

if [ -n "${BIN_FROM:-}" ]; then # a binary built beforehand (e.g. from a given commit)
  cp "$BIN_FROM" "$BIN"
else
  echo "soak: building into $OUT" >&2
  go build -o "$BIN" ./cmd/yanzhen
fi
if ! "$BIN" help | grep -q "^  fakewechat"; then
  echo "soak: this build has no \`yanzhen fakewechat\` command yet" >&2
  exit 2
fi

psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DBNAME" -c "CREATE DATABASE $DBNAME" >/dev/null
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$OUT" --logfile "$OUT/redis.log" &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

export YANZHEN_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DBNAME?sslmode=disable"
export YANZHEN_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/$REDIS_DB"
export YANZHEN_WECHAT_API_BASE="http://$FAKE_ADDR"
export YANZHEN_OA_APPID=wxsoak00000000001 YANZHEN_OA_SECRET=soak-secret YANZHEN_OA_TOKEN=soaktoken
export YANZHEN_OA_AES_KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG YANZHEN_OA_REMIND_TEMPLATE=soak-template
export YANZHEN_LOG_LEVEL=${YANZHEN_LOG_LEVEL:-warn}

"$BIN" fakewechat --addr "$FAKE_ADDR" > "$OUT/fakewechat.log" 2>&1 &
pids+=($!)

# The load county (this also migrates the new database, before the servers start).
"$BIN" bench county --setup --members "$MEMBERS" --villages "$VILLAGES" --codes "$OUT/codes.csv" 2> "$OUT/setup.txt"
cat "$OUT/setup.txt" >&2

serve_pids=()
for i in 0 1; do
  YANZHEN_HTTP_ADDR=127.0.0.1:${PORTS[$i]} YANZHEN_INDEX_DIR=$OUT/index-$i "$BIN" serve > "$OUT/serve-$((i + 1)).log" 2>&1 &
  pids+=($!) serve_pids+=($!)
done
for port in "${PORTS[@]}"; do
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { echo "soak: the server on $port is not ready" >&2; exit 1; }
done

# The sampler: one CSV line every SAMPLE seconds.
goroutines() { # port
  curl -s --max-time 2 "http://127.0.0.1:$1/metrics" | awk '/^go_goroutines /{print $2}'
}
# sample_line t_seconds goroutine-readings-file: the readings file has one line per second, "g1 g2".
sample_line() {
  local -
  set +e +o pipefail # a sample with a gap beats a sampler that stops
  local line="$1,$(date +%H:%M:%S)" i pid
  for i in 0 1; do
    pid=${serve_pids[$i]}
    line+=",$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status" 2>/dev/null || echo)"
  done
  line+=",$(awk '
    { for (i = 1; i <= 2; i++) if ($i != "-") { s[i] += $i; n[i]++; if ($i > m[i]) m[i] = $i } }
    END {
      for (i = 1; i <= 2; i++) printf "%s%s", (i > 1 ? "," : ""), (n[i] ? sprintf("%.1f", s[i] / n[i]) : "")
      for (i = 1; i <= 2; i++) printf ",%s", (n[i] ? m[i] : "")
    }' "$2")"
  for i in 0 1; do
    pid=${serve_pids[$i]}
    line+=",$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)"
  done
  line+=",$(psql -h 127.0.0.1 -U postgres -tAc "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DBNAME'" 2>/dev/null)"
  line+=",$(redis-cli -p "$REDIS_PORT" -n $REDIS_DB info memory 2>/dev/null | tr -d '\r' | awk -F: '$1 == "used_memory" {print $2}')"
  line+=",$(redis-cli -p "$REDIS_PORT" -n $REDIS_DB dbsize 2>/dev/null)"
  echo "$line"
}
echo "t_seconds,time,rss1_kb,rss2_kb,goroutines1,goroutines2,goroutines1_max,goroutines2_max,fds1,fds2,pg_connections,redis_used_memory,redis_db_keys" > "$OUT/samples.csv"
start=$(date +%s)
READINGS=$OUT/goroutine-readings.txt
read_goroutines() { # one line "g1 g2" ("-" for a failed reading)
  local g1 g2
  g1=$(goroutines "${PORTS[0]}") g2=$(goroutines "${PORTS[1]}")
  echo "${g1:--} ${g2:--}"
}
(
  set +e
  while :; do
    : > "$READINGS"
    for _ in $(seq "$SAMPLE"); do
      read_goroutines >> "$READINGS"
      sleep 1
    done
    sample_line $(($(date +%s) - start)) "$READINGS" >> "$OUT/samples.csv"
  done
) &
sampler=$!
pids+=($sampler)

echo "soak: driving $AIDES aides for $DURATION (peak $PEAK, arrivals $ARRIVALS) against ${PORTS[*]}; samples every ${SAMPLE}s in $OUT/samples.csv" >&2
/usr/bin/time -v "$BIN" bench county --url "http://127.0.0.1:${PORTS[0]}/wechat/oa" --url "http://127.0.0.1:${PORTS[1]}/wechat/oa" \
  --codes "$OUT/codes.csv" --duration "$DURATION" --peak "$PEAK" --arrivals "$ARRIVALS" --aides "$AIDES" --conns "$CONNS" --bind \
  $([ "$HOLD_CONNS" = 1 ] && echo --hold-conns) \
  --journal "$OUT/journal.jsonl" --stats "$OUT/stats.csv" --stats-every 10s > "$OUT/driver.txt" 2> "$OUT/driver.err" || {
  echo "soak: the driver failed:" >&2; tail -20 "$OUT/driver.err" >&2; exit 1; }
END_SECS=$(($(date +%s) - start))
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
sleep 5 # what the servers hold once the load is gone (not in the window)
: > "$READINGS"
for _ in 1 2 3 4 5; do read_goroutines >> "$READINGS"; sleep 1; done
sample_line $(($(date +%s) - start)) "$READINGS" >> "$OUT/samples.csv"

verify_rc=0
"$BIN" bench county --verify --journal "$OUT/journal.jsonl" > "$OUT/verify.txt" 2>&1 || verify_rc=$?

# The summary: each series over its window.
{
  echo "== driver ($AIDES aides, $DURATION, peak $PEAK, arrivals $ARRIVALS, 2 instances, conns $CONNS, hold-conns $HOLD_CONNS)"
  grep -v '^bench:' "$OUT/driver.txt"
  grep -E 'Maximum resident|User time|System time|Percent of CPU|Elapsed' "$OUT/driver.err" | sed 's/^[[:space:]]*/  driver /'
  echo "== verify"
  cat "$OUT/verify.txt"
  echo "== resources (window: the last 45 minutes, or the last 75 % of a shorter run)"
  awk -F, -v run="$RUN_SECS" -v end="$END_SECS" '
    NR == 1 { for (i = 3; i <= NF; i++) name[i] = $i; n = NF; next }
    { t[NR] = $1; for (i = 3; i <= n; i++) v[NR, i] = $i; last = NR }
    END {
      win = (run >= 3600) ? 2700 : 0.75 * run
      from = end - win
      printf "%-18s %12s %12s %12s %12s %8s %14s %7s\n", "series", "min", "max", "first", "last", "within", "slope/hour", "judged"
      stable = 1
      for (i = 3; i <= n; i++) {
        k = 0; sx = sy = sxx = sxy = 0; mn = ""; mx = ""
        for (r = 2; r <= last; r++) {
          if (t[r] < from || t[r] > end || v[r, i] == "") continue
          x = t[r] / 3600; y = v[r, i] + 0
          if (k == 0) first = y
          lastv = y; k++
          sx += x; sy += y; sxx += x * x; sxy += x * y
          if (mn == "" || y < mn) mn = y
          if (mx == "" || y > mx) mx = y
        }
        if (k < 2) { printf "%-18s (fewer than 2 samples in the window)\n", name[i]; continue }
        d = k * sxx - sx * sx
        slope = (d != 0) ? (k * sxy - sx * sy) / d : 0
        ok = (mn > 0) ? (mx / mn - 1 <= 0.10) : (mx == mn)
        judged = (name[i] ~ /^(rss[12]_kb|goroutines[12])$/)
        if (judged && !ok) stable = 0
        printf "%-18s %12.1f %12.1f %12.1f %12.1f %8s %14.1f %7s\n", name[i], mn, mx, first, lastv, ok ? "yes" : "NO", slope, judged ? "yes" : "-"
      }
      printf "samples in window %d of %d (t=%d-%ds); RSS and goroutine means within 10%%: %s\n", k, last - 1, from, end, stable ? "yes" : "no"
      printf "after the run (t=%ds):", t[last]
      for (i = 3; i <= n; i++) printf " %s=%s", name[i], v[last, i]
      printf "\n"
    }' "$OUT/samples.csv"
} > "$OUT/summary.txt"
cat "$OUT/summary.txt"
echo "soak: output in $OUT" >&2
exit "$verify_rc"
