#!/usr/bin/env bash
# Side-by-side benchmarks, one command: builds zksh (release), starts Apache ZooKeeper
# (standalone, fsync on) and `zksh serve` (same zoo.cfg) on free loopback ports in a temporary
# directory, runs every measurement, and writes Benchmarks/RESULTS.md.
#
#   Benchmarks/run.sh                 # the whole table (about 12-15 minutes)
#   ZKSH=path/to/zksh Benchmarks/run.sh   # skip the build, use this binary
#   DURATION=5 WARMUP=1 SESSIONS=4 DEPTH=32 Benchmarks/run.sh
#   SECTIONS="tool" ZKSH=path/to/zksh Benchmarks/run.sh   # only some sections
#   SECTIONS="scaling" SCALE_DURATION=1 FILL=20000 ZKSH=path/to/zksh Benchmarks/run.sh
#
# SECTIONS (default all, in this order: "client server scaling tool memory restart ensemble") picks
# what runs; RESULTS.md then shows only those (restart measures whatever tree memory left, so it
# wants memory before it). Other settings: OPS (requests per run at most), FILL (znodes for the
# memory curve, in steps of 1,000, 10,000, 100,000 and 1,000,000 capped by FILL), SCALE_DURATION
# and SCALE_WARMUP (seconds per scaling point, default 2 and 0.5), SCALE_OPS, SCRIPT_COMMANDS (the
# stdin script, default 10,000), PROMPT_RUNS (default 5), ROUNDS (failover rounds, default 3).
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
SECTIONS="${SECTIONS:-client server scaling tool memory restart ensemble}"
SCALE_DURATION="${SCALE_DURATION:-2}"
SCALE_WARMUP="${SCALE_WARMUP:-0.5}"
SCALE_OPS="${SCALE_OPS:-1000000}"
SCRIPT_COMMANDS="${SCRIPT_COMMANDS:-10000}"
PROMPT_RUNS="${PROMPT_RUNS:-5}"
want() { [[ " $SECTIONS " == *" $1 "* ]]; }
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
# The two standalone servers (again on the same data directory when one is restarted). The JVM
# leaves a mark if its heap runs out (nothing else is logged: the Debian jar has no log binding).
start_apache() {
    java -Xmx1000m -Dzookeeper.forceSync=yes -XX:OnOutOfMemoryError="touch $work/apache/out-of-memory" \
        -cp "/etc/zookeeper/conf:$ZK_CLASSPATH" \
        org.apache.zookeeper.server.quorum.QuorumPeerMain "$work/apache/zoo.cfg" >>"$work/apache/server.log" 2>&1 &
    apache_pid=$!
    pids+=("$apache_pid")
}
start_zkserve() {
    "$ZKSH" serve "$work/zksh/zoo.cfg" >>"$work/zksh/server.log" 2>&1 &
    zksh_pid=$!
    pids+=("$zksh_pid")
}
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
server_exited=""
restart_broken_servers() {  # sets server_exited to what happened (empty when both still serve)
    local target pid_var port name what status
    server_exited=""
    for target in apache zkserve; do
        pid_var=apache_pid; port="$apache_port"; name="Apache ZooKeeper"
        [ "$target" = zkserve ] && { pid_var=zksh_pid; port="$zksh_port"; name="zksh serve"; }
        what=""
        if [ -e "$work/apache/out-of-memory" ] && [ "$target" = apache ]; then
            what="$name ran out of Java heap (-Xmx1000m)"
            rm -f "$work/apache/out-of-memory"
        elif ! alive "${!pid_var}"; then
            what="$name exited"
        elif ! wait_for_port "$port" 10 2>/dev/null; then
            what="$name stopped answering ruok"
        fi
        [ -n "$what" ] || continue
        kill -KILL "${!pid_var}" 2>/dev/null || true
        status=0; wait "${!pid_var}" 2>/dev/null || status=$?
        server_exited="${server_exited:+$server_exited; }$what (exit status $status)"
        log "$what; restarting it"
        if [ "$target" = apache ]; then start_apache; else start_zkserve; fi
        wait_for_port "$port" 120 || log "$name did not come back; the runs that need it will have no result"
    done
}
apache_port="$(free_port)"
zksh_port="$(free_port)"
apache="127.0.0.1:$apache_port"
zkserve="127.0.0.1:$zksh_port"
if want client || want server || want scaling || want tool || want memory || want restart; then
    write_config "$work/apache" "$apache_port"
    log "starting Apache ZooKeeper on $apache"
    start_apache
    write_config "$work/zksh" "$zksh_port"
    log "starting zksh serve on $zkserve"
    start_zkserve
    wait_for_port "$apache_port" 60
    wait_for_port "$zksh_port" 60
fi

results="$work/results.jsonl"
: >"$results"
record() {  # section label server json [extra json, merged over it]
    local section="$1" label="$2" server="$3" json="$4" extra="${5:-"{}"}"
    [ -n "$json" ] || json='{"error":"no result"}'
    /usr/bin/python3 -c 'import json,sys; r=json.loads(sys.argv[4]); r.update(json.loads(sys.argv[5])); r.update(section=sys.argv[1],label=sys.argv[2],server=sys.argv[3]); print(json.dumps(r))' \
        "$section" "$label" "$server" "$json" "$extra" >>"$results"
}
last_json() { grep '^{' | tail -1 || true; }
common=(--sessions "$SESSIONS" --depth "$DEPTH" --ops "$OPS" --duration "$DURATION" --warmup "$WARMUP" --size 1024)

# --- (a) Client libraries against the same Apache server ----------------------------------------
want client && for workload in get set create-delete exists watch-mix; do
    log "client: $workload"
    out="$( { timeout 120 "$ZKSH" -s "$apache" bench --workload "$workload" "${common[@]}" --json 2>"$work/err" || true; } | last_json)"
    record client "$workload" apache "$out"
    out="$( { timeout 120 "${JAVA_DRIVER[@]}" --hosts "$apache" --workload "$workload" "${common[@]}" 2>>"$work/err" || true; } | last_json)"
    record client "$workload" apache "$out"
    out="$( { timeout 120 /usr/bin/python3 "$here/python/kazoo_bench.py" --hosts "$apache" --workload "$workload" "${common[@]}" 2>>"$work/err" || true; } | last_json)"
    record client "$workload" apache "$out"
done

# --- (b) Servers under the Java load generator --------------------------------------------------
want server && for workload in get set; do
    for target in apache zkserve; do
        log "server: $workload against $target"
        out="$( { timeout 120 "${JAVA_DRIVER[@]}" --hosts "${!target}" --workload "$workload" "${common[@]}" 2>>"$work/err" || true; } | last_json)"
        record server "$workload" "$target" "$out"
    done
done

# --- Scaling: sessions, in-flight depth and data size, three ways ---------------------------------
# Each point: zksh bench -> ZooKeeper and Java -> ZooKeeper (the client libraries), and
# Java -> zksh serve (beside Java -> ZooKeeper: the servers). A server that exits during a point
# (ZooKeeper's heap can run out with 1 MB writes) is noted in that point's record and restarted.
scale_points_run=0
scale_point() {  # dimension value workload sessions depth size
    local dimension="$1" value="$2" workload="$3" args extra tool target out order
    args=(--workload "$workload" --sessions "$4" --depth "$5" --size "$6"
          --ops "$SCALE_OPS" --duration "$SCALE_DURATION" --warmup "$SCALE_WARMUP")
    # The clients take turns going first, so neither always meets a server the other warmed up.
    order=(zksh java)
    [ $((scale_points_run % 2)) -eq 1 ] && order=(java zksh)
    scale_points_run=$((scale_points_run + 1))
    for tool in "${order[@]}"; do
        for target in apache zkserve; do
            [ "$tool" = zksh ] && [ "$target" = zkserve ] && continue
            log "scaling: $dimension=$value $workload, $tool against $target"
            if [ "$tool" = zksh ]; then
                out="$( { timeout 120 "$ZKSH" -s "${!target}" bench "${args[@]}" --json 2>>"$work/err" || true; } | last_json)"
            else
                out="$( { timeout 120 "${JAVA_DRIVER[@]}" --hosts "${!target}" "${args[@]}" 2>>"$work/err" || true; } | last_json)"
            fi
            restart_broken_servers
            extra="$(/usr/bin/python3 -c 'import json,sys; r=dict(dimension=sys.argv[1],value=int(sys.argv[2]),workload=sys.argv[3],tool=sys.argv[4])
if sys.argv[5]: r["server_exited"]=sys.argv[5]
print(json.dumps(r))' "$dimension" "$value" "$workload" "$tool" "$server_exited")"
            record scaling "$dimension=$value $workload" "$target" "$out" "$extra"
        done
    done
}
if want scaling; then
    for n in 1 10 100 1000; do scale_point sessions "$n" get "$n" 4 1024; done
    for n in 1 10 100 1000; do scale_point depth "$n" get 1 "$n" 1024; done
    for workload in get set; do
        for n in 10 1024 102400 1000000; do scale_point size "$n" "$workload" 4 8 "$n"; done
    done
fi

# --- (c) The tool: one command, a long script on stdin, and the first prompt -----------------------
zkcli=/usr/share/zookeeper/bin/zkCli.sh
timer="hyperfine"
if want tool; then
    log "tool: ls / wall time"
    script="$work/script.txt"
    creates=$((SCRIPT_COMMANDS / 2))
    for i in $(seq 1 "$creates"); do echo "create /zkbench-script-$i x"; done >"$script"
    for i in $(seq 1 "$creates"); do echo "delete /zkbench-script-$i"; done >>"$script"
    script_label="$(/usr/bin/python3 -c 'import sys; print(f"{int(sys.argv[1]):,}-command script on stdin")' $((2 * creates)))"
    if command -v hyperfine >/dev/null; then
        hyperfine --runs 10 --warmup 1 --export-json "$work/ls.json" \
            -n zksh "$ZKSH -s $apache -c 'ls /'" \
            -n zkCli "$zkcli -server $apache ls /" >"$work/hyperfine-ls.txt" 2>&1
        log "tool: $script_label"
        hyperfine --runs 3 --export-json "$work/script.json" \
            -n zksh "$ZKSH -s $apache < $script" \
            -n "zksh --keep-going" "$ZKSH -s $apache --keep-going < $script" \
            -n zkCli "$zkcli -server $apache < $script" >"$work/hyperfine-script.txt" 2>&1
        /usr/bin/python3 - "$work/ls.json" "$work/script.json" "$script_label" $((2 * creates)) >>"$results" <<'PY'
import json, sys
for path, label in ((sys.argv[1], "ls /"), (sys.argv[2], sys.argv[3])):
    for r in json.load(open(path))["results"]:
        row = {"section": "tool", "label": label, "tool": r["command"], "mean_s": r["mean"],
               "stddev_s": r["stddev"], "runs": len(r["times"])}
        if label != "ls /":
            row["commands"] = int(sys.argv[4])
        print(json.dumps(row))
PY
    else
        timer="bash loop with date +%s%N"
        measure() {  # label tool runs command...
            local label="$1" tool="$2" runs="$3"; shift 3
            local total=0 i start
            for i in $(seq 1 "$runs"); do
                start=$(date +%s%N); bash -c "$*" >/dev/null 2>&1 || true; total=$((total + $(date +%s%N) - start))
            done
            echo "{\"section\":\"tool\",\"label\":\"$label\",\"tool\":\"$tool\",\"mean_s\":$(echo "scale=6; $total/$runs/1000000000" | bc),\"stddev_s\":null,\"runs\":$runs,\"commands\":$((2 * creates))}" >>"$results"
        }
        measure "ls /" zksh 10 "$ZKSH -s $apache -c 'ls /'"
        measure "ls /" zkCli 10 "$zkcli -server $apache ls /"
        log "tool: $script_label"
        measure "$script_label" zksh 3 "$ZKSH -s $apache < $script"
        measure "$script_label" "zksh --keep-going" 3 "$ZKSH -s $apache --keep-going < $script"
        measure "$script_label" zkCli 3 "$zkcli -server $apache < $script"
    fi
    # The server's floor for the script: the same number of synced writes (creates and deletes of
    # a 1-byte node) from one session with 1,000 in flight, sent by the Java driver, start-up not
    # counted. No client, however fast, runs the script against this server in less time.
    log "tool: the server's floor for the $script_label"
    out="$( { timeout 120 "${JAVA_DRIVER[@]}" --hosts "$apache" --workload create-delete --sessions 1 --depth 1000 \
        --ops $((2 * creates)) --duration 60 --warmup 0 --size 1 2>>"$work/err" || true; } | last_json)"
    record tool "script floor" apache "$out"
    # The interactive shell in a pseudo-terminal, from start to its prompt. zkCli.sh prints its
    # prompt only when JLine is on its class path (the Debian package's is not), so its ready
    # mark is also the SyncConnected event it prints once its session is up; zksh's prompt shows
    # CONNECTED, so it too comes once the session is up.
    log "tool: time to the first prompt ($PROMPT_RUNS runs each)"
    out="$( { timeout 300 /usr/bin/python3 "$here/python/first_prompt.py" --runs "$PROMPT_RUNS" --tool zksh \
        -- "$ZKSH" -s "$apache" 2>>"$work/err" || true; } | last_json)"
    record tool "time to first prompt" apache "$out"
    out="$( { timeout 300 /usr/bin/python3 "$here/python/first_prompt.py" --runs "$PROMPT_RUNS" --tool zkCli \
        --ready 'WatchedEvent state:SyncConnected' -- "$zkcli" -server "$apache" 2>>"$work/err" || true; } | last_json)"
    record tool "time to first prompt" apache "$out"
fi

# --- (d) Resident memory as the tree grows to FILL znodes of 100 bytes ---------------------------
# Both servers are restarted first with empty data directories, so what the earlier sections left
# in memory or on disk (the scaling section's 1 MB values, 1,000 sessions' buffers) is not counted. Then
# cumulative steps of 1,000, 10,000, 100,000 and 1,000,000 znodes (capped by FILL; the last is
# FILL), each a bounded fill by the Java driver whose node names carry the step (--tag).
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# RSS once it has settled: sampled every second until it has stayed within 1% for 5 s in a row
# (a snapshot being written after the fill shows as a passing rise that can last seconds on a
# loaded machine), 40 s at most.
settled_rss_kib() {
    local previous current i steady=0
    sleep 1; previous="$(rss_kib "$1")" || return 1
    for i in $(seq 1 40); do
        sleep 1; current="$(rss_kib "$1")" || return 1
        if [ $(( (current > previous ? current - previous : previous - current) * 100 )) -le "$previous" ]; then
            steady=$((steady + 1)); [ "$steady" -ge 5 ] && break
        else
            steady=0
        fi
        previous="$current"
    done
    echo "$current"
}
fill_steps=()
for n in 1000 10000 100000 1000000; do [ "$n" -lt "$FILL" ] && fill_steps+=("$n"); done
fill_steps+=("$FILL")
if want memory; then
    log "memory: restarting both servers with empty data directories"
    kill -TERM "$apache_pid" "$zksh_pid" 2>/dev/null || true
    wait "$apache_pid" 2>/dev/null || true
    wait "$zksh_pid" 2>/dev/null || true
    # Empty, so that neither replays the earlier sections' logs (the scaling section's 1 MB
    # writes among them): the figures are those of the fill alone.
    rm -rf "$work/apache/data" "$work/zksh/data"
    mkdir -p "$work/apache/data" "$work/zksh/data"
    start_apache
    start_zkserve
    wait_for_port "$apache_port" 120
    wait_for_port "$zksh_port" 120
    sleep 2
    for target in apache zkserve; do
        pid_var=apache_pid; [ "$target" = zkserve ] && pid_var=zksh_pid
        before="$(rss_kib "${!pid_var}")"
        filled=0
        fill_rate=null
        for step in "${fill_steps[@]}"; do
            log "memory: filling $target to $step znodes"
            out="$( { timeout 180 "${JAVA_DRIVER[@]}" --hosts "${!target}" --workload create --sessions "$SESSIONS" --depth "$DEPTH" \
                --ops $((step - filled)) --duration 150 --warmup 0 --size 100 --keep true --root /zkbench-fill --tag "k$step" \
                2>>"$work/err" || true; } | last_json)"
            filled="$step"
            rss="$(settled_rss_kib "${!pid_var}" || true)"
            count="$("$ZKSH" -s "${!target}" -c 'getAllChildrenNumber /zkbench-fill' 2>/dev/null | tr -dc 0-9 || true)"
            record memory-step "$step" "$target" "$out" "{\"step\":$step,\"znodes\":${count:-0},\"rss_kib\":${rss:-null}}"
            fill_rate="$(echo "$out" | /usr/bin/python3 -c 'import json,sys
try: print(json.load(sys.stdin)["throughput"])
except Exception: print("null")')"
        done
        gc=null
        if [ "$target" = apache ] && command -v jcmd >/dev/null; then
            jcmd "${!pid_var}" GC.run >/dev/null 2>&1 || true
            sleep 2
            gc="$(rss_kib "${!pid_var}")"
        fi
        peak="$(awk '/^VmHWM:/ {print $2}' "/proc/${!pid_var}/status" 2>/dev/null || true)"
        echo "{\"section\":\"memory\",\"server\":\"$target\",\"rss_idle_kib\":$before,\"rss_kib\":${rss:-null},\"rss_peak_kib\":${peak:-null},\"rss_after_gc_kib\":$gc,\"znodes\":${count:-0},\"fill\":$FILL,\"last_step_create_throughput\":$fill_rate}" >>"$results"
    done
fi

# --- (d2) Restart time with that tree (snapshot and log replay) ---------------------------------
serving_with() {  # port nodes: polls srvr every 10 ms until the node count reaches nodes (120 s at most)
    /usr/bin/python3 - "$1" "$2" <<'PY'
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
PY
}
want restart && for target in apache zkserve; do
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
    if [ "$target" = apache ]; then start_apache; else start_zkserve; fi
    if serving_with "$port" "${nodes:-1}"; then
        ms=$(( ($(date +%s%N) - start) / 1000000 ))
        echo "{\"section\":\"restart\",\"server\":\"$target\",\"znodes\":${nodes:-0},\"restart_ms\":$ms}" >>"$results"
    else
        echo "{\"section\":\"restart\",\"server\":\"$target\",\"error\":\"did not serve its tree within 120 s\"}" >>"$results"
    fi
done

# --- (e) Three-member ensembles: write and read throughput, and leader failover ------------------
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
want ensemble && for kind in apache zksh zksh-fast; do
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
        for workload in set get; do
            log "ensemble: $workload throughput of the $kind ensemble"
            out="$( { timeout 120 "${JAVA_DRIVER[@]}" --hosts "$hosts" --workload "$workload" "${common[@]}" 2>>"$work/err" || true; } | last_json)"
            record ensemble "$workload" "$kind" "$out"
        done
    fi
    for round in $(seq 1 "$ROUNDS"); do
        wait_for_leader "$kind" 90
        leader="$(leader_of "$kind")"
        survivor=$(( leader % 3 + 1 ))
        log "ensemble: failover round $round of $kind (leader $leader, writing through $survivor)"
        out="$( { timeout 60 /usr/bin/python3 "$here/python/failover.py" --hosts "127.0.0.1:${member_port[$kind-$survivor]}" \
            --leader-pid "${member_pid[$kind-$leader]}" 2>>"$work/err" || true; } | last_json)"
        record failover "leader SIGKILL to first acknowledged write" "$kind" "$out"
        # failover.py kills the leader only once its client is connected: if it gave up before,
        # the leader still runs, so kill it here (the round has no figure) rather than wait forever.
        kill -KILL "${member_pid[$kind-$leader]}" 2>/dev/null || true
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
    --settings "sessions=$SESSIONS depth=$DEPTH duration=${DURATION}s warmup=${WARMUP}s ops<=$OPS fill=$FILL; scaling points ${SCALE_DURATION}s after ${SCALE_WARMUP}s warm-up, ops<=$SCALE_OPS" \
    --sections "$SECTIONS"
if [ -s "$work/err" ]; then
    log "driver stderr (last lines):"; grep -v '^SLF4J' "$work/err" | tail -5 >&2 || true
fi
log "done: Benchmarks/RESULTS.md"
