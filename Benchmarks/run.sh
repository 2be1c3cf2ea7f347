#!/usr/bin/env bash
# Side-by-side benchmarks, one command: builds zksh (release), starts Apache ZooKeeper
# (standalone, fsync on) and `zksh serve` (same zoo.cfg) on free loopback ports in a temporary
# directory, runs every measurement, and writes Benchmarks/RESULTS.md.
#
#   Benchmarks/run.sh                 # the whole table (about 6-8 minutes)
#   ZKSH=path/to/zksh Benchmarks/run.sh   # skip the build, use this binary
#   DURATION=5 WARMUP=1 SESSIONS=4 DEPTH=32 Benchmarks/run.sh
#
# Only loopback addresses are used; every load is bounded by a request count and a duration.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
DURATION="${DURATION:-5}"
WARMUP="${WARMUP:-1}"
SESSIONS="${SESSIONS:-4}"
DEPTH="${DEPTH:-32}"
OPS="${OPS:-2000000}"
FILL="${FILL:-1000000}"
command_line="Benchmarks/run.sh${*:+ $*}"

work="$(mktemp -d /tmp/zksh-bench.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_for_port() {  # port seconds
    local deadline=$((SECONDS + $2))
    until [ "$(echo ruok | timeout 2 /usr/bin/python3 -c '
import socket,sys
try:
    s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),1); s.sendall(b"ruok"); print(s.recv(4).decode())
except Exception: print("")' "$1")" = imok ]; do
        [ $SECONDS -lt $deadline ] || { echo "server on port $1 did not start" >&2; return 1; }
        sleep 0.2
    done
}

# --- Build -------------------------------------------------------------------------------------
if [ -z "${ZKSH:-}" ]; then
    log "building zksh (release)"
    (cd "$repo" && swift build -c release --static-swift-stdlib --product zksh --scratch-path .build-bench >"$work/build.log" 2>&1) \
        || { tail -30 "$work/build.log" >&2; exit 1; }
    ZKSH="$repo/.build-bench/release/zksh"
fi
log "compiling the Java driver"
ZK_CLASSPATH="/usr/share/java/zookeeper.jar"
mkdir -p "$work/classes"
javac -nowarn -cp "$ZK_CLASSPATH" -d "$work/classes" "$here/java/ZkBench.java"
JAVA_DRIVER=(java -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=error -cp "$work/classes:$ZK_CLASSPATH" ZkBench)

# --- Servers -----------------------------------------------------------------------------------
write_config() {  # dir port
    mkdir -p "$1/data"
    cat >"$1/zoo.cfg" <<EOF
tickTime=2000
dataDir=$1/data
clientPort=$2
clientPortAddress=127.0.0.1
maxClientCnxns=0
4lw.commands.whitelist=*
admin.enableServer=false
EOF
}
apache_port="$(free_port)"
write_config "$work/apache" "$apache_port"
log "starting Apache ZooKeeper on 127.0.0.1:$apache_port"
java -Xmx1000m -Dzookeeper.forceSync=yes -cp "/etc/zookeeper/conf:$ZK_CLASSPATH" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$work/apache/zoo.cfg" >"$work/apache/server.log" 2>&1 &
apache_pid=$!
pids+=("$apache_pid")
zksh_port="$(free_port)"
write_config "$work/zksh" "$zksh_port"
log "starting zksh serve on 127.0.0.1:$zksh_port"
"$ZKSH" serve "$work/zksh/zoo.cfg" >"$work/zksh/server.log" 2>&1 &
zksh_pid=$!
pids+=("$zksh_pid")
wait_for_port "$apache_port" 60
wait_for_port "$zksh_port" 60
apache="127.0.0.1:$apache_port"
zkserve="127.0.0.1:$zksh_port"

results="$work/results.jsonl"
: >"$results"
record() {  # section label server json...
    local section="$1" label="$2" server="$3" json="$4"
    [ -n "$json" ] || json='{"error":"no result"}'
    /usr/bin/python3 -c 'import json,sys; r=json.loads(sys.argv[4]); r.update(section=sys.argv[1],label=sys.argv[2],server=sys.argv[3]); print(json.dumps(r))' \
        "$section" "$label" "$server" "$json" >>"$results"
}
last_json() { grep '^{' | tail -1 || true; }
common=(--sessions "$SESSIONS" --depth "$DEPTH" --ops "$OPS" --duration "$DURATION" --warmup "$WARMUP" --size 1024)

# --- (a) Client libraries against the same Apache server ----------------------------------------
for workload in get set create-delete exists; do
    log "client: $workload"
    out="$( { timeout 120 "$ZKSH" -s "$apache" bench --workload "$workload" "${common[@]}" --json 2>"$work/err" || true; } | last_json)"
    record client "$workload" apache "$out"
    out="$( { timeout 120 "${JAVA_DRIVER[@]}" --hosts "$apache" --workload "$workload" "${common[@]}" 2>>"$work/err" || true; } | last_json)"
    record client "$workload" apache "$out"
    out="$( { timeout 120 /usr/bin/python3 "$here/python/kazoo_bench.py" --hosts "$apache" --workload "$workload" "${common[@]}" 2>>"$work/err" || true; } | last_json)"
    record client "$workload" apache "$out"
done

# --- (b) Servers under the Java load generator --------------------------------------------------
for workload in get set; do
    for target in apache zkserve; do
        log "server: $workload against $target"
        out="$( { timeout 120 "${JAVA_DRIVER[@]}" --hosts "${!target}" --workload "$workload" "${common[@]}" 2>>"$work/err" || true; } | last_json)"
        record server "$workload" "$target" "$out"
    done
done

# --- (c) The tool: one command, and a 1,000-command script --------------------------------------
log "tool: ls / wall time"
script="$work/script.txt"
for i in $(seq 1 500); do echo "create /zkbench-script-$i x"; done >"$script"
for i in $(seq 1 500); do echo "delete /zkbench-script-$i"; done >>"$script"
zkcli=/usr/share/zookeeper/bin/zkCli.sh
if command -v hyperfine >/dev/null; then
    timer="hyperfine"
    hyperfine --runs 10 --warmup 1 --export-json "$work/ls.json" \
        -n zksh "$ZKSH -s $apache -c 'ls /'" \
        -n zkCli "$zkcli -server $apache ls /" >"$work/hyperfine-ls.txt" 2>&1
    hyperfine --runs 3 --export-json "$work/script.json" \
        -n zksh "$ZKSH -s $apache < $script" \
        -n zkCli "$zkcli -server $apache < $script" >"$work/hyperfine-script.txt" 2>&1
    /usr/bin/python3 - "$work/ls.json" "$work/script.json" >>"$results" <<'EOF'
import json, sys
for path, label in ((sys.argv[1], "ls /"), (sys.argv[2], "1,000-command script on stdin")):
    for r in json.load(open(path))["results"]:
        print(json.dumps({"section": "tool", "label": label, "tool": r["command"], "mean_s": r["mean"],
                          "stddev_s": r["stddev"], "runs": len(r["times"])}))
EOF
else
    timer="bash loop with date +%s%N"
    measure() {  # label tool runs command...
        local label="$1" tool="$2" runs="$3"; shift 3
        local total=0 i start
        for i in $(seq 1 "$runs"); do
            start=$(date +%s%N); bash -c "$*" >/dev/null 2>&1 || true; total=$((total + $(date +%s%N) - start))
        done
        echo "{\"section\":\"tool\",\"label\":\"$label\",\"tool\":\"$tool\",\"mean_s\":$(echo "scale=6; $total/$runs/1000000000" | bc),\"stddev_s\":null,\"runs\":$runs}" >>"$results"
    }
    measure "ls /" zksh 10 "$ZKSH -s $apache -c 'ls /'"
    measure "ls /" zkCli 10 "$zkcli -server $apache ls /"
    measure "1,000-command script on stdin" zksh 3 "$ZKSH -s $apache < $script"
    measure "1,000-command script on stdin" zkCli 3 "$zkcli -server $apache < $script"
fi

# --- (d) Resident memory with 100,000 znodes of 100 bytes ---------------------------------------
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
for target in apache zkserve; do
    log "memory: filling $target with $FILL znodes"
    pid_var="${target%serve}_pid"; [ "$target" = zkserve ] && pid_var=zksh_pid
    pid="${!pid_var}"
    before="$(rss_kib "$pid")"
    timeout 180 "${JAVA_DRIVER[@]}" --hosts "${!target}" --workload create --sessions "$SESSIONS" --depth "$DEPTH" \
        --ops "$FILL" --duration 150 --warmup 0 --size 100 --keep true --root /zkbench-fill >/dev/null 2>>"$work/err" || true
    sleep 2
    after="$(rss_kib "$pid")"
    gc=null
    if [ "$target" = apache ] && command -v jcmd >/dev/null; then
        jcmd "$pid" GC.run >/dev/null 2>&1 || true
        sleep 2
        gc="$(rss_kib "$pid")"
    fi
    count="$("$ZKSH" -s "${!target}" -c 'getAllChildrenNumber /zkbench-fill' 2>/dev/null | tr -dc 0-9 || true)"
    echo "{\"section\":\"memory\",\"server\":\"$target\",\"rss_idle_kib\":$before,\"rss_kib\":$after,\"rss_after_gc_kib\":$gc,\"znodes\":${count:-0},\"fill\":$FILL}" >>"$results"
done

# --- (d2) Restart time with that tree (snapshot and log replay) ---------------------------------
serving_with() {  # port nodes: polls srvr every 10 ms until the node count reaches nodes (120 s at most)
    /usr/bin/python3 - "$1" "$2" <<'EOF'
import re, socket, sys, time
port, nodes = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        s = socket.create_connection(("127.0.0.1", port), 0.5); s.sendall(b"srvr"); data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk: break
            data += chunk
        m = re.search(rb"Node count: (\d+)", data)
        if m and int(m.group(1)) >= nodes: sys.exit(0)
    except OSError:
        pass
    time.sleep(0.01)
sys.exit(1)
EOF
}
for target in apache zkserve; do
    pid_var=apache_pid; port="$apache_port"; [ "$target" = zkserve ] && { pid_var=zksh_pid; port="$zksh_port"; }
    nodes="$(/usr/bin/python3 -c '
import re,socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),2); s.sendall(b"srvr"); d=b""
while True:
    c=s.recv(4096)
    if not c: break
    d+=c
print(re.search(rb"Node count: (\d+)", d).group(1).decode())' "$port" 2>/dev/null || true)"
    log "restart: $target with ${nodes:-?} znodes"
    kill -TERM "${!pid_var}" 2>/dev/null || true
    wait "${!pid_var}" 2>/dev/null || true
    start=$(date +%s%N)
    if [ "$target" = apache ]; then
        java -Xmx1000m -Dzookeeper.forceSync=yes -cp "/etc/zookeeper/conf:$ZK_CLASSPATH" \
            org.apache.zookeeper.server.quorum.QuorumPeerMain "$work/apache/zoo.cfg" >>"$work/apache/server.log" 2>&1 &
    else
        "$ZKSH" serve "$work/zksh/zoo.cfg" >>"$work/zksh/server.log" 2>&1 &
    fi
    printf -v "$pid_var" '%s' "$!"
    pids+=("$!")
    if serving_with "$port" "${nodes:-1}"; then
        ms=$(( ($(date +%s%N) - start) / 1000000 ))
        echo "{\"section\":\"restart\",\"server\":\"$target\",\"znodes\":${nodes:-0},\"restart_ms\":$ms}" >>"$results"
    else
        echo "{\"section\":\"restart\",\"server\":\"$target\",\"error\":\"did not serve its tree within 120 s\"}" >>"$results"
    fi
done

# --- (e) Three-member ensembles: write throughput, and leader failover ----------------------------
# Each kind from the same zoo.cfg files (tickTime 2000, initLimit 10, syncLimit 5, fsync on).
ROUNDS="${ROUNDS:-3}"
declare -A member_pid member_port
start_member() {  # kind id
    local dir="$work/ens-$1/m$2"
    if [ "$1" = apache ]; then
        java -Xmx512m -Dzookeeper.forceSync=yes -cp "/etc/zookeeper/conf:$ZK_CLASSPATH" \
            org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" >>"$dir/server.log" 2>&1 &
    else
        "$ZKSH" serve "$dir/zoo.cfg" >>"$dir/server.log" 2>&1 &
    fi
    member_pid[$1-$2]=$!
    pids+=("$!")
}
leader_of() {  # kind -> id of the member whose srvr says leader
    local id
    for id in 1 2 3; do
        if /usr/bin/python3 -c '
import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),2); s.sendall(b"srvr"); d=b""
while True:
    c=s.recv(4096)
    if not c: break
    d+=c
sys.exit(0 if b"Mode: leader" in d else 1)' "${member_port[$1-$id]}" 2>/dev/null; then echo "$id"; return; fi
    done
}
wait_for_leader() {  # kind seconds
    local deadline=$((SECONDS + $2)) leader=""
    while [ -z "$leader" ]; do
        [ $SECONDS -lt $deadline ] || { echo "no leader in the $1 ensemble" >&2; return 1; }
        sleep 0.2; leader="$(leader_of "$1")"
    done
}
# zksh-fast: the same files plus electionFinalizeWait=50 (ZooKeeper's wait is a fixed 200 ms).
for kind in apache zksh zksh-fast; do
    ports=(); for i in 1 2 3 4 5 6 7 8 9; do ports+=("$(free_port)"); done
    for id in 1 2 3; do
        dir="$work/ens-$kind/m$id"; mkdir -p "$dir/data"; echo "$id" >"$dir/data/myid"
        member_port[$kind-$id]="${ports[$((3 * (id - 1)))]}"
        {
            echo "tickTime=2000"; echo "initLimit=10"; echo "syncLimit=5"; echo "dataDir=$dir/data"
            echo "clientPort=${member_port[$kind-$id]}"; echo "clientPortAddress=127.0.0.1"; echo "maxClientCnxns=0"
            echo "4lw.commands.whitelist=*"; echo "admin.enableServer=false"
            [ "$kind" = zksh-fast ] && echo "electionFinalizeWait=50"
            for other in 1 2 3; do
                echo "server.$other=127.0.0.1:${ports[$((3 * (other - 1) + 1))]}:${ports[$((3 * (other - 1) + 2))]}"
            done
        } >"$dir/zoo.cfg"
    done
    log "ensemble: starting 3 $kind members"
    for id in 1 2 3; do start_member "$kind" "$id"; done
    wait_for_leader "$kind" 90
    hosts="127.0.0.1:${member_port[$kind-1]},127.0.0.1:${member_port[$kind-2]},127.0.0.1:${member_port[$kind-3]}"
    if [ "$kind" != zksh-fast ]; then
        log "ensemble: write throughput of the $kind ensemble"
        out="$( { timeout 120 "${JAVA_DRIVER[@]}" --hosts "$hosts" --workload set "${common[@]}" 2>>"$work/err" || true; } | last_json)"
        record ensemble "set" "$kind" "$out"
    fi
    for round in $(seq 1 "$ROUNDS"); do
        wait_for_leader "$kind" 90
        leader="$(leader_of "$kind")"
        survivor=$(( leader % 3 + 1 ))
        log "ensemble: failover round $round of $kind (leader $leader, writing through $survivor)"
        out="$( { timeout 60 /usr/bin/python3 "$here/python/failover.py" --hosts "127.0.0.1:${member_port[$kind-$survivor]}" \
            --leader-pid "${member_pid[$kind-$leader]}" 2>>"$work/err" || true; } | last_json)"
        record failover "leader SIGKILL to first acknowledged write" "$kind" "$out"
        wait "${member_pid[$kind-$leader]}" 2>/dev/null || true
        start_member "$kind" "$leader"
        sleep 1
    done
    for id in 1 2 3; do kill "${member_pid[$kind-$id]}" 2>/dev/null || true; done
done

# --- Report ------------------------------------------------------------------------------------
log "writing Benchmarks/RESULTS.md"
cp "$results" "$here/results.jsonl"
/usr/bin/python3 "$here/report.py" "$results" "$here/RESULTS.md" \
    --command "$command_line" --timer "$timer" --zksh-version "$("$ZKSH" -c version 2>/dev/null | head -1 || echo '?')" \
    --settings "sessions=$SESSIONS depth=$DEPTH duration=${DURATION}s warmup=${WARMUP}s ops<=$OPS fill=$FILL"
if [ -s "$work/err" ]; then
    log "driver stderr (last lines):"; grep -v '^SLF4J' "$work/err" | tail -5 >&2 || true
fi
log "done: Benchmarks/RESULTS.md"
