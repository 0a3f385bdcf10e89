#!/usr/bin/env bash
# Fault scenarios under load (issue 8, "Production proof", part 2): each fault is injected in the middle
# of a run of mixed chat traffic (`yanzhen bench county`) or of a broadcast, and its outcome is counted:
# what users saw, how long until the system recovered by itself, and that no check-in, answer, survey
# response or delivery was lost (the driver's journal of acknowledged effects, verified against the
# database; the broadcast's recipients against what the fake WeChat API delivered).
#
#   bash scripts/faults.sh                          # every scenario
#   bash scripts/faults.sh pg-restart wechat-down   # some of them
#   OUT=/tmp/faults MEMBERS=5000 AIDES=600 DURATION=90 bash scripts/faults.sh
#
# Scenarios: redis-restart pg-restart kill9-broadcast wechat-slow wechat-failing wechat-down sqlite-disk-full.
# Each prints one summary line and appends a row to $OUT/faults.md; the logs, stats CSVs and journals of
# every run stay in $OUT. Exit status 1 if any run lost a record or did not recover.
#
# Everything runs on private services started here, never the machine's own: PostgreSQL on 28432 (a
# cluster in $OUT/work/pg), Redis on 28279, the fake WeChat API on 28290, servers on 28281 and 28282.
# Needs root (the PostgreSQL cluster runs as the postgres user; the disk-full scenario mounts a tmpfs),
# PostgreSQL 15's binaries, redis-server, sqlite3, curl and jq.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-/tmp/faults-$(date +%Y%m%d-%H%M%S)}
MEMBERS=${MEMBERS:-5000}               # the load county (every one bound, the broadcasts' audience)
AIDES=${AIDES:-600}                    # aides the chat driver runs sessions for, in DURATION seconds
DURATION=${DURATION:-90}               # seconds of chat traffic per run
FAULT_AT=${FAULT_AT:-35}               # seconds into the run the fault starts
SQLITE_MEMBERS=${SQLITE_MEMBERS:-300}  # the SQLite county (small: its disk is a few MB of tmpfs)
BCAST_RATE=${BCAST_RATE:-170}          # sends per second: a broadcast to MEMBERS lasts about 30 s
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PORT=28432 REDIS_PORT=28279 FAKE_ADDR=127.0.0.1:28290
YZ_ADDRS=(127.0.0.1:28281 127.0.0.1:28282)
STATS_EVERY=1

WORK=$OUT/work
mkdir -p "$WORK"
chmod 755 "$OUT" "$WORK"
REPORT=$OUT/faults.md
BIN=$WORK/yanzhen
PG_DATA=$WORK/pg
DB_NAME=yanzhen_faults
SEED_DB=yanzhen_faults_seed
PG_URL_BASE="postgres://postgres@127.0.0.1:$PG_PORT"
DB_URL="$PG_URL_BASE/$DB_NAME?sslmode=disable"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
DISK=$WORK/disk # the tmpfs of the SQLite scenario

# The official account every process uses: the demo app, which the fake WeChat API knows by default.
export YANZHEN_OA_APPID=wxdemo0a0000000001 YANZHEN_OA_SECRET=demo-oa-secret YANZHEN_OA_TOKEN=yanzhendemo
export YANZHEN_OA_AES_KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
export YANZHEN_WECHAT_API_BASE=http://$FAKE_ADDR YANZHEN_LOG_LEVEL=${YANZHEN_LOG_LEVEL:-warn} YANZHEN_LOG_FORMAT=text
export YANZHEN_OA_REMIND_TEMPLATE=${YANZHEN_OA_REMIND_TEMPLATE:-tpl-remind}
export YANZHEN_INDEX_DIR=$WORK/index

FAILED=0

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FATAL: $*"; exit 2; }
now() { echo "${EPOCHREALTIME}"; }
# since T0 [T]: seconds from T0 to T (default now), one decimal.
since() { awk -v a="$1" -v b="${2:-$EPOCHREALTIME}" 'BEGIN{printf "%.1f", b - a}'; }

# ---------------------------------------------------------------------------------------------------
# Private PostgreSQL

pg() { su postgres -c "$PG_BIN/pg_ctl -D $PG_DATA -l $WORK/pg.log $*" >/dev/null; }
psql_q() { # DB SQL: one value per line
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$1" -tAqc "$2"
}
pg_init() {
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    install -d -o postgres -m 700 "$PG_DATA"
    su postgres -c "$PG_BIN/initdb -D $PG_DATA -U postgres --auth=trust" >"$WORK/initdb.log" 2>&1 || die "initdb failed: $WORK/initdb.log"
  fi
  chown postgres "$WORK"
  pg_up
}
pg_up() {
  su postgres -c "$PG_BIN/pg_ctl -D $PG_DATA -l $WORK/pg.log -w -t 60 status" >/dev/null 2>&1 && return 0
  pg "-w -t 60 -o '-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1 -c max_connections=200' start"
}
pg_down() { # MODE
  su postgres -c "$PG_BIN/pg_ctl -D $PG_DATA -l $WORK/pg.log -w -t 60 status" >/dev/null 2>&1 || return 0
  pg "-w -t 60 -m $1 stop"
}
# fresh_pg: the scenario database, a copy of the seeded and bound county.
fresh_pg() {
  psql_q postgres "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null
  psql_q postgres "CREATE DATABASE $DB_NAME TEMPLATE $SEED_DB" >/dev/null
}

# ---------------------------------------------------------------------------------------------------
# Private Redis. MODE aof: appendonly yes, appendfsync everysec and RDB snapshots, as
# docs/OPERATIONS.md recommends; none: no persistence at all.

REDIS_MODE=aof
redis_conf() {
  case $REDIS_MODE in
    aof) echo --appendonly yes --appendfsync everysec --save "'900 1 300 100'" ;;
    none) echo --appendonly no --save "''" ;;
  esac
}
redis_up() {
  mkdir -p "$WORK/redis"
  eval redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --daemonize yes \
    --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log" --maxmemory-policy noeviction "$(redis_conf)"
  for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "redis did not start: $WORK/redis.log"
}
redis_kill9() {
  [ -s "$WORK/redis.pid" ] || return 0
  local pid; pid=$(cat "$WORK/redis.pid")
  kill -9 "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$WORK/redis.pid"
}
redis_stop() {
  [ -s "$WORK/redis.pid" ] || return 0
  local pid; pid=$(cat "$WORK/redis.pid")
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$WORK/redis.pid"
}
# fresh_redis MODE: an empty Redis with that persistence.
fresh_redis() {
  redis_stop
  REDIS_MODE=$1
  rm -rf "$WORK/redis"
  redis_up
}

# ---------------------------------------------------------------------------------------------------
# The fake WeChat API, as its own process (a fresh one per run: its counts start at zero).

FAKE_PID=
fake_up() {
  fake_down
  "$BIN" fakewechat --addr "$FAKE_ADDR" --keep-calls --template "$YANZHEN_OA_REMIND_TEMPLATE" >"$WORK/fake.log" 2>&1 &
  FAKE_PID=$!
  for _ in $(seq 100); do curl -sf "http://$FAKE_ADDR/_fake/stats" >/dev/null && return 0; sleep 0.1; done
  die "fakewechat did not start: $WORK/fake.log"
}
fake_down() {
  [ -n "$FAKE_PID" ] || return 0
  kill "$FAKE_PID" 2>/dev/null || true
  wait "$FAKE_PID" 2>/dev/null || true
  FAKE_PID=
}
fake() { # PATH?QUERY: POST a control request
  curl -sf -X POST "http://$FAKE_ADDR/_fake/$1" >/dev/null || log "fake: $1 failed"
}
fake_stats() { curl -sf "http://$FAKE_ADDR/_fake/stats"; }
# fake_ok: successful calls to the message APIs so far.
fake_ok() {
  fake_stats | jq '[(.ok // {}) | to_entries[] | select(.key | test("message")) | .value] | add // 0'
}
# The two message APIs a broadcast (and a late chat reply) uses.
API_CUSTOM=/cgi-bin/message/custom/send
API_TEMPLATE=/cgi-bin/message/template/send

# ---------------------------------------------------------------------------------------------------
# Servers. serve_up N DBURL [REDISURL] [VAR=VALUE…]: instance N (0 or 1) on YZ_ADDRS[N].

SERVE_PIDS=("" "")
RUN=seed # the run whose logs the servers write ($OUT/RUN.serveN.log)
serve_up() {
  local n=$1 db=$2 rd=${3:-}; shift 3 || shift $#
  local addr=${YZ_ADDRS[$n]}
  env YANZHEN_DATABASE_URL="$db" YANZHEN_REDIS_URL="$rd" YANZHEN_HTTP_ADDR="$addr" "$@" \
    "$BIN" serve >>"$OUT/$RUN.serve$n.log" 2>&1 &
  SERVE_PIDS[n]=$!
  for _ in $(seq 300); do
    curl -sf "http://$addr/readyz" >/dev/null && return 0
    kill -0 "${SERVE_PIDS[n]}" 2>/dev/null || die "serve $n exited: $OUT/$RUN.serve$n.log"
    sleep 0.1
  done
  die "serve $n not ready: $OUT/$RUN.serve$n.log"
}
serve_down() { # N
  local pid=${SERVE_PIDS[$1]}
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  SERVE_PIDS[$1]=""
}
serve_kill9() { # N
  local pid=${SERVE_PIDS[$1]}
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  SERVE_PIDS[$1]=""
}
serve_alive() { [ -n "${SERVE_PIDS[$1]}" ] && kill -0 "${SERVE_PIDS[$1]}" 2>/dev/null; }

# ---------------------------------------------------------------------------------------------------
# The load county, seeded once into a template database (and a SQLite file) and bound: every member's
# WeChat openid is set by binding through the chat, as members do.

seed_pg() {
  if [ "$(psql_q postgres "SELECT 1 FROM pg_database WHERE datname = '$SEED_DB'")" = 1 ] && [ -s "$WORK/codes.csv" ] && [ -z "${RESEED:-}" ]; then
    log "seed: reusing $SEED_DB"
    return 0
  fi
  log "seed: county of $MEMBERS members in PostgreSQL"
  psql_q postgres "DROP DATABASE IF EXISTS $SEED_DB WITH (FORCE)" >/dev/null
  psql_q postgres "CREATE DATABASE $SEED_DB" >/dev/null
  local url="$PG_URL_BASE/$SEED_DB?sslmode=disable"
  fresh_redis none
  YANZHEN_DATABASE_URL=$url YANZHEN_REDIS_URL=$REDIS_URL \
    "$BIN" bench county --setup --members "$MEMBERS" --codes "$WORK/codes.csv" >"$WORK/seed.log" 2>&1 || die "seed failed: $WORK/seed.log"
  fake_up
  serve_up 0 "$url" "$REDIS_URL"
  bind_all "$WORK/codes.csv" "$MEMBERS" >>"$WORK/seed.log" 2>&1 || die "bind failed: $WORK/seed.log"
  serve_down 0
  fake_down
  local bound; bound=$(psql_q "$SEED_DB" "SELECT count(*) FROM members WHERE oa_open_id IS NOT NULL")
  log "seed: $bound members bound"
}

seed_sqlite() {
  if [ -s "$WORK/seed.db" ] && [ -s "$WORK/codes-sqlite.csv" ] && [ -z "${RESEED:-}" ]; then
    return 0
  fi
  log "seed: county of $SQLITE_MEMBERS members in SQLite"
  rm -f "$WORK/seed.db" "$WORK/seed.db-wal" "$WORK/seed.db-shm"
  local url="sqlite://$WORK/seed.db"
  YANZHEN_DATABASE_URL=$url YANZHEN_REDIS_URL= \
    "$BIN" bench county --setup --members "$SQLITE_MEMBERS" --villages 10 --codes "$WORK/codes-sqlite.csv" >"$WORK/seed-sqlite.log" 2>&1 ||
    die "seed failed: $WORK/seed-sqlite.log"
  fake_up
  serve_up 0 "$url" ""
  bind_all "$WORK/codes-sqlite.csv" "$SQLITE_MEMBERS" >>"$WORK/seed-sqlite.log" 2>&1 || die "bind failed: $WORK/seed-sqlite.log"
  serve_down 0
  fake_down
  sqlite3 "$WORK/seed.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
}

# bind_all CODES N: binds every aide to his code through the chat (the driver's --bind), no sessions.
bind_all() {
  "$BIN" bench county --url "http://${YZ_ADDRS[0]}/wechat/oa" --codes "$1" --aides "$2" --bind --duration 1ms \
    --journal /dev/null --stats /dev/null
}

# ---------------------------------------------------------------------------------------------------
# The chat driver. driver_start NAME [--url URL…]: runs AIDES sessions for DURATION seconds in the
# background, the journal and stats in $OUT/NAME.*; T0 is when it started.

DRIVER_PID= T0=
driver_start() {
  local name=$1; shift
  rm -f "$OUT/$name.journal" "$OUT/$name.stats.csv"
  "$BIN" bench county "$@" --codes "$CODES" --aides "$AIDES" --duration "${DURATION}s" --peak 2h \
    --journal "$OUT/$name.journal" --stats "$OUT/$name.stats.csv" --stats-every "${STATS_EVERY}s" \
    >"$OUT/$name.driver.txt" 2>"$OUT/$name.driver.log" &
  DRIVER_PID=$!
  # The stats file is created as the traffic starts: its t_seconds count from then.
  while [ ! -e "$OUT/$name.stats.csv" ]; do
    kill -0 "$DRIVER_PID" 2>/dev/null || die "the driver exited: $OUT/$name.driver.log"
    sleep 0.01
  done
  T0=$(now)
}
driver_wait() {
  wait "$DRIVER_PID" || log "driver exited with $?: $OUT/${1:-}.driver.log"
  DRIVER_PID=
}
# sleep_until T: sleep until T seconds after T0.
sleep_until() {
  local d; d=$(awk -v t0="$T0" -v t="$1" -v n="$EPOCHREALTIME" 'BEGIN{d = t0 + t - n; printf "%.2f", (d > 0 ? d : 0)}')
  sleep "$d"
}

# chat_summary NAME FS FE: what users saw from FS (the fault's start, seconds after T0) until the
# traffic recovered, and the recovery: the start of the first stats interval at or after FE (the
# fault's end) with answers and no error, busy reply or timeout. Prints "key=value …".
chat_summary() {
  awk -F, -v fs="$2" -v fe="$3" -v every="$STATS_EVERY" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    {
      t = $col["t_seconds"]; bad = $col["busy"] + $col["errors"] + $col["timeouts"]
      sent += $col["sent"]
      if (t <= fs) { before += bad; next }
      if (rec == "" && t - every >= fe - 0.001 && bad == 0 && $col["ok"] > 0) rec = t - every - fe
      if (rec == "") {
        busy += $col["busy"]; errs += $col["errors"]; tmo += $col["timeouts"]; ok += $col["ok"]; n += $col["sent"]
        if ($col["p99_ms"] > p99) p99 = $col["p99_ms"]
        if ($col["max_ms"] > mx) mx = $col["max_ms"]
      } else after += bad
    }
    END {
      if (rec == "") rec = "never"; else rec = sprintf("%.0f", rec < 0 ? 0 : rec)
      printf "sent=%d during_sent=%d during_ok=%d busy=%d errors=%d timeouts=%d p99_ms=%d max_ms=%d recovery_s=%s errors_before=%d errors_after=%d\n",
        sent, n, ok, busy, errs, tmo, p99, mx, rec, before + 0, after + 0
    }' "$OUT/$1.stats.csv"
}

# verify NAME DBURL: the journal against the database ("acked N found N lost 0").
verify() {
  local out rc=0
  out=$(YANZHEN_DATABASE_URL=$2 "$BIN" bench county --verify --journal "$OUT/$1.journal" 2>&1) || rc=$?
  printf '%s\n' "$out" >"$OUT/$1.verify.txt"
  printf '%s' "$(grep -m1 -o 'acked [0-9]* found [0-9]* lost [0-9]*' <<<"$out" || echo "verify failed (rc $rc)")"
  [ $rc = 0 ]
}

# ---------------------------------------------------------------------------------------------------
# Broadcasts. bcast_start DBURL TEXT: records a notice to the whole county; prints its id.

bcast_start() {
  YANZHEN_DATABASE_URL=$1 "$BIN" broadcast notice --org 压测县 --text "$2" 2>/dev/null | awk '/^broadcast/{print $2}'
}
bcast_status() { # DBURL ID
  YANZHEN_DATABASE_URL=$1 "$BIN" broadcast status "$2" 2>/dev/null
}
# bcast_wait DBURL ID SECONDS: until the broadcast is done (every recipient final); false on timeout.
bcast_wait() {
  local end=$((SECONDS + $3)) st
  while [ $SECONDS -lt $end ]; do
    st=$(bcast_status "$1" "$2" | head -1)
    case $st in *status=done*) return 0 ;; esac
    sleep 2
  done
  return 1
}
# timeline_start NAME: samples the fake's successful message calls every second into $OUT/NAME.sends.csv
# (t after T0, ok so far), so that a stall and the moment sending resumed can be seen.
TL_PID=
timeline_start() {
  local f=$OUT/$1.sends.csv
  echo "t,ok" >"$f"
  (while :; do printf '%s,%s\n' "$(since "$T0")" "$(fake_ok 2>/dev/null || echo)" >>"$f"; sleep 1; done) &
  TL_PID=$!
}
timeline_stop() { [ -n "$TL_PID" ] && { kill "$TL_PID" 2>/dev/null; wait "$TL_PID" 2>/dev/null; TL_PID=; } || true; }
# resumed NAME FE: seconds from FE until the first second sends went through again, and the longest
# stall (seconds with no successful send) after the broadcast's first send.
resumed() {
  awk -F, -v fe="$2" 'NR > 1 && $2 != "" {
      if (prev != "" && $2 > prev) { if (first == "") first = $1; if (last != "" && $1 - last > stall) stall = $1 - last; last = $1
        if (res == "" && $1 >= fe) res = $1 - fe }
      prev = $2 }
    END {
      if (res != "") res = sprintf("%.0f", res < 0 ? 0 : res)
      else if (last != "" && last < fe) res = "n/a(all_sent_during_the_fault)"
      else res = "never"
      printf "resumed_s=%s stall_s=%.0f\n", res, stall }' "$OUT/$1.sends.csv"
}
# resumed_text NAME FE: the same in words, for the report.
resumed_text() {
  local r; r=$(resumed "$1" "$2")
  echo "sending resumed $(kv "$r" resumed_s) s after the fault's end (longest stall $(kv "$r" stall_s) s)"
}

# bcast_account NAME DBURL ID MARK: the broadcast's recipients against what the fake delivered (the
# messages whose text carries MARK), retries and failures from the database. Prints "key=value …".
bcast_account() {
  local name=$1 db=$2 id=$3 mark=$4 st
  st=$(bcast_status "$db" "$id")
  printf '%s\n' "$st" >"$OUT/$name.broadcast.txt"
  curl -sf "http://$FAKE_ADDR/_fake/calls?all=1" >"$WORK/calls.json"
  local delivered dups failed_calls
  read -r delivered dups < <(jq -r --arg m "$mark" '
    [.messages[] | select(.errcode == 0 and ((.text // "") | contains($m)))] | group_by(.to[0]) | map(length)
    | "\(length) \(map(. - 1) | add // 0)"' "$WORK/calls.json")
  # Refused calls (an errcode, an HTTP error, a client that gave up) to the message APIs, of the whole run.
  failed_calls=$(fake_stats | jq '[(.failed // {}) | to_entries[] | select(.key | test("message")) | .value] | add // 0')
  local first; first=$(head -1 <<<"$st")
  local recipients sent failed queued skipped pdup
  sent=$(grep -o 'sent=[0-9]*' <<<"$first" | cut -d= -f2)
  failed=$(grep -o 'failed=[0-9]*' <<<"$first" | cut -d= -f2)
  queued=$(grep -o 'queued=[0-9]*' <<<"$first" | cut -d= -f2)
  skipped=$(grep -o 'skipped=[0-9]*' <<<"$first" | cut -d= -f2)
  pdup=$(grep -o 'possible_duplicates=[0-9]*' <<<"$first" | cut -d= -f2)
  recipients=$(( $(grep -o 'total=[0-9]*' <<<"$first" | cut -d= -f2) - skipped ))
  local retried
  retried=$(db_value "$db" "SELECT count(*) FROM deliveries WHERE broadcast_id = $id AND attempts > 1")
  local reasons
  reasons=$(reasons_of "$db" "$id" "")
  echo "recipients=$recipients sent=$sent failed=$failed queued=$queued delivered=$delivered duplicates=$dups possible_dup=$pdup refused_calls=$failed_calls retried=$retried reasons=${reasons:-none}"
}
# reasons_of DBURL ID [STATUS]: "reason×n,…" of the broadcast's recipients (of that status) with a reason.
reasons_of() {
  local where="broadcast_id = $2 AND reason <> ''"
  [ -n "${3:-}" ] && where="$where AND status = '$3'"
  local r
  r=$(db_value "$1" "SELECT reason || '×' || count(*) FROM deliveries WHERE $where GROUP BY reason ORDER BY count(*) DESC" | paste -sd, -)
  echo "${r:-none}"
}
db_value() { # DBURL SQL
  case $1 in
    postgres*) local d=${1##*/}; psql_q "${d%%\?*}" "$2" ;;
    sqlite*) sqlite3 "${1#sqlite://}" "$2" ;;
  esac
}
# kv VALUE KEY: the value of KEY in "k=v k=v…".
kv() { grep -o "\b$2=[^ ]*" <<<"$1" | head -1 | cut -d= -f2-; }

# ---------------------------------------------------------------------------------------------------
# The report

report_header() {
  [ -s "$REPORT" ] && return 0
  {
    echo "# Fault scenarios ($(date '+%Y-%m-%d %H:%M'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
    echo
    echo "MEMBERS=$MEMBERS AIDES=$AIDES DURATION=${DURATION}s FAULT_AT=${FAULT_AT}s BCAST_RATE=$BCAST_RATE/s; stats every ${STATS_EVERY}s."
    echo
    echo "| scenario | what users saw | recovery | lost | duplicates |"
    echo "|---|---|---|---|---|"
  } >"$REPORT"
}
# row SCENARIO SAW RECOVERY LOST DUPS OK: one table row and one summary line; OK=0 marks a failure.
row() {
  echo "| $1 | $2 | $3 | $4 | $5 |" >>"$REPORT"
  printf '%-28s %s | recovery %s | lost %s | duplicates %s%s\n' "$1" "$2" "$3" "$4" "$5" "$([ "$6" = 1 ] || echo '  ** FAIL **')"
  [ "$6" = 1 ] || FAILED=1
}

# ---------------------------------------------------------------------------------------------------
# Scenario helpers

# chat_run NAME URLS FAULT_FN: a chat run on the PostgreSQL county with FAULT_FN called at FAULT_AT (it
# sets FS and FE, seconds after T0) and a broadcast to the county recorded 10 s before the fault (so the
# fault also meets a broadcast in flight). Sets SUMMARY, VERIFY, VOK, BSUM.
chat_run() {
  local name=$1 fault=$2
  CODES=$WORK/codes.csv
  driver_start "$name" --url "http://${YZ_ADDRS[0]}/wechat/oa"
  timeline_start "$name"
  sleep_until $((FAULT_AT - 10))
  local mark="【$name】" bid
  BID=$(bcast_start "$DB_URL" "${mark}故障演练通知，请忽略。")
  sleep_until "$FAULT_AT"
  FS=$(since "$T0")
  "$fault"
  FE=$(since "$T0")
  AT_END=$(reasons_of "$DB_URL" "$BID" queued 2>/dev/null || echo "unknown")
  log "$name: fault from ${FS}s to ${FE}s; broadcast recipients waiting for a retry then: $AT_END"
  driver_wait "$name"
  bcast_wait "$DB_URL" "$BID" 300 || log "$name: broadcast $BID not done after 300 s"
  timeline_stop
  SUMMARY=$(chat_summary "$name" "$FS" "$FE")
  VOK=1
  VERIFY=$(verify "$name" "$DB_URL") || VOK=0
  BSUM=$(bcast_account "$name" "$DB_URL" "$BID" "$mark")
  echo "$SUMMARY" >"$OUT/$name.summary.txt"
  echo "$BSUM" >>"$OUT/$name.summary.txt"
}

# chat_row NAME: the table row of a chat run (with its broadcast).
chat_row() {
  local name=$1 extra=${2:-} ok=1 rec lost
  rec=$(kv "$SUMMARY" recovery_s)
  [ "$rec" = never ] && ok=0
  [ "$VOK" = 1 ] || ok=0
  lost=$(( $(kv "$BSUM" recipients) - $(kv "$BSUM" delivered) ))
  [ "$lost" = 0 ] && [ "$(kv "$BSUM" queued)" = 0 ] || ok=0
  row "$name" \
    "fault ${FS}–${FE}s; until recovered: $(kv "$SUMMARY" during_sent) sent, $(kv "$SUMMARY" during_ok) ok, busy $(kv "$SUMMARY" busy), errors $(kv "$SUMMARY" errors), timeouts $(kv "$SUMMARY" timeouts), p99 $(kv "$SUMMARY" p99_ms) ms (errors before $(kv "$SUMMARY" errors_before), after $(kv "$SUMMARY" errors_after)); broadcast: waiting for a retry at the fault's end $AT_END, retried $(kv "$BSUM" retried), failed $(kv "$BSUM" failed) ($(kv "$BSUM" reasons | tr '|' '/'))$extra" \
    "chat: ${rec} s; broadcast: $(resumed_text "$name" "$FE")" \
    "$VERIFY; deliveries: recipients $(kv "$BSUM" recipients) delivered $(kv "$BSUM" delivered) (lost $lost)" \
    "$(kv "$BSUM" duplicates) (engine counted $(kv "$BSUM" possible_dup) possible)" "$ok"
}

# ---------------------------------------------------------------------------------------------------
# Scenarios

# 1. Redis killed (SIGKILL) under load and started again 5 s later: with AOF (the recommended setting)
# and with no persistence (the queue, sessions and chat steps are then gone).
scenario_redis_restart() {
  local mode
  for mode in aof none; do
    local name=redis-restart-$mode
    log "== $name"; RUN=$name
    fresh_pg
    fresh_redis "$mode"
    fake_up
    serve_up 0 "$DB_URL" "$REDIS_URL" YANZHEN_BROADCAST_RATE=$BCAST_RATE
    fault_redis() {
      local before; before="$(redis-cli -p "$REDIS_PORT" dbsize) keys, queue $(redis-cli -p "$REDIS_PORT" xlen yz:bc:queue)"
      redis_kill9
      sleep 5
      redis_up
      REDIS_SEEN="Redis ($mode) had $before before the kill, $(redis-cli -p "$REDIS_PORT" dbsize) keys, queue $(redis-cli -p "$REDIS_PORT" xlen yz:bc:queue) after the restart"
    }
    chat_run "$name" fault_redis
    serve_down 0
    chat_row "$name" "; $REDIS_SEEN"
  done
}

# 2. PostgreSQL restarted under load: a crash (-m immediate), a fast restart, and down for 20 s.
scenario_pg_restart() {
  local how
  for how in immediate fast down20; do
    local name=pg-restart-$how
    log "== $name"; RUN=$name
    fresh_pg
    fresh_redis aof
    fake_up
    serve_up 0 "$DB_URL" "$REDIS_URL" YANZHEN_BROADCAST_RATE=$BCAST_RATE
    case $how in
      immediate) fault_pg() { pg "-w -t 60 -m immediate restart"; } ;;
      fast) fault_pg() { pg "-w -t 60 -m fast restart"; } ;;
      down20) fault_pg() { pg_down immediate; sleep 20; pg_up; } ;;
    esac
    chat_run "$name" fault_pg
    serve_down 0
    chat_row "$name"
  done
}

# 3. Two servers deliver a broadcast to the county at BCAST_RATE; the one owning it is killed with
# SIGKILL about 40 % of the way and started again 5 s later.
scenario_kill9_broadcast() {
  local name=kill9-broadcast
  log "== $name"; RUN=$name
  fresh_pg
  fresh_redis aof
  fake_up
  serve_up 0 "$DB_URL" "$REDIS_URL" YANZHEN_BROADCAST_RATE=$BCAST_RATE
  serve_up 1 "$DB_URL" "$REDIS_URL" YANZHEN_BROADCAST_RATE=$BCAST_RATE
  local mark="【$name】"
  T0=$(now)
  timeline_start "$name"
  BID=$(bcast_start "$DB_URL" "${mark}故障演练通知，请忽略。")
  local target=$((MEMBERS * 4 / 10))
  while [ "$(fake_ok)" -lt "$target" ]; do sleep 0.2; done
  # The owner: the lease's value is "host-PID-random|deadline".
  local owner victim=0
  owner=$(redis-cli -p "$REDIS_PORT" get "yz:bc:own:$BID" | cut -d'|' -f1)
  [[ $owner == *-"${SERVE_PIDS[1]}"-* ]] && victim=1
  FS=$(since "$T0")
  local inflight_before; inflight_before=$(fake_ok)
  serve_kill9 $victim
  log "$name: killed server $victim (owner $owner) at ${FS}s, $inflight_before delivered"
  sleep 5
  serve_up $victim "$DB_URL" "$REDIS_URL" YANZHEN_BROADCAST_RATE=$BCAST_RATE
  FE=$(since "$T0")
  local ok=1 done_s
  bcast_wait "$DB_URL" "$BID" 300 || { log "$name: broadcast not done after 300 s"; ok=0; }
  done_s=$(since "$T0")
  timeline_stop
  BSUM=$(bcast_account "$name" "$DB_URL" "$BID" "$mark")
  echo "$BSUM" >"$OUT/$name.summary.txt"
  serve_down 0
  serve_down 1
  local lost=$(( $(kv "$BSUM" recipients) - $(kv "$BSUM" delivered) )) window=400
  [ "$lost" = 0 ] && [ "$(kv "$BSUM" queued)" = 0 ] || ok=0
  [ "$(kv "$BSUM" duplicates)" -le $window ] || ok=0
  row "$name" \
    "server $victim (the owner) killed at ${FS}s with $inflight_before delivered, restarted at ${FE}s; retried $(kv "$BSUM" retried), failed $(kv "$BSUM" failed) ($(kv "$BSUM" reasons))" \
    "$(resumed_text "$name" "$FE"); every recipient final ${done_s} s after the broadcast was recorded" \
    "recipients $(kv "$BSUM" recipients) delivered $(kv "$BSUM" delivered) (lost $lost), queued $(kv "$BSUM" queued)" \
    "$(kv "$BSUM" duplicates) ≤ in-flight window $window (engine counted $(kv "$BSUM" possible_dup) possible)" "$ok"
}

# bcast_fault_run NAME FAULT_FN: a broadcast to the county from one server, FAULT_FN called once 30 %
# of it is delivered (it sets FE); then it must finish. Sets BSUM, FS, FE, DONE_S, BOK.
bcast_fault_run() {
  local name=$1 fault=$2
  fresh_pg
  fresh_redis aof
  fake_up
  serve_up 0 "$DB_URL" "$REDIS_URL" YANZHEN_BROADCAST_RATE=$BCAST_RATE
  local mark="【$name】"
  T0=$(now)
  timeline_start "$name"
  BID=$(bcast_start "$DB_URL" "${mark}故障演练通知，请忽略。")
  local target=$((MEMBERS * 3 / 10))
  while [ "$(fake_ok)" -lt "$target" ]; do sleep 0.2; done
  FS=$(since "$T0")
  "$fault"
  FE=$(since "$T0")
  AT_END=$(reasons_of "$DB_URL" "$BID" queued)
  log "$name: fault from ${FS}s to ${FE}s; waiting for a retry then: $AT_END"
  BOK=1
  bcast_wait "$DB_URL" "$BID" "${BCAST_WAIT:-300}" || { log "$name: broadcast not done"; BOK=0; }
  DONE_S=$(since "$T0")
  timeline_stop
  BSUM=$(bcast_account "$name" "$DB_URL" "$BID" "$mark")
  FAKESTATS=$(fake_stats)
  echo "$BSUM" >"$OUT/$name.summary.txt"
  echo "$FAKESTATS" >>"$OUT/$name.summary.txt"
  serve_down 0
}
bcast_row() { # NAME SAW
  local name=$1 ok=$BOK lost=$(( $(kv "$BSUM" recipients) - $(kv "$BSUM" delivered) ))
  [ "$lost" = 0 ] && [ "$(kv "$BSUM" queued)" = 0 ] || ok=0
  row "$name" "$2; refused calls $(kv "$BSUM" refused_calls); at the fault's end waiting for a retry: $AT_END; retried $(kv "$BSUM" retried) recipients in all, failed $(kv "$BSUM" failed) ($(kv "$BSUM" reasons))" \
    "$(resumed_text "$name" "$FE"); every recipient final ${DONE_S} s after the broadcast was recorded" \
    "recipients $(kv "$BSUM" recipients) delivered $(kv "$BSUM" delivered) (lost $lost), queued $(kv "$BSUM" queued)" \
    "$(kv "$BSUM" duplicates) (engine counted $(kv "$BSUM" possible_dup) possible)" "$ok"
}

# 4. The WeChat API slow: every message send takes 3 s, for 20 s of a broadcast and 20 s of chat traffic.
scenario_wechat_slow() {
  local name=wechat-slow-broadcast
  log "== $name"; RUN=$name
  fault_slow() {
    fake "delay?api=$API_CUSTOM&ms=3000"; fake "delay?api=$API_TEMPLATE&ms=3000"
    sleep 20
    fake "delay?api=$API_CUSTOM&ms=0"; fake "delay?api=$API_TEMPLATE&ms=0"
  }
  bcast_fault_run "$name" fault_slow
  bcast_row "$name" "sends took 3 s from ${FS}s to ${FE}s; most calls in one second $(jq .max_per_second <<<"$FAKESTATS")"

  name=wechat-slow-chat
  log "== $name"; RUN=$name
  fresh_pg
  fresh_redis aof
  fake_up
  serve_up 0 "$DB_URL" "$REDIS_URL"
  CODES=$WORK/codes.csv
  driver_start "$name" --url "http://${YZ_ADDRS[0]}/wechat/oa"
  sleep_until "$FAULT_AT"
  FS=$(since "$T0")
  fault_slow
  FE=$(since "$T0")
  driver_wait "$name"
  SUMMARY=$(chat_summary "$name" "$FS" "$FE")
  local ok=1
  VERIFY=$(verify "$name" "$DB_URL") || ok=0
  [ "$(kv "$SUMMARY" recovery_s)" != never ] || ok=0
  local calls; calls=$(fake_stats | jq -r '[.calls // {} | to_entries[] | "\(.key) ×\(.value)"] | join(", ")')
  serve_down 0
  row "$name" "sends took 3 s from ${FS}s to ${FE}s; $(kv "$SUMMARY" during_sent) chat messages then: busy $(kv "$SUMMARY" busy), errors $(kv "$SUMMARY" errors), timeouts $(kv "$SUMMARY" timeouts), p99 $(kv "$SUMMARY" p99_ms) ms; WeChat API calls made by the chat in the whole run: ${calls:-none (every reply passive)}" \
    "$(kv "$SUMMARY" recovery_s) s" "$VERIFY" "-" "$ok"
}

# 5. The WeChat API failing: "system busy" (-1) for 20 s, then in another run the daily quota used up
# (45009) for 20 s, each during a broadcast.
scenario_wechat_failing() {
  local code
  for code in -1 45009; do
    local name=wechat-failing-busy
    [ "$code" = 45009 ] && name=wechat-failing-quota
    log "== $name"; RUN=$name
    eval "fault_fail() { fake 'fault?api=$API_CUSTOM&errcode=$code&times=-1'; fake 'fault?api=$API_TEMPLATE&errcode=$code&times=-1'; sleep 20; fake reset-faults; }"
    # 45009 makes every server stop sending for a cool-down (handlers/broadcast cooldownFor): wait it out.
    BCAST_WAIT=$([ "$code" = 45009 ] && echo 900 || echo 300) bcast_fault_run "$name" fault_fail
    bcast_row "$name" "errcode $code on every send from ${FS}s to ${FE}s"
  done
}

# 6. The WeChat API down (HTTP 503 for every call) for 20 s (WECHAT_DOWN_SECS) during a broadcast.
scenario_wechat_down() {
  local name=wechat-down
  log "== $name"; RUN=$name
  fault_down() { fake "down?on=1"; sleep "${WECHAT_DOWN_SECS:-20}"; fake "down?on=0"; }
  bcast_fault_run "$name" fault_down
  bcast_row "$name" "every call answered HTTP 503 from ${FS}s to ${FE}s"
}

# 7. The SQLite default (embedded Redis) with its disk full for 20 s under chat traffic: the replies,
# recovery without a restart, no corruption (integrity_check), every acknowledged effect present.
scenario_sqlite_disk_full() {
  local name=sqlite-disk-full
  log "== $name"; RUN=$name
  disk_umount
  mkdir -p "$DISK"
  local size; size=$(( ($(stat -c %s "$WORK/seed.db") + 8 * 1024 * 1024) / 1024 ))
  mount -t tmpfs -o "size=${size}k" tmpfs "$DISK"
  cp "$WORK/seed.db" "$DISK/yanzhen.db"
  local url="sqlite://$DISK/yanzhen.db"
  fake_up
  serve_up 0 "$url" "" YANZHEN_INDEX_DIR= # the default: next to the SQLite file
  CODES=$WORK/codes-sqlite.csv
  local aides=$AIDES
  AIDES=$SQLITE_MEMBERS
  driver_start "$name" --url "http://${YZ_ADDRS[0]}/wechat/oa"
  AIDES=$aides
  sleep_until "$FAULT_AT"
  FS=$(since "$T0")
  dd if=/dev/zero of="$DISK/filler" bs=64k 2>/dev/null || true
  log "$name: disk full at ${FS}s ($(df -h --output=avail "$DISK" | tail -1) left)"
  sleep 20
  rm -f "$DISK/filler"
  FE=$(since "$T0")
  driver_wait "$name"
  local alive=1 ready
  serve_alive 0 || alive=0
  ready=$(curl -s "http://${YZ_ADDRS[0]}/readyz" || echo unreachable)
  serve_down 0
  SUMMARY=$(chat_summary "$name" "$FS" "$FE")
  local ok=1 integrity
  integrity=$(sqlite3 "$DISK/yanzhen.db" 'PRAGMA integrity_check' 2>&1 | head -3 | tr '\n' ' ')
  [ "${integrity% }" = ok ] || ok=0
  VERIFY=$(verify "$name" "$url") || ok=0
  [ "$(kv "$SUMMARY" recovery_s)" != never ] || ok=0
  [ $alive = 1 ] || ok=0
  local replies
  replies=$(grep -ho '"reply":"[^"]*"' "$OUT/$name.driver.log" 2>/dev/null | sort | uniq -c | sort -rn | head -3 | tr -s ' ' | tr '\n' ';' || true)
  row "$name" "disk full from ${FS}s to ${FE}s; until recovered $(kv "$SUMMARY" during_sent) sent: busy/apology $(kv "$SUMMARY" busy), errors $(kv "$SUMMARY" errors), timeouts $(kv "$SUMMARY" timeouts); server alive $([ $alive = 1 ] && echo yes || echo NO), /readyz after: $ready" \
    "$(kv "$SUMMARY" recovery_s) s, no restart" "$VERIFY; integrity_check: ${integrity% }" "-" "$ok"
  cp "$DISK/yanzhen.db" "$OUT/$name.db" 2>/dev/null || true
  disk_umount
}
disk_umount() { mountpoint -q "$DISK" 2>/dev/null && umount "$DISK" || true; }

# ---------------------------------------------------------------------------------------------------

cleanup() {
  set +e
  timeline_stop
  [ -n "$DRIVER_PID" ] && kill "$DRIVER_PID" 2>/dev/null
  serve_down 0
  serve_down 1
  fake_down
  redis_stop
  pg_down fast
  disk_umount
}
trap cleanup EXIT

ALL=(redis-restart pg-restart kill9-broadcast wechat-slow wechat-failing wechat-down sqlite-disk-full)

main() {
  local want=("$@") s
  [ ${#want[@]} -gt 0 ] || want=("${ALL[@]}")
  for s in "${want[@]}"; do
    declare -F "scenario_${s//-/_}" >/dev/null || die "unknown scenario $s (${ALL[*]})"
  done
  log "building into $BIN; output in $OUT"
  go build -o "$BIN" ./cmd/yanzhen
  pg_init
  report_header
  local needs_pg=0
  for s in "${want[@]}"; do [ "$s" = sqlite-disk-full ] || needs_pg=1; done
  [ $needs_pg = 0 ] || seed_pg
  for s in "${want[@]}"; do [ "$s" != sqlite-disk-full ] || seed_sqlite; done
  for s in "${want[@]}"; do
    "scenario_${s//-/_}"
  done
  echo >>"$REPORT"
  echo "Load at the end: $(cut -d' ' -f1-3 /proc/loadavg)." >>"$REPORT"
  echo
  cat "$REPORT"
  return $FAILED
}
# One line, read whole before it runs: editing this file while it runs does not derail it.
main "$@"; exit $?
