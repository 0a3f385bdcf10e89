#!/usr/bin/env bash
# Webhook throughput, Yanzhen vs the bare silenceper/wechat echo server, measured in the same run:
# each server pinned to core 0 (GOMAXPROCS=1), the load generator (and Redis / PostgreSQL) on core 1.
#
#   bash scripts/bench-readpath.sh              # read path: a bound member sends 帮助, safe mode
#   DURATION=15s RUNS=3 bash scripts/bench-readpath.sh
#   PATH_KIND=write bash scripts/bench-readpath.sh   # write path: LOCATION events committed to PostgreSQL
#
# "ratio" is throughput over the echo's; "CPU-cost ratio" is the echo's CPU per message over Yanzhen's
# (> 1: Yanzhen spends less), which does not depend on whether the load generator's core saturated.
#
# Needs: Redis on 127.0.0.1:6379 (DB 9 is flushed), for the write path PostgreSQL on 127.0.0.1:5432,
# and ../shared/bench/sdk-echo (the reference server) beside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
RUNS=${RUNS:-2}
CONNS=${CONNS:-64}
MEMBERS=${MEMBERS:-2000}
PATH_KIND=${PATH_KIND:-read}
ECHO_SRC=${ECHO_SRC:-../shared/bench/sdk-echo}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

APPID=wxbench00000000001 TOKEN=benchtoken AESKEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
go build -o "$work/yanzhen" ./cmd/yanzhen
(cd "$ECHO_SRC" && go build -o "$work/sdk-echo" .)

redis-cli -n 9 flushdb >/dev/null
if [ "$PATH_KIND" = write ]; then
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS yanzhen_bench" -c "CREATE DATABASE yanzhen_bench"
  DB="postgres://postgres@127.0.0.1:5432/yanzhen_bench?sslmode=disable"
else
  DB="sqlite://$work/bench.db"
fi
export YANZHEN_DATABASE_URL=$DB YANZHEN_REDIS_URL=redis://127.0.0.1:6379/9 YANZHEN_LOG_LEVEL=warn
export YANZHEN_OA_APPID=$APPID YANZHEN_OA_TOKEN=$TOKEN YANZHEN_OA_AES_KEY=$AESKEY
export YANZHEN_WECHAT_API_BASE=http://127.0.0.1:9 # never called on these paths

# A roster of $MEMBERS members in one village, their bind codes for the load generator.
{ echo "姓名,手机号,角色,组织"; for i in $(seq 1 "$MEMBERS"); do printf '成员%d,1%010d,党建专干,基准县/基准镇/基准村\n' "$i" "$((3000000000 + i))"; done; } > "$work/roster.csv"
"$work/yanzhen" import roster "$work/roster.csv" > "$work/codes.csv"

YZ_ADDR=${YZ_ADDR:-127.0.0.1:28080} ECHO_ADDR=${ECHO_ADDR:-127.0.0.1:28083}
YANZHEN_HTTP_ADDR=$YZ_ADDR GOMAXPROCS=1 taskset -c 0 "$work/yanzhen" serve &
GOMAXPROCS=1 taskset -c 0 "$work/sdk-echo" -addr $ECHO_ADDR -appid $APPID -token $TOKEN -aeskey $AESKEY > "$work/echo.log" 2>&1 &
for _ in $(seq 100); do curl -sf "http://$YZ_ADDR/healthz" >/dev/null && break; sleep 0.1; done

bench() { # url, extra flags...
  local url=$1; shift
  taskset -c 1 "$work/yanzhen" bench webhook --url "$url" --appid $APPID --token $TOKEN --aeskey $AESKEY \
    --mode safe --conns "$CONNS" --duration "$DURATION" "$@"
}
# Bind every member once (not measured), then warm both servers up.
bench "http://$YZ_ADDR/wechat/oa" --bind "$work/codes.csv" --duration 1s >/dev/null
if [ "$PATH_KIND" = write ]; then
  kind=(--kind location --users "$MEMBERS")
else
  kind=(--kind text --text 帮助 --users "$MEMBERS")
fi
bench "http://$YZ_ADDR/wechat/oa" "${kind[@]}" --duration 2s >/dev/null
bench "http://$ECHO_ADDR/wechat/oa" "${kind[@]}" --duration 2s >/dev/null

# cpu_of PID SECONDS: the share of one core PID used over the window, in percent.
cpu_of() {
  local hz a b
  hz=$(getconf CLK_TCK)
  a=$(awk '{print $14+$15}' "/proc/$1/stat"); sleep "$2"; b=$(awk '{print $14+$15}' "/proc/$1/stat")
  echo $(( (b - a) * 100 / (hz * $2) ))
}
# measure URL PID: runs the load, samples the server's CPU in the middle, prints "rps cpu% us/msg".
measure() {
  local out=$work/out.$RANDOM secs=${DURATION%s}
  bench "$1" "${kind[@]}" > "$out" &
  local lp=$!
  sleep $(( secs / 4 + 1 )); local cpu; cpu=$(cpu_of "$2" $(( secs / 2 > 0 ? secs / 2 : 1 )))
  wait $lp
  cat "$out" >&2
  local rps; rps=$(awk '/^rps/{print $2}' "$out")
  echo "$rps $cpu $(awk -v r="$rps" -v c="$cpu" 'BEGIN{ if (r > 0) printf "%.0f", c * 10000 / r; else print "-" }')"
}
yz_pid=$(pgrep -f "$work/yanzhen serve")
echo_pid=$(pgrep -f "$work/sdk-echo")
for run in $(seq 1 "$RUNS"); do
  read -r yz yz_cpu yz_us < <(measure "http://$YZ_ADDR/wechat/oa" "$yz_pid")
  read -r ec ec_cpu ec_us < <(measure "http://$ECHO_ADDR/wechat/oa" "$echo_pid")
  rss=$(ps -o rss= -p "$yz_pid" | awk '{printf "%.0f", $1/1024}')
  printf 'run %d: yanzhen %s req/s (server core %s%%, %s us CPU/msg), sdk-echo %s req/s (%s%%, %s us/msg), ratio %s, CPU-cost ratio %s, yanzhen RSS %s MB\n' \
    "$run" "$yz" "$yz_cpu" "$yz_us" "$ec" "$ec_cpu" "$ec_us" \
    "$(awk -v a="$yz" -v b="$ec" 'BEGIN{printf "%.2f", a/b}')" \
    "$(awk -v a="$yz_us" -v b="$ec_us" 'BEGIN{ if (a > 0) printf "%.2f", b/a; else print "-" }')" "$rss"
done
if [ "$PATH_KIND" = write ]; then
  echo "write path at a fixed 1,000 msg/s:"
  bench "http://$YZ_ADDR/wechat/oa" "${kind[@]}" --rate 1000 --conns 32
  psql -h 127.0.0.1 -U postgres -d yanzhen_bench -tAc "SELECT 'location_reports rows: ' || count(*) FROM location_reports"
fi
