#!/usr/bin/env bash
# The lab, end to end: ./run.sh lab [--quick] [--connections N]
#
#   1. platform vs virtual: N idle connections on each engine (threads, RSS, heap by class histogram with a
#      baseline, KernelStack), then load (msgs/s, p99), then the idle connections again on the warmed server
#   2. the memory of one parked virtual thread, cold and warm (lab/VirtualThreadMemory.java)
#   3. each seed server (seeds/, under Wine) at its limit, next to the engine that replaces it
#   4. what still holds a carrier, on one carrier (lab/Pinning.java, with JFR's jdk.VirtualThreadPinned)
#
# Every process is started here, on a free port, and known by its PID from $! (never by searching jcmd's
# list, which shows every JVM on the host); every wait is bounded. --quick took 175 s on the development
# machine (2 CPUs shared with other work, load average 5-6): platform 39 s, virtual 43 s, the parked
# threads 10 s, the seeds and their engines 72 s, pinning 11 s.
#   --memory    only the memory figures (parts 1 and 2; the load becomes a short warm-up): to refresh them
#   --pinned    the servers on one CPU (taskset -c 1), as ./run.sh bench runs them: SerialGC, one carrier
# LAB_KEEP=1 keeps the raw histograms and logs (their folder is printed at the end).
# ./run.sh lab sets JAVA_HOME to the JDK it found and builds target/loom-echo.jar first.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${JAVA_HOME:?run the lab as ./run.sh lab, which finds a JDK 21+ and builds the jar}"
JAVA="$JAVA_HOME/bin/java"
JCMD="$JAVA_HOME/bin/jcmd"
# VirtualThreadMemory.java and Pinning.java use virtual threads: a JAVA_HOME older than 21 fails them late and obscurely.
java_major=$("$JAVA" -XshowSettings:properties -version 2>&1 \
  | sed -n 's/^ *java\.specification\.version = \(1\.\)\{0,1\}\([0-9]*\).*/\2/p' || true)
if [[ -z "$java_major" || "$java_major" -lt 21 ]]; then
  echo "lab: JAVA_HOME=$JAVA_HOME is Java ${java_major:-unknown}; the lab needs a JDK 21+ (./run.sh lab finds one)" >&2
  exit 1
fi
JAR=target/loom-echo.jar
read -r -a SERVER_OPTIONS <<< "${JAVA_OPTIONS:-}" # --enable-preview on 25; not ./run.sh serve's -Xms16m: the JDK's own heap sizing

CONNECTIONS=5000        # idle connections per engine: 2 descriptors each (server and client), under the 20,000 limit
LOAD_CONNECTIONS=1000   # connections under load, 1 KiB messages
LOAD_SECONDS=8
HOLD_SECONDS=12         # how long the idle connections stay silent (under the server's 60 s idle timeout)
PARKED_THREADS=10000
SEED_CLIENTS=70         # more than the 63 clients a 64-handle wait leaves room for
MEMORY_ONLY=false      # --memory: part 1 and 2 only, the load replaced by a short warm-up (no timing figures)
PINNED=false           # --pinned: the server on one CPU (taskset -c 1), as the benchmark runs it
usage() { echo "usage: ./run.sh lab [--quick] [--memory] [--pinned] [--connections N]" >&2; }
while (( $# )); do
  case $1 in
    --quick) CONNECTIONS=300 LOAD_CONNECTIONS=50 LOAD_SECONDS=2 HOLD_SECONDS=4 PARKED_THREADS=2000; shift ;;
    --memory) MEMORY_ONLY=true; shift ;;
    --pinned) PINNED=true; shift ;;
    --connections)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "lab: --connections needs a positive number" >&2; usage; exit 2; }
      CONNECTIONS=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "lab: unknown argument '$1'" >&2; usage; exit 2 ;;
  esac
done
if (( $(ulimit -n) < CONNECTIONS + 200 )); then
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  if (( $(ulimit -n) < CONNECTIONS + 200 )); then
    echo "lab: the open-file limit ($(ulimit -n)) is too low for $CONNECTIONS connections; use --connections $(( $(ulimit -n) - 200 ))" >&2
    exit 2
  fi
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/loom-echo-lab.XXXXXX")
OUT=target/lab
mkdir -p "$OUT"
STARTED=()   # every PID this script started, so an early exit leaves nothing running
cleanup() {
  local pid
  for pid in "${STARTED[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${STARTED[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -n ${LAB_KEEP:-} ]]; then echo "lab: kept the histograms and logs in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
LAB_START=$SECONDS
say() { echo "lab [$(( SECONDS - LAB_START ))s] $*" >&2; }

# wait_for SECONDS COMMAND...: retries COMMAND every 0.1 s until it succeeds; false after SECONDS
wait_for() {
  local limit=$(( SECONDS + $1 )); shift
  until "$@"; do
    (( SECONDS < limit )) || return 1
    sleep 0.1
  done
}
listening_port() { sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1" | head -1; }
has_port() { [[ -n $(listening_port "$1") ]]; }

# start_server LOG COMMAND...: starts COMMAND (which must print "listening on 127.0.0.1:PORT"); sets PID, PORT.
# START_LIMIT (seconds, 30 by default) bounds the wait: the first seed server of a fresh clone builds its
# .exe and creates the Wine prefix first (12-36 s measured, seeds/README.md).
start_server() {
  local log=$1 limit=${START_LIMIT:-30}; shift
  "$@" > "$log" 2>&1 &
  PID=$!
  STARTED+=("$PID")
  if ! wait_for "$limit" has_port "$log"; then
    echo "lab: '$*' did not start listening within $limit s:" >&2; cat "$log" >&2; exit 1
  fi
  PORT=$(listening_port "$log")
}
server_alive() { # exits with the server's last lines if it is gone (on a shared host, someone may have stopped it)
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "lab: the $1 server (PID $PID) has exited; the last lines of its log:" >&2
    tail -5 "$WORK/$1.log" >&2
    exit 1
  fi
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

status_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\).*/\1/p" "/proc/$1/status"; }
threads_of() { sed -n 's/^Threads:[[:space:]]*//p' "/proc/$1/status"; }
kernel_stack_kb() { sed -n 's/^KernelStack:[[:space:]]*\([0-9]*\).*/\1/p' /proc/meminfo; }
open_files() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
at_least_open() { (( $(open_files "$1") >= $2 )); }
histogram() { "$JCMD" "$1" GC.class_histogram > "$2"; } # runs a full GC first: live objects only
# baseline_histogram PID FILE: the first full GC finds the direct buffers and sockets that are garbage and
# queues their Cleaners; only once the reference handler has run them are those gone too. So: GC, wait, GC.
baseline_histogram() { histogram "$1" "$2"; sleep 1; histogram "$1" "$2"; }
# The bytes of live objects: every row but the JVM's fillers (padding where a thread's allocation buffer
# ended, no object of anyone's), which the Total line counts.
histogram_total() { awk '$1 ~ /^[0-9]+:$/ && $4 !~ /^\[?L?jdk\.internal\.vm\.Filler/ { s += $3 } END { print s + 0 }' "$1"; }
json_field() { sed -n "s/.*\"$2\":\([-0-9.a-z]*\).*/\1/p" "$1"; }  # a top-level number or boolean
json_latency() { sed -n "s/.*\"latencyMicros\":{[^}]*\"$2\":\([0-9.]*\).*/\1/p" "$1"; }
per() { awk -v a="$1" -v n="$2" 'BEGIN { printf "%.0f", a / n }'; }
grouped() { sed ':a;s/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/;ta' <<< "$1"; } # 12345 -> 12,345

# histogram_breakdown BEFORE AFTER N SCRATCH: per connection, the 12 classes that grew most, then the rest
histogram_breakdown() {
  awk -v n="$3" '
    function name(c) { sub(/\/0x[0-9a-f]+$/, "", c); return c } # a lambda class: its address varies
    $4 ~ /^\[?L?jdk\.internal\.vm\.Filler/ { next } # padding, not objects (see histogram_total)
    FNR == NR { if ($1 ~ /^[0-9]+:$/) before[name($4)] += $3; next }
    $1 ~ /^[0-9]+:$/ { after[name($4)] += $3 }
    END { for (c in after) { d = (after[c] - before[c]) / n; if (d >= 8) printf "%d %s\n", d + 0.5, c } }
  ' "$1" "$2" | sort -rn > "$4.all"
  head -12 "$4.all"
  local shown rest
  shown=$(head -12 "$4.all" | awk '{ s += $1 } END { print s + 0 }')
  rest=$(( $(per $(( $(histogram_total "$2") - $(histogram_total "$1") )) "$3") - shown ))
  echo "$rest (every other class, and rounding)"
}

# hold_idle ENGINE TAG: N silent connections; records heap (histogram difference), RSS, threads, KernelStack
hold_idle() {
  local engine=$1 tag=$2 base_files
  baseline_histogram "$PID" "$WORK/$engine-$tag-before.histo"
  R[$engine.$tag.rss_before]=$(status_kb "$PID" VmRSS)
  R[$engine.$tag.threads_before]=$(threads_of "$PID")
  R[$engine.$tag.kstack_before]=$(kernel_stack_kb)
  base_files=$(open_files "$PID")
  "$JAVA" -jar "$JAR" load --port "$PORT" -c "$CONNECTIONS" -m 1 --hold "${HOLD_SECONDS}s" --json \
    > "$WORK/$engine-$tag.json" 2> "$WORK/$engine-$tag.load.log" &
  local load=$! limit=$(( SECONDS + HOLD_SECONDS + 60 ))
  STARTED+=("$load")
  # The clients' hold starts once they have all connected; the server may still be accepting then (a
  # busy machine, thousands of OS threads to start), so wait for it, but only while the clients hold.
  until at_least_open "$PID" $(( base_files + CONNECTIONS )); do
    server_alive "$engine"
    if ! kill -0 "$load" 2>/dev/null || (( SECONDS > limit )); then
      echo "lab: $engine accepted only $(( $(open_files "$PID") - base_files )) of $CONNECTIONS connections before the" \
           "clients' ${HOLD_SECONDS} s hold ran out: the machine is too busy; try --connections $(( CONNECTIONS / 2 ))" >&2
      exit 1
    fi
    sleep 0.1
  done
  sleep 1 # the last connections' threads start and park
  R[$engine.$tag.rss]=$(status_kb "$PID" VmRSS)
  R[$engine.$tag.threads]=$(threads_of "$PID")
  R[$engine.$tag.kstack]=$(kernel_stack_kb)
  histogram "$PID" "$WORK/$engine-$tag-during.histo"
  wait "$load" || true
  R[$engine.$tag.ok]=$(json_field "$WORK/$engine-$tag.json" ok)
  R[$engine.$tag.connect]=$(json_field "$WORK/$engine-$tag.json" connectSeconds)
  R[$engine.$tag.heap]=$(per $(( $(histogram_total "$WORK/$engine-$tag-during.histo") - $(histogram_total "$WORK/$engine-$tag-before.histo") )) "$CONNECTIONS")
  R[$engine.$tag.rss_per]=$(per $(( (R[$engine.$tag.rss] - R[$engine.$tag.rss_before]) * 1024 )) "$CONNECTIONS")
  R[$engine.$tag.kstack_per]=$(per $(( (R[$engine.$tag.kstack] - R[$engine.$tag.kstack_before]) * 1024 )) "$CONNECTIONS")
  histogram_breakdown "$WORK/$engine-$tag-before.histo" "$WORK/$engine-$tag-during.histo" "$CONNECTIONS" "$WORK/$engine-$tag" \
    > "$WORK/$engine-$tag.breakdown"
}

under_load() {
  local engine=$1
  "$JAVA" -jar "$JAR" load --port "$PORT" -c "$LOAD_CONNECTIONS" -s 1024 -d "${LOAD_SECONDS}s" --json \
    > "$WORK/$engine-load.json" 2> "$WORK/$engine-load.log" &
  local load=$!
  STARTED+=("$load")
  sleep $(( LOAD_SECONDS / 2 + 1 ))
  R[$engine.load.threads]=$(threads_of "$PID")
  R[$engine.load.rss]=$(status_kb "$PID" VmRSS)
  wait "$load" || true
  R[$engine.load.ok]=$(json_field "$WORK/$engine-load.json" ok)
  R[$engine.load.msgs]=$(json_field "$WORK/$engine-load.json" msgsPerSec)
  R[$engine.load.p50]=$(json_latency "$WORK/$engine-load.json" p50)
  R[$engine.load.p99]=$(json_latency "$WORK/$engine-load.json" p99)
}

# One connection first, so the cold figure is not one-time set-up (classes loaded, JFR's event types
# registered) spread over the connections, but what each connection holds while the JIT has not compiled
# the accept-and-serve path yet.
first_connection() {
  "$JAVA" -jar "$JAR" load --port "$PORT" -c 1 -m 1 > /dev/null 2>&1 || { echo "lab: the first echo failed" >&2; exit 1; }
}
# Warm = as the benchmark warms its servers: steady traffic, then connect-echo-close churn. The churn is
# what compiles the frames a parked connection thread keeps below its read loop (VirtualThread.run, the
# scope's task, the lambda, serve's entry): they run once per connection, so only thousands of connections
# get them compiled, and a parked thread's StackChunk holds them as they are, interpreted or compiled.
warm_up() {
  $MEMORY_ONLY && { "$JAVA" -jar "$JAR" load --port "$PORT" -c 50 -s 64 -d 3s > /dev/null 2>&1 || true; }
  "$JAVA" -jar "$JAR" load --port "$PORT" -c 50 --churn -d 3s > /dev/null 2>&1 || true
}

declare -A R
ENGINES=(platform virtual)
PIN=()
if $PINNED; then
  command -v taskset > /dev/null || { echo "lab: --pinned needs taskset (util-linux)" >&2; exit 1; }
  PIN=(taskset -c 1)
fi
for engine in "${ENGINES[@]}"; do
  say "$engine: $CONNECTIONS idle connections on a fresh server, then $($MEMORY_ONLY && echo "3 s of traffic" || echo "$LOAD_CONNECTIONS x 1 KiB for ${LOAD_SECONDS}s") and 3 s of churn, then the idle connections again"
  start_server "$WORK/$engine.log" "${PIN[@]}" "$JAVA" "${SERVER_OPTIONS[@]}" -jar "$JAR" serve --port 0 --engine "$engine"
  first_connection
  hold_idle "$engine" cold
  $MEMORY_ONLY || under_load "$engine"
  warm_up
  hold_idle "$engine" warm
  stop "$PID"
done

say "one parked virtual thread, cold and warm"
"$JAVA" lab/VirtualThreadMemory.java "$PARKED_THREADS" > "$WORK/vthread.txt"

SEED_MODELS="select asyncselect eventselect overlapped-event overlapped-routine iocp"
engine_for() { case $1 in select|asyncselect|eventselect) echo selector ;; overlapped-event) echo future ;; *) echo completion ;; esac; }
# seed_run LABEL COMMAND...: SEED_CLIENTS clients connect, stay 1 s and echo once; prints "SERVED of SEED_CLIENTS"
seed_run() {
  local label=$1; shift
  start_server "$WORK/$label.log" "$@"
  "$JAVA" -jar "$JAR" load --port "$PORT" -c "$SEED_CLIENTS" -m 1 --hold 1s --json > "$WORK/$label.json" 2>/dev/null &
  local load=$!
  STARTED+=("$load")
  wait "$load" || true
  stop "$PID"
  echo "$(json_field "$WORK/$label.json" messages) of $SEED_CLIENTS"
}
SEEDS=()
if ! $MEMORY_ONLY && [[ -x seeds/seed-server.sh ]]; then
  declare -A SERVED LIMIT
  for model in $SEED_MODELS; do
    say "seed $model: $SEED_CLIENTS clients"
    SERVED[$model]=$(START_LIMIT=120 seed_run "seed-$model" seeds/seed-server.sh "$model" --port 0)
    LIMIT[$model]=$(grep -v 'listening on' "$WORK/seed-$model.log" | grep "^$model:" | head -1 | sed "s/^$model: //")
  done
  for engine in selector future completion; do # each replacing engine once, with the same clients
    say "engine $engine: $SEED_CLIENTS clients"
    SERVED[$engine]=$(seed_run "engine-$engine" "$JAVA" "${SERVER_OPTIONS[@]}" -jar "$JAR" serve --port 0 --engine "$engine")
  done
  for model in $SEED_MODELS; do
    engine=$(engine_for "$model")
    SEEDS+=("| \`$model\` | ${SERVED[$model]} | ${LIMIT[$model]:-?} | \`$engine\`: ${SERVED[$engine]} |")
  done
fi

if ! $MEMORY_ONLY; then
  say "what still holds a carrier (one carrier, JFR on)"
  "$JAVA" -Djdk.virtualThreadScheduler.parallelism=1 -cp "$JAR" lab/Pinning.java 2>/dev/null > "$WORK/pinning.txt"
fi

# ---- the report ----
row() { printf '| %s | %s | %s |\n' "$1" "$2" "$3"; }
{
  echo "# Lab results"
  echo
  echo "\`./run.sh lab$( (( CONNECTIONS != 5000 )) && echo " --connections $CONNECTIONS")$($MEMORY_ONLY && echo " --memory")$($PINNED && echo " --pinned")\` on $(date -u +%Y-%m-%d), $(nproc) CPUs, Java $("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.runtime\.version = //p') ($("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.vendor\.version = //p'))."
  if $PINNED; then
    echo "The server pinned to CPU 1 (\`taskset -c 1\`: the JVM sees one CPU, so SerialGC and one carrier), as \`./run.sh bench\` runs it; the load generator unpinned."
  else
    echo "Server and load generator unpinned, sharing the CPUs; the server as \`./run.sh serve\` runs it, less its \`-Xms16m\` (the JDK's own heap sizing: G1 on 2 or more CPUs, one carrier per CPU)."
  fi
  echo "Cold: a fresh server that has echoed one connection (the JIT has compiled nothing of the accept-and-serve path); warm: the same server after $($MEMORY_ONLY && echo "3 s of traffic" || echo "the load") and 3 s of connect-echo-close churn (as \`./run.sh bench\` warms its servers)."
  echo
  echo "| | \`platform\` | \`virtual\` |"
  echo "|---|---|---|"
  p=platform v=virtual
  row "platform threads with $(grouped "$CONNECTIONS") idle connections (before)" "${R[$p.cold.threads]} (${R[$p.cold.threads_before]})" "${R[$v.cold.threads]} (${R[$v.cold.threads_before]})"
  row "RSS before the clients / with them (VmRSS)" "$(grouped "${R[$p.cold.rss_before]}") / $(grouped "${R[$p.cold.rss]}") kB" "$(grouped "${R[$v.cold.rss_before]}") / $(grouped "${R[$v.cold.rss]}") kB"
  row "RSS per idle connection, cold" "$(grouped "${R[$p.cold.rss_per]}") B" "$(grouped "${R[$v.cold.rss_per]}") B"
  row "heap per idle connection, cold (class histogram, with − before)" "$(grouped "${R[$p.cold.heap]}") B" "$(grouped "${R[$v.cold.heap]}") B"
  row "heap per idle connection, warm (after traffic and churn)" "$(grouped "${R[$p.warm.heap]}") B" "$(grouped "${R[$v.warm.heap]}") B"
  row "KernelStack rise per idle connection (/proc/meminfo, whole machine)" "$(grouped "${R[$p.cold.kstack_per]}") B" "$(grouped "${R[$v.cold.kstack_per]}") B"
  row "$(grouped "$CONNECTIONS") connections opened in" "${R[$p.cold.connect]} s" "${R[$v.cold.connect]} s"
  if ! $MEMORY_ONLY; then
  row "$(grouped "$LOAD_CONNECTIONS") × 1 KiB, ${LOAD_SECONDS} s: msgs/s" "$(grouped "${R[$p.load.msgs]%.*}")" "$(grouped "${R[$v.load.msgs]%.*}")"
  row "… p50 / p99 µs" "${R[$p.load.p50]%.*} / ${R[$p.load.p99]%.*}" "${R[$v.load.p50]%.*} / ${R[$v.load.p99]%.*}"
  row "… platform threads / RSS during the load" "${R[$p.load.threads]} / $(grouped "${R[$p.load.rss]}") kB" "${R[$v.load.threads]} / $(grouped "${R[$v.load.rss]}") kB"
  fi
  row "every echo verified (idle cold, load, idle warm)" "${R[$p.cold.ok]}, ${R[$p.load.ok]:-not run}, ${R[$p.warm.ok]}" "${R[$v.cold.ok]}, ${R[$v.load.ok]:-not run}, ${R[$v.warm.ok]}"
  for tag in cold warm; do
    echo
    echo "Heap per idle connection by class, $tag (bytes per connection: the histograms' difference divided by the connections):"
    echo
    echo '```'
    for engine in "${ENGINES[@]}"; do
      echo "$engine:"
      awk '{ n = $1; $1 = ""; printf "  %6d B %s\n", n, $0 }' "$WORK/$engine-$tag.breakdown"
    done
    echo '```'
  done
  echo
  echo '```'
  cat "$WORK/vthread.txt"
  echo '```'
  echo
  if $MEMORY_ONLY; then
    echo "Seed servers and the pinning exercise: not run (--memory)."
  elif (( ${#SEEDS[@]} )); then
    echo "Each seed server (Wine's Winsock on Linux: the API and its limits, not Windows' kernel or timing), $SEED_CLIENTS clients that connect, stay 1 s and echo once, next to the engine that replaces it:"
    echo
    echo "| seed | clients served | its limit, as it prints it | engine: clients served |"
    echo "|---|---|---|---|"
    printf '%s\n' "${SEEDS[@]}"
  else
    echo "Seed servers: skipped — this checkout has no seeds/seed-server.sh (the seeds' Winsock servers under Wine, issue 19 item 1)."
  fi
  if ! $MEMORY_ONLY; then
    echo
    echo '```'
    cat "$WORK/pinning.txt"
    echo '```'
  fi
} > "$OUT/lab.md"
cat "$OUT/lab.md"
say "done; the table is also in $OUT/lab.md"
