#!/usr/bin/env bash
# Scale-out: three `yanzhen serve` processes on one PostgreSQL and one Redis, sending to one fake WeChat
# API run as its own process (`yanzhen fakewechat`), and the load generator spreading requests itself
# (no load balancer). Each check prints PASS or FAIL with what it counted; the script exits 1 on a FAIL.
#
#   1 retries on another instance: 200 LOCATION events, each sent to instance 1 and at the same time,
#     unchanged, to instances 2 and 3 (a WeChat retry landing elsewhere): same replies, one row each,
#     the retries answered from the dedup record
#   2 the daily schedule fires once: the jobs already due today run at start-up, once across the three
#   3 the access token is fetched once, by one process, and shared
#   4 a broadcast to every member: every instance sends a share, each recipient gets it once
#   5 policy index: after `yanzhen import policies` (the CLI, on the shared database) every instance
#     answers the same question the same way, with the new documents
#   6 read-path throughput, one instance vs two: each instance GOMAXPROCS=1 in a cgroup-v1 CPU quota of
#     half a core, both on core 0; the load generator on core 1 (Redis and PostgreSQL are not pinned);
#     the cgroups get a high cpu.shares, so that other work on a shared machine does not starve them
#
#   bash scripts/scaleout.sh
#   RUN_ONLY=6 DURATION=15s RUNS=2 bash scripts/scaleout.sh     # only the throughput part
#   REDIS=shared bash scripts/scaleout.sh                       # on the machine's Redis (DB 10) instead of its own
#
# Needs: PostgreSQL on 127.0.0.1:5432 (database yanzhen_scale is dropped and made again), Redis on
# 127.0.0.1:6379 (DB 10 is flushed, and leased from the tests for the run as internal/testenv does;
# REDIS=own runs a redis-server of its own on 127.0.0.1:28194 instead, pinned to core 1), ports
# 28190–28193, the policy corpus in ../shared/corpus/policy, and for part 6 root, 2 cores and cgroup
# v1's cpu controller at /sys/fs/cgroup/cpu (its cgroups yz-scale-* are removed at exit).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15s}
RUNS=${RUNS:-2}
CONNS=${CONNS:-64}
MEMBERS=${MEMBERS:-3000}
RUN_ONLY=${RUN_ONLY:-1,2,3,4,5,6}
QUOTA_US=${QUOTA_US:-50000} # each instance's CPU quota in part 6, per 100 ms period
SHARES=${SHARES:-262144}    # part 6's cgroups' cpu.shares (1024: no priority over other processes)
CORPUS=${CORPUS:-../shared/corpus/policy}
REDIS=${REDIS:-own}         # own: a redis-server of this run on core 1 (default: tests flush the shared one's DBs); shared: 127.0.0.1:6379 DB 10
OWN_REDIS_ADDR=127.0.0.1:28194
CGROOT=/sys/fs/cgroup/cpu
LOGS=${LOGS:-/tmp/yanzhen-scaleout-logs}
FAKE_ADDR=127.0.0.1:28190
ADDRS=(127.0.0.1:28191 127.0.0.1:28192 127.0.0.1:28193)

work=$(mktemp -d)
pids=()
cgroups=()
cleanup() {
  if [ "${fails:-0}" -gt 0 ] || [ "${done_ok:-0}" = 0 ]; then # keep the logs of a failed run
    mkdir -p "$LOGS" && cp "$work"/*.log "$LOGS"/ 2>/dev/null && echo "logs kept in $LOGS"
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for g in "${cgroups[@]}"; do rmdir "$g" 2>/dev/null || true; done
  if [ -n "${LEASE:-}" ] && [ "$(redis-cli -n 0 get "$LEASE" 2>/dev/null)" = "$OWNER" ]; then redis-cli -n 0 del "$LEASE" >/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

want() { [[ ",$RUN_ONLY," == *",$1,"* ]]; }
fails=0
report() { # check-name PASS|FAIL details
  printf '%-28s %s  %s\n' "$1" "$2" "$3"
  if [ "$2" != PASS ]; then fails=$((fails + 1)); fi
}

echo "uptime before: $(uptime)"
go build -o "$work/yanzhen" ./cmd/yanzhen
YZ=$work/yanzhen

APPID=wxscale00000000001 SECRET=scalesecret TOKEN=scaletoken AESKEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS yanzhen_scale" -c "CREATE DATABASE yanzhen_scale"
if [ "$REDIS" = own ]; then
  # A Redis of this run's own, on core 1 with the generator.
  taskset -c 1 redis-server --bind 127.0.0.1 --port "${OWN_REDIS_ADDR#*:}" --save "" --appendonly no > "$work/redis.log" 2>&1 &
  pids+=($!)
  redis_pid=$!
  RADDR=$OWN_REDIS_ADDR RDB=0
  for _ in $(seq 50); do redis-cli -p "${RADDR#*:}" ping >/dev/null 2>&1 && break; sleep 0.1; done
else
  # Redis DB 10 is one of those the tests lease (internal/testenv: yz:test:lease:N in DB 0) and flush:
  # hold its lease for the run, as a test would, so that no test flushes it under the instances.
  RADDR=127.0.0.1:6379 RDB=10 LEASE=yz:test:lease:10 OWNER=scaleout-$$
  for _ in $(seq 240); do [ "$(redis-cli -n 0 set $LEASE "$OWNER" EX 600 NX)" = OK ] && break; sleep 0.5; done
  [ "$(redis-cli -n 0 get $LEASE)" = "$OWNER" ] || { echo "Redis DB 10 stayed leased by a test for 2 minutes"; exit 1; }
  (while sleep 60; do redis-cli -n 0 set $LEASE "$OWNER" EX 600 >/dev/null; done) &
  pids+=($!)
fi
rcli() { redis-cli -p "${RADDR#*:}" -n "$RDB" "$@"; }
rcli flushdb >/dev/null
export YANZHEN_DATABASE_URL="postgres://postgres@127.0.0.1:5432/yanzhen_scale?sslmode=disable"
export YANZHEN_REDIS_URL=redis://$RADDR/$RDB YANZHEN_LOG_LEVEL=warn
export YANZHEN_OA_APPID=$APPID YANZHEN_OA_SECRET=$SECRET YANZHEN_OA_TOKEN=$TOKEN YANZHEN_OA_AES_KEY=$AESKEY
export YANZHEN_WECHAT_API_BASE=http://$FAKE_ADDR YANZHEN_BROADCAST_RATE=${BROADCAST_RATE:-500}
# The daily jobs due at start-up make check 2; the earliest is due at 01:30 in YANZHEN_TZ, so before
# 02:00 in Shanghai the instances keep their days in UTC instead (16:00–18:00 there).
export YANZHEN_TZ=Asia/Shanghai
if [ "$(TZ=Asia/Shanghai date +%H)" -lt 2 ]; then YANZHEN_TZ=UTC; fi

# A roster of $MEMBERS members in ten villages of one county, their bind codes for the load generator.
COUNTY=扩容县
{ echo "姓名,手机号,角色,组织"; for i in $(seq 1 "$MEMBERS"); do printf '成员%d,1%010d,党员,%s/扩容镇/村%d\n' "$i" "$((3100000000 + i))" "$COUNTY" "$((i % 10))"; done; } > "$work/roster.csv"
"$YZ" import roster "$work/roster.csv" > "$work/codes.csv"

taskset -c 1 "$YZ" fakewechat --addr "$FAKE_ADDR" --app "$APPID:$SECRET" > "$work/fake.log" 2>&1 &
pids+=($!)
inst_pids=()
for n in 0 1 2; do
  # Every instance keeps its own policy index folder, as on separate machines.
  YANZHEN_HTTP_ADDR=${ADDRS[$n]} YANZHEN_INDEX_DIR=$work/index$n YANZHEN_LOG_LEVEL=info GOMAXPROCS=1 \
    taskset -c 0 "$YZ" serve > "$work/yz$n.log" 2>&1 &
  pids+=($!)
  inst_pids+=($!)
done
for a in "$FAKE_ADDR/_fake/stats" "${ADDRS[0]}/healthz" "${ADDRS[1]}/healthz" "${ADDRS[2]}/healthz"; do
  for _ in $(seq 200); do curl -sf "http://$a" >/dev/null && break; sleep 0.1; done
  curl -sf "http://$a" >/dev/null || { echo "no answer from $a"; tail -20 "$work"/*.log; exit 1; }
done
grep -q 'database=postgres' "$work/yz0.log" || { echo "instance 1 is not on PostgreSQL"; exit 1; }
URL=() # the webhooks
for a in "${ADDRS[@]}"; do URL+=("http://$a/wechat/oa"); done

bench() { # flags…: the load generator, on core 1
  taskset -c 1 "$YZ" bench webhook --appid "$APPID" --token "$TOKEN" --aeskey "$AESKEY" --mode safe "$@"
}
# metric N PREFIX: the sum of the samples whose line starts with PREFIX on instance N's /metrics.
metric() {
  curl -sf "http://${ADDRS[$1]}/metrics" | awk -v p="$2" 'index($0, p) == 1 { s += $NF } END { printf "%d", s }'
}
sql() { # QUERY: one value from yanzhen_scale (retried: the server's connections may all be taken for a moment)
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    psql -h 127.0.0.1 -U postgres -d yanzhen_scale -tAc "$1" 2>/dev/null && return 0
    sleep 1
  done
  psql -h 127.0.0.1 -U postgres -d yanzhen_scale -tAc "$1"
}
fakestat() { # one number of the fake's /_fake/stats, by a Python expression on s
  curl -sf "http://$FAKE_ADDR/_fake/stats" | python3 -c "import json,sys; s=json.load(sys.stdin); print($1)"
}

# Bind every member once through instance 1 (they have written: the 48-hour window is open for them).
# (Few connections: each instance keeps up to 32 PostgreSQL connections open once it has used them, and
# the server's max_connections is shared with whatever else runs on it.)
bench --url "${URL[0]}" --bind "$work/codes.csv" --users "$MEMBERS" --conns 12 --duration 1s >/dev/null
echo "setup: $MEMBERS members bound; instances on ${ADDRS[*]} (GOMAXPROCS=1, core 0), fake WeChat on $FAKE_ADDR, Redis $RADDR/$RDB, YANZHEN_TZ=$YANZHEN_TZ"

# 1. Retries landing on another instance.
if want 1; then
  hits0=$(( $(metric 0 yanzhen_bot_dedup_hits_total) + $(metric 1 yanzhen_bot_dedup_hits_total) + $(metric 2 yanzhen_bot_dedup_hits_total) ))
  rows0=$(sql "SELECT count(*) FROM location_reports")
  out=$(bench --url "${URL[0]}" --dup-to "${URL[1]}" --dup-to "${URL[2]}" --kind location --users "$MEMBERS" --count 200 --conns 8 --duration 60s)
  rows=$(( $(sql "SELECT count(*) FROM location_reports") - rows0 ))
  hits=$(( $(metric 0 yanzhen_bot_dedup_hits_total) + $(metric 1 yanzhen_bot_dedup_hits_total) + $(metric 2 yanzhen_bot_dedup_hits_total) - hits0 ))
  sent=$(awk '/^requests/{print $4}' <<<"$out")
  dups=$(awk '/^dups/{print $2, $4, $6}' <<<"$out")
  read -r nd same differ <<<"$dups"
  res=FAIL
  if [ "$sent" = 200 ] && [ "$nd" = 400 ] && [ "$same" = 400 ] && [ "$differ" = 0 ] && [ "$rows" = 200 ] && [ "$hits" = 400 ]; then res=PASS; fi
  report "1 retries elsewhere" $res "200 events answered $sent; retries $nd, same reply $same, differ $differ; location_reports rows +$rows; dedup hits +$hits (want 400)"
fi

# 2. Daily jobs due at start-up ran once across the instances.
if want 2; then
  for _ in $(seq 120); do # let the start-up runs finish
    running=0
    for k in $(rcli --scan --pattern 'yz:sched:*:*'); do
      [ "$(rcli hget "$k" s)" = run ] && running=1
    done
    [ $running = 0 ] && break
    sleep 1
  done
  detail="" res=PASS jobs=0
  for k in $(rcli --scan --pattern 'yz:sched:*:*' | sort); do
    job=${k#yz:sched:}; job=${job%:*}
    attempts=$(rcli hget "$k" n) state=$(rcli hget "$k" s)
    started=$(cat "$work"/yz[012].log | grep 'msg="schedule: job started"' | grep -c "job=$job " || true)
    ran_on=$(for n in 0 1 2; do grep 'msg="schedule: job started"' "$work/yz$n.log" | grep -q "job=$job " && printf '%d' $((n + 1)); done || true)
    jobs=$((jobs + 1))
    detail+="$job: runs $started (instance ${ran_on:-none}), attempts $attempts, $state; "
    if [ "$started" != 1 ] || [ "$attempts" != 1 ] || [ "$state" != done ]; then res=FAIL; fi
  done
  [ $jobs -gt 0 ] || { res=FAIL; detail="no daily job was due at start-up; "; }
  report "2 daily jobs once" $res "${detail%; }"
fi

# 4. A broadcast to every member (before 3: it is what makes every instance call WeChat).
if want 4 || want 3; then
  d0=$(fakestat 's["delivered"]')
  start=$(date +%s.%N)
  id=$("$YZ" broadcast notice --org "$COUNTY" --text "扩容测试通知：请忽略。" 2>/dev/null | awk '/^broadcast/{print $2}')
  line=""
  for _ in $(seq 600); do
    line=$("$YZ" broadcast status "$id" | sed -n 1p) # (sed reads it all: no SIGPIPE)
    [[ $line == *status=done* ]] && break
    sleep 0.5
  done
  took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')
  total=$(sed -E 's/.*total=([0-9]+).*/\1/' <<<"$line")
  sentdb=$(sed -E 's/.*sent=([0-9]+).*/\1/' <<<"$line")
  shares=() sum=0 every=1
  for n in 0 1 2; do
    s=$(metric $n 'yanzhen_broadcast_deliveries_total{outcome="sent"}')
    shares+=("$s"); sum=$((sum + s)); [ "$s" -gt 0 ] || every=0
  done
  delivered=$(( $(fakestat 's["delivered"]') - d0 )) duplicates=$(fakestat 's["duplicates"]')
  if want 4; then
    res=FAIL
    if [[ $line == *status=done* ]] && [ "$total" = "$MEMBERS" ] && [ "$sentdb" = "$MEMBERS" ] && [ $every = 1 ] && [ $sum = "$sentdb" ] \
      && [ "$delivered" = "$MEMBERS" ] && [ "$duplicates" = 0 ]; then res=PASS; fi
    report "4 broadcast spread" $res "broadcast $id to $total in ${took}s: $line; sent by instance 1/2/3: ${shares[*]} (sum $sum); fake delivered $delivered, duplicates $duplicates"
  fi
fi

# 3. The access token: fetched once, shared by all three.
if want 3; then
  fetches=$(fakestat "s['token_fetches'].get('$APPID', 0)")
  calls=() every=1
  for n in 0 1 2; do c=$(metric $n yanzhen_wechat_api_calls_total); calls+=("$c"); [ "$c" -gt 0 ] || every=0; done
  res=FAIL
  if [ "$fetches" = 1 ] && [ $every = 1 ]; then res=PASS; fi
  report "3 token fetched once" $res "token fetches for $APPID: $fetches; WeChat API calls by instance 1/2/3: ${calls[*]}"
fi

# 5. The policy index after an import through the CLI: every instance answers alike, at once.
if want 5; then
  ask() { # URL TEXT: the reply to one question from o_bench_0 (a bound member)
    bench --url "$1" --users 1 --count 1 --conns 1 --duration 20s --show --text "$2" | sed -n 's/^reply //p'
  }
  # agree TEXT EXPECT: asks every instance until all three answer alike and with EXPECT; prints the
  # seconds it took and the answer.
  agree() {
    local t0 a b c
    t0=$(date +%s.%N)
    for _ in $(seq 100); do
      a=$(ask "${URL[0]}" "$1") b=$(ask "${URL[1]}" "$1") c=$(ask "${URL[2]}" "$1")
      if [ "$a" = "$b" ] && [ "$b" = "$c" ] && [[ $a == *"$2"* ]]; then break; fi
    done
    echo "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b - a}') $a"
  }
  Q1="问 黄陂区村书记每年培训要达到多少学时" E1=56
  Q2="问 在职党员十二分制扣到6分以下会怎么样" E2=提醒谈话
  before=$(ask "${URL[0]}" "$Q2")
  files=("$CORPUS"/*.txt)
  "$YZ" import policies "${files[@]:0:3}" >/dev/null
  read -r t1 a1 <<<"$(agree "$Q1" "$E1")"
  "$YZ" import policies "${files[@]:3}" >/dev/null
  read -r t2 a2 <<<"$(agree "$Q2" "$E2")"
  # Every instance's answer, once more, for the record.
  same=1
  for n in 0 1 2; do [ "$(ask "${URL[$n]}" "$Q2")" = "$a2" ] || same=0; done
  res=FAIL
  if [[ $a1 == *"$E1"* ]] && [[ $a2 == *"$E2"* ]] && [[ $before != *"$E2"* ]] && [ $same = 1 ]; then res=PASS; fi
  report "5 policy index agrees" $res "import of 3 documents: all 3 instances agree after ${t1}s; 2 more: after ${t2}s; before: ${before:0:40}…; after: ${a2:0:80}…"
fi

# 6. Read-path throughput: one instance vs two, each in half a core.
if want 6; then
  kill "${inst_pids[2]}"; wait "${inst_pids[2]}" 2>/dev/null || true # instance 3 is not measured
  # Each instance in its own cgroup: a quota of half a core, and (SHARES) a weight far above the other
  # processes on the machine, so that on a busy machine it still gets its half core; the generator in
  # one more, with the weight and no quota.
  for n in 0 1 gen; do
    g=$CGROOT/yz-scale-$n
    mkdir -p "$g"; cgroups+=("$g")
    echo "$SHARES" > "$g/cpu.shares"
    if [ $n = gen ]; then
      if [ "$REDIS" = own ]; then echo "$redis_pid" > "$g/cgroup.procs"; fi
      continue
    fi
    echo 100000 > "$g/cpu.cfs_period_us"; echo "$QUOTA_US" > "$g/cpu.cfs_quota_us"
    echo "${inst_pids[$n]}" > "$g/cgroup.procs"
  done
  kind=(--kind text --text 帮助 --users "$MEMBERS")
  # Warm-up: every member's identity into the (shared) Redis cache with few database connections, then
  # a short run at full load.
  bench --url "${URL[0]}" --url "${URL[1]}" --kind text --text 帮助 --users "$MEMBERS" --conns 8 --count "$MEMBERS" --duration 60s >/dev/null
  bench --url "${URL[0]}" --url "${URL[1]}" "${kind[@]}" --conns $((CONNS * 2)) --duration 3s >/dev/null
  ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
  # measure URL…: runs the load on those instances, CONNS connections to each, samples their CPU and
  # the generator's over the middle half; prints "rps cpu1% cpu2% generator% errors+busy p99".
  measure() {
    local out=$work/out.$RANDOM secs=${DURATION%s} hz a0 a1 g0 b0 b1 g1 lp mid
    hz=$(getconf CLK_TCK)
    local args=()
    for u in "$@"; do args+=(--url "$u"); done
    # Not through bench(): $! must be the generator itself (taskset execs it).
    taskset -c 1 "$YZ" bench webhook --appid "$APPID" --token "$TOKEN" --aeskey "$AESKEY" --mode safe \
      "${args[@]}" "${kind[@]}" --conns $((CONNS * $#)) --duration "$DURATION" > "$out" &
    lp=$!
    echo $lp > "$CGROOT/yz-scale-gen/cgroup.procs"
    mid=$(( secs / 2 > 0 ? secs / 2 : 1 ))
    sleep $(( secs / 4 + 1 ))
    a0=$(ticks "${inst_pids[0]}") b0=$(ticks "${inst_pids[1]}") g0=$(ticks "$lp")
    sleep "$mid"
    a1=$(ticks "${inst_pids[0]}") b1=$(ticks "${inst_pids[1]}") g1=$(ticks "$lp")
    wait $lp
    cat "$out" >&2
    echo "$(awk '/^rps/{print $2}' "$out") $(( (a1 - a0) * 100 / (hz * mid) )) $(( (b1 - b0) * 100 / (hz * mid) )) $(( (g1 - g0) * 100 / (hz * mid) ))" \
      "$(awk '/^requests/{print $6 + $8}' "$out") $(awk '/^latency/{print $7}' "$out")"
  }
  ratios=()
  for run in $(seq 1 "$RUNS"); do
    read -r one c1 _ g1 e1 p1 < <(measure "${URL[0]}" 2>>"$work/bench6.log")
    read -r two d1 d2 g2 e2 p2 < <(measure "${URL[0]}" "${URL[1]}" 2>>"$work/bench6.log")
    r=$(awk -v a="$two" -v b="$one" 'BEGIN{printf "%.2f", a/b}')
    ratios+=("$r")
    printf 'run %d: one instance %s req/s (instance CPU %s%%, generator %s%%, p99 %s, errors+busy %s); two instances %s req/s (CPU %s%% + %s%%, generator %s%%, p99 %s, errors+busy %s); ratio %s\n' \
      "$run" "$one" "$c1" "$g1" "$p1" "$e1" "$two" "$d1" "$d2" "$g2" "$p2" "$e2" "$r"
  done
  mean=$(printf '%s\n' "${ratios[@]}" | awk '{s += $1} END {printf "%.2f", s / NR}')
  res=FAIL
  if awk -v m="$mean" 'BEGIN{exit !(m >= 1.7)}'; then res=PASS; fi
  report "6 read path 2 vs 1" $res "mean ratio $mean over $RUNS runs of $DURATION (target ≥ 1.7); instances on core 0 with a quota of ${QUOTA_US}/100000 µs each, generator on core 1 with $CONNS connections per instance, cpu.shares $SHARES"
fi

echo "uptime after: $(uptime)"
if [ $fails -gt 0 ]; then
  echo "$fails check(s) failed (rerun one with RUN_ONLY=N)"
  exit 1
fi
done_ok=1
echo "all checks passed"
