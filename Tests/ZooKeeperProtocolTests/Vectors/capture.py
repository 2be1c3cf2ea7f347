#!/usr/bin/python3
"""Record real ZooKeeper client/server exchanges as protocol test vectors.

Starts a real Apache ZooKeeper server (the Debian `zookeeper` package) in a temporary
directory on a free loopback port, puts a recording TCP proxy in front of it, and drives
real clients through the proxy: zkCli.sh (the Java client) and kazoo (python3-kazoo).
Every frame is re-framed by its 4-byte big-endian length prefix and written, per
scenario, to `<name>.frames`:

    # <which client and commands produced this file>
    # > <the command about to be sent>      (comment lines start with '#')
    C <hex payload>                         client -> server, without the length prefix
    S <hex payload>                         server -> client, without the length prefix
    # connection 2                          a new TCP connection within the same scenario

Frames are logged before they are forwarded, so the order of lines is causal: a reply
always comes after its request. Clients that only *trigger* events (a second client
changing a node that the recorded client watches) connect to the server directly, so
their frames are not recorded.

Run it with the system Python, which has kazoo:

    /usr/bin/python3 Tests/ZooKeeperProtocolTests/Vectors/capture.py [--output DIR] [--keep]

Session ids, passwords, zxids and timestamps differ from run to run.
"""

import argparse
import base64
import hashlib
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

try:
    from kazoo.client import KazooClient
    from kazoo.exceptions import KazooException
except ImportError:  # pragma: no cover - depends on the interpreter used
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from kazoo.client import KazooClient
        from kazoo.exceptions import KazooException
    except ImportError:
        sys.exit("kazoo is missing: apt-get install python3-kazoo, and run with /usr/bin/python3")

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"
ZKENV = "/usr/share/zookeeper/bin/zkEnv.sh"
JAR_DIR = "/usr/share/java"
SUPER_DIGEST = "super:" + base64.b64encode(hashlib.sha1(b"super:admin").digest()).decode()
FAST_JVM = "-Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData"


def log(message):
    print(f"[capture] {message}", file=sys.stderr, flush=True)


def digest(user, password):
    """The id that the digest scheme stores for user:password."""
    raw = hashlib.sha1(f"{user}:{password}".encode()).digest()
    return f"{user}:{base64.b64encode(raw).decode()}"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def four_letter_word(word, port, timeout=2.0):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(word.encode())
        chunks = []
        while True:
            data = s.recv(4096)
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks).decode(errors="replace")


# --------------------------------------------------------------------------------------
# The server


def zookeeper_classpath():
    """The Debian scripts' classpath (from zkEnv.sh) plus a log4j binding so the server logs."""
    entries = []
    if os.path.exists(ZKENV):
        out = subprocess.run(
            ["bash", "-c", '. "$1" >/dev/null 2>&1; printf %s "$CLASSPATH"', "zkEnv", ZKENV],
            capture_output=True, text=True, check=False).stdout
        entries = [e for e in out.split(":") if e.endswith(".jar")]
    if not entries and os.path.exists(f"{JAR_DIR}/zookeeper.jar"):
        entries = [f"{JAR_DIR}/zookeeper.jar"]
    if not entries:
        sys.exit("Apache ZooKeeper not found: apt-get install zookeeper")
    for jar in ("slf4j-log4j12.jar", "log4j-1.2.jar"):
        if os.path.exists(f"{JAR_DIR}/{jar}"):
            entries.append(f"{JAR_DIR}/{jar}")
    return entries


class ZooKeeperServer:
    """A standalone server configured like the Swift test harness (ZooKeeperTestSupport)."""

    def __init__(self, directory):
        self.directory = directory
        self.port = free_port()
        self.process = None
        self.log_path = os.path.join(directory, "server.log")

    def start(self):
        conf = os.path.join(self.directory, "conf")
        data = os.path.join(self.directory, "data")
        os.makedirs(conf)
        os.makedirs(data)
        with open(os.path.join(conf, "zoo.cfg"), "w") as f:
            f.write("\n".join([
                "tickTime=500", "initLimit=20", "syncLimit=10", f"dataDir={data}",
                f"clientPort={self.port}", "clientPortAddress=127.0.0.1",
                "minSessionTimeout=1000", "maxSessionTimeout=30000",
                "4lw.commands.whitelist=*", "admin.enableServer=false", "maxClientCnxns=0", ""]))
        with open(os.path.join(conf, "log4j.properties"), "w") as f:
            f.write("log4j.rootLogger=INFO, CONSOLE\n"
                    "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"
                    "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"
                    "log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n\n")
        command = ["java"] + FAST_JVM.split() + [
            "-Dzookeeper.extendedTypesEnabled=true",
            f"-Dzookeeper.DigestAuthenticationProvider.superDigest={SUPER_DIGEST}",
            "-Dzookeeper.admin.enableServer=false",
            f"-Dlog4j.configuration=file:{conf}/log4j.properties",
            "-cp", ":".join([conf] + zookeeper_classpath()),
            "org.apache.zookeeper.server.quorum.QuorumPeerMain", os.path.join(conf, "zoo.cfg")]
        self.log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self.log_file,
                                        stderr=subprocess.STDOUT, cwd=self.directory)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.fail("exited during startup")
            try:
                if four_letter_word("ruok", self.port) == "imok" and \
                        "Mode:" in four_letter_word("srvr", self.port):
                    log(f"ZooKeeper serving on 127.0.0.1:{self.port}")
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.fail("did not serve within 60 s")

    def fail(self, why):
        self.stop()
        with open(self.log_path, errors="replace") as f:
            tail = "".join(f.readlines()[-30:])
        sys.exit(f"ZooKeeper {why}; end of {self.log_path}:\n{tail}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --------------------------------------------------------------------------------------
# Recording


class Scenario:
    """The lines of one .frames file."""

    def __init__(self, name, description):
        self.name = name
        self.lines = [f"# {description}"]
        self.connections = 0
        self.server_frames = 0
        self.client_frames = 0


class Recorder:
    """Collects frames from the proxy into the current scenario; thread-safe."""

    def __init__(self):
        self.condition = threading.Condition()
        self.current = None
        self.last_frame_at = time.monotonic()
        self.finished = []

    def begin(self, name, description):
        with self.condition:
            assert self.current is None, "finish the previous scenario first"
            self.current = Scenario(name, description)

    def end(self):
        with self.condition:
            scenario, self.current = self.current, None
            self.finished.append(scenario)
            return scenario

    def comment(self, text):
        with self.condition:
            self.current.lines.append(f"# {text}")

    def connection_opened(self):
        with self.condition:
            scenario = self.current
            if scenario is None:
                return None
            scenario.connections += 1
            if scenario.connections > 1:
                scenario.lines.append(f"# connection {scenario.connections}")
            return scenario

    def frame(self, scenario, direction, payload):
        with self.condition:
            scenario.lines.append(f"{direction} {payload.hex()}")
            if direction == "S":
                scenario.server_frames += 1
            else:
                scenario.client_frames += 1
            self.last_frame_at = time.monotonic()
            self.condition.notify_all()

    def server_frame_count(self):
        with self.condition:
            return self.current.server_frames

    def wait_for_server_frames(self, count, quiet=0.3, timeout=30.0):
        """Waits until the scenario has `count` server frames and no frame came for `quiet` s."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                now = time.monotonic()
                enough = self.current.server_frames >= count
                if enough and now - self.last_frame_at >= quiet:
                    return
                if now >= deadline:
                    raise TimeoutError(
                        f"{self.current.name}: expected {count} server frames, "
                        f"have {self.current.server_frames}")
                wait = quiet - (now - self.last_frame_at) if enough else 0.1
                self.condition.wait(max(0.01, min(wait, deadline - now)))


class Reframer:
    """Splits a byte stream into frames by their 4-byte big-endian length prefix."""

    def __init__(self):
        self.buffer = b""

    def feed(self, data):
        self.buffer += data
        frames = []
        while len(self.buffer) >= 4:
            (length,) = struct.unpack(">i", self.buffer[:4])
            if length < 0 or len(self.buffer) < 4 + length:
                break
            frames.append(self.buffer[4:4 + length])
            self.buffer = self.buffer[4 + length:]
        return frames


class RecordingProxy:
    """A loopback TCP proxy that logs each frame, in each direction, before forwarding it."""

    def __init__(self, recorder, upstream_port):
        self.recorder = recorder
        self.upstream_port = upstream_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.sockets = []
        self.connection_count = 0
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            scenario = self.recorder.connection_opened()
            with self.lock:
                self.sockets += [client, upstream]
                self.connection_count += 1
            for source, target, direction in ((client, upstream, "C"), (upstream, client, "S")):
                threading.Thread(target=self.pump, args=(source, target, direction, scenario),
                                 daemon=True).start()

    def pump(self, source, target, direction, scenario):
        reframer = Reframer()
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                for payload in reframer.feed(data):
                    if scenario is not None:
                        self.recorder.frame(scenario, direction, payload)
                target.sendall(data)
        except OSError:
            pass
        for s in (source, target):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def drop_all(self):
        """Cuts every open connection, as a network failure would."""
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.sockets = []

    def close(self):
        self.listener.close()
        self.drop_all()


# --------------------------------------------------------------------------------------
# Clients


class ZkCli:
    """zkCli.sh fed commands one at a time on standard input (it reads stdin when not a tty)."""

    def __init__(self, recorder, port, log_path):
        self.recorder = recorder
        self.log_path = log_path
        env = dict(os.environ, CLIENT_JVMFLAGS=FAST_JVM)
        self.output = open(log_path, "ab")
        self.process = subprocess.Popen([ZKCLI, "-server", f"127.0.0.1:{port}"], stdin=subprocess.PIPE,
                                        stdout=self.output, stderr=subprocess.STDOUT, env=env)
        recorder.wait_for_server_frames(1)  # the ConnectResponse

    def run(self, command, replies=1):
        """Sends one command and waits for `replies` more server frames, then for quiet."""
        self.recorder.comment(f"> {command}")
        before = self.recorder.server_frame_count()
        self.process.stdin.write(command.encode() + b"\n")
        self.process.stdin.flush()
        self.recorder.wait_for_server_frames(before + replies)

    def quit(self):
        self.run("quit")
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.output.close()


def kazoo_client(port, **kwargs):
    client = KazooClient(hosts=f"127.0.0.1:{port}", timeout=10.0, **kwargs)
    client.start(timeout=15)
    return client


# --------------------------------------------------------------------------------------
# Scenarios


def zkcli_scenario(recorder, proxy, name, description, commands, work_dir):
    """One zkCli.sh session; `commands` is a list of (command, replies) or callables."""
    recorder.begin(name, f"zkCli.sh (Apache ZooKeeper 3.8.0, Java client): {description}")
    cli = ZkCli(recorder, proxy.port, os.path.join(work_dir, f"{name}.zkcli.log"))
    for step in commands:
        if callable(step):
            step(cli)
        else:
            command, replies = step
            cli.run(command, replies)
    cli.quit()
    recorder.end()


def external(helper, description, action, replies=1):
    """A step in which a client outside the recording (`helper`) changes something."""
    def step(cli):
        cli.recorder.comment(f"(another client: {description})")
        before = cli.recorder.server_frame_count()
        action(helper)
        if replies:
            cli.recorder.wait_for_server_frames(before + replies)
    return step


def run_all(server, recorder, proxy, work_dir):
    helper = kazoo_client(server.port)  # direct to the server: not recorded
    try:
        helper.ensure_path("/vec")
        scenarios(server, recorder, proxy, helper, work_dir)
    finally:
        helper.stop()
        helper.close()


def scenarios(server, recorder, proxy, helper, work_dir):
    user1 = digest("user1", "pass1")

    zkcli_scenario(recorder, proxy, "zkcli-create",
                   "create in every mode (persistent, -e, -s, -e -s, -c container, -t ttl, with an ACL), "
                   "and a create that fails with NodeExists", [
                       ("create /vec/create", 1),
                       ("create /vec/create/persistent hello", 1),
                       ("create -e /vec/create/ephemeral eph-data", 1),
                       ("create -s /vec/create/seq- s1", 1),
                       ("create -e -s /vec/create/eseq- s2", 1),
                       ("create -c /vec/create/container", 1),
                       ("create -t 60000 /vec/create/ttl ttl-data", 1),
                       ("create -s -t 60000 /vec/create/ttlseq- ttl-seq", 1),
                       (f"create /vec/create/acl secret digest:{user1}:cdrwa", 1),
                       ("create /vec/create/persistent again", 1),
                   ], work_dir)

    zkcli_scenario(recorder, proxy, "zkcli-read-write",
                   "get -s, set, set -v (good and bad version), stat, get of a missing node, "
                   "getAllChildrenNumber, getEphemerals, config", [
                       ("create /vec/rw initial", 1),
                       ("create /vec/rw/a a", 1),
                       ("create -e /vec/rw/b b", 1),
                       ("get -s /vec/rw", 1),
                       ("set /vec/rw updated", 1),
                       ("set -s -v 1 /vec/rw versioned", 1),
                       ("set -v 7 /vec/rw wrong-version", 1),
                       ("stat /vec/rw", 1),
                       ("get /vec/rw/missing", 1),
                       ("getAllChildrenNumber /vec/rw", 1),
                       ("getEphemerals /vec", 1),
                       ("config", 1),
                   ], work_dir)

    zkcli_scenario(recorder, proxy, "zkcli-ls",
                   "ls, ls -s, ls -R, ls -w with the child watch fired by another client, "
                   "ls of a missing node", [
                       ("create /vec/ls x", 1),
                       ("create /vec/ls/one 1", 1),
                       ("create /vec/ls/two 2", 1),
                       ("create /vec/ls/one/deep d", 1),
                       ("ls /vec/ls", 1),
                       ("ls -s /vec/ls", 1),
                       ("ls -R /vec/ls", 4),
                       ("ls -w /vec/ls", 1),
                       external(helper, "create /vec/ls/three", lambda h: h.create("/vec/ls/three", b"3")),
                       ("ls /vec/missing", 1),
                   ], work_dir)

    zkcli_scenario(recorder, proxy, "zkcli-acl-auth",
                   "getAcl, setAcl (ip, world, auth; with a good and a bad -v), NoAuth errors, "
                   "addauth digest, whoami, superuser addauth digest super:admin", [
                       (f"create /vec/acl secret digest:{user1}:cdrwa", 1),
                       ("create /vec/acl-open open", 1),
                       ("getAcl /vec/acl-open", 1),
                       ("get /vec/acl", 1),
                       ("whoami", 1),
                       ("addauth digest user1:pass1", 1),
                       ("get /vec/acl", 1),
                       ("getAcl -s /vec/acl", 1),
                       ("setAcl /vec/acl-open ip:127.0.0.1:cdrwa,world:anyone:r", 1),
                       ("setAcl -v 1 /vec/acl-open world:anyone:cdra", 1),
                       ("setAcl -v 9 /vec/acl-open world:anyone:cdrwa", 1),
                       ("set /vec/acl-open no-write-permission", 1),
                       ("setAcl /vec/acl auth::cdrwa", 1),
                       ("whoami", 1),
                       (f"create /vec/acl-other other digest:{digest('user2', 'pass2')}:r", 1),
                       ("set /vec/acl-other denied", 1),
                       ("addauth digest super:admin", 1),
                       ("set /vec/acl-other allowed-for-super", 1),
                       ("whoami", 1),
                   ], work_dir)

    zkcli_scenario(recorder, proxy, "zkcli-delete",
                   "delete, delete -v (good and bad version), delete of a missing node, "
                   "delete of a node with children (NotEmpty), deleteall (a multi of deletes)", [
                       ("create /vec/del", 1),
                       ("create /vec/del/a a", 1),
                       ("create /vec/del/b b", 1),
                       ("create /vec/del/b/c c", 1),
                       ("delete /vec/del/a", 1),
                       ("delete /vec/del/missing", 1),
                       ("set /vec/del/b/c c2", 1),
                       ("delete -v 0 /vec/del/b/c", 1),
                       ("delete -v 1 /vec/del/b/c", 1),
                       ("delete /vec/del", 1),
                       ("deleteall /vec/del", 3),
                   ], work_dir)

    zkcli_scenario(recorder, proxy, "zkcli-watches",
                   "get -w, stat -w (missing node), a watch fired by the session's own set, "
                   "watches fired by another client, addWatch PERSISTENT and PERSISTENT_RECURSIVE, "
                   "removewatches, sync", [
                       ("create /vec/w v0", 1),
                       ("get -w /vec/w", 1),
                       external(helper, "set /vec/w v1", lambda h: h.set("/vec/w", b"v1")),
                       ("get -w /vec/w", 1),
                       ("set /vec/w v2-own", 2),  # the notification and then the reply
                       ("stat -w /vec/w/later", 1),
                       external(helper, "create /vec/w/later", lambda h: h.create("/vec/w/later", b"")),
                       ("get -w /vec/w/later", 1),
                       external(helper, "delete /vec/w/later", lambda h: h.delete("/vec/w/later")),
                       ("addWatch -m PERSISTENT /vec/w", 1),
                       external(helper, "set /vec/w v3", lambda h: h.set("/vec/w", b"v3")),
                       external(helper, "set /vec/w v4", lambda h: h.set("/vec/w", b"v4")),
                       ("removewatches /vec/w", 1),
                       ("create /vec/w2 x", 1),
                       ("addWatch /vec/w2", 1),
                       external(helper, "create /vec/w2/child/grandchild (makepath)",
                                lambda h: h.create("/vec/w2/child/grandchild", b"", makepath=True), 2),
                       ("get -w /vec/w2", 1),
                       ("removewatches /vec/w2 -d", 1),
                       ("sync /vec/w", 1),
                   ], work_dir)

    zkcli_scenario(recorder, proxy, "zkcli-reconnect",
                   "watches and auth set, then the TCP connection is cut: the client reconnects with "
                   "its session id, password and lastZxidSeen, re-sends its auth, and restores its "
                   "watches with SetWatches/SetWatches2; then a restored watch fires", [
                       ("create /vec/rc data", 1),
                       ("addauth digest user1:pass1", 1),
                       ("get -w /vec/rc", 1),
                       ("ls -w /vec/rc", 1),
                       ("stat -w /vec/rc/missing", 1),
                       ("addWatch -m PERSISTENT_RECURSIVE /vec/rc", 1),
                       reconnect(proxy),
                       external(helper, "set /vec/rc changed", lambda h: h.set("/vec/rc", b"changed")),
                   ], work_dir)

    kazoo_scenarios(recorder, proxy, helper)


def reconnect(proxy):
    def step(cli):
        cli.recorder.comment("(the proxy cuts the TCP connection; the client reconnects)")
        before = cli.recorder.server_frame_count()
        proxy.drop_all()
        # ConnectResponse, the auth reply and the SetWatches reply.
        cli.recorder.wait_for_server_frames(before + 3, quiet=1.0)
    return step


def kazoo_step(recorder, description, action):
    recorder.comment(f"> {description}")
    try:
        result = action()
    except KazooException as error:
        result = f"{type(error).__name__}"
    recorder.comment(f"  = {result!r}"[:200])
    return result


def kazoo_scenarios(recorder, proxy, helper):
    import kazoo
    version = getattr(kazoo, "__version__", "2.x")

    # Multi: one transaction that commits and one that fails.
    recorder.begin("kazoo-multi", f"kazoo {version} (python3-kazoo): multi transactions "
                   "(create+set+check+delete), one committed and one that fails on a check")
    client = kazoo_client(proxy.port)
    kazoo_step(recorder, "create /vec/multi", lambda: client.create("/vec/multi", b"base"))

    def committed():
        t = client.transaction()
        t.create("/vec/multi/new", b"created-in-multi")
        t.set_data("/vec/multi", b"set-in-multi", version=0)
        t.check("/vec/multi", 1)
        t.delete("/vec/multi/new")
        return t.commit()
    kazoo_step(recorder, "transaction: create /vec/multi/new, set /vec/multi v0, check /vec/multi v1, "
               "delete /vec/multi/new (commits)", committed)

    def failing():
        t = client.transaction()
        t.create("/vec/multi/never", b"x")
        t.set_data("/vec/multi", b"y")
        t.check("/vec/multi", 42)
        t.delete("/vec/multi/missing")
        return t.commit()
    kazoo_step(recorder, "transaction: create /vec/multi/never, set /vec/multi, check /vec/multi v42, "
               "delete /vec/multi/missing (fails at the check)", failing)

    def ephemeral_sequential():
        t = client.transaction()
        t.create("/vec/multi/eseq-", b"", ephemeral=True, sequence=True)
        t.create("/vec/multi/node", b"n")
        return t.commit()
    kazoo_step(recorder, "transaction: create -e -s /vec/multi/eseq-, create /vec/multi/node", ephemeral_sequential)
    kazoo_step(recorder, "close", lambda: client.stop())
    client.close()
    recorder.end()

    # Reads, writes and errors that zkCli does not show as directly.
    recorder.begin("kazoo-operations", f"kazoo {version} (python3-kazoo): exists (present, missing, "
                   "with watch), create2 via create(include_data), getChildren2, get_acls/set_acls, "
                   "sync, and errors (NoNode, NodeExists, BadVersion, NotEmpty, NoChildrenForEphemerals)")
    client = kazoo_client(proxy.port)
    kazoo_step(recorder, "create /vec/k data", lambda: client.create("/vec/k", b"data"))
    kazoo_step(recorder, "create /vec/k/child (include_data=True: create2)",
               lambda: client.create("/vec/k/child", b"c", include_data=True))
    kazoo_step(recorder, "exists /vec/k", lambda: client.exists("/vec/k"))
    kazoo_step(recorder, "exists /vec/k/none (watch)", lambda: client.exists("/vec/k/none", watch=lambda e: None))
    kazoo_step(recorder, "get /vec/k (watch)", lambda: client.get("/vec/k", watch=lambda e: None))
    kazoo_step(recorder, "get_children /vec/k include_data (getChildren2)",
               lambda: client.get_children("/vec/k", include_data=True))
    kazoo_step(recorder, "get_acls /vec/k", lambda: client.get_acls("/vec/k"))
    kazoo_step(recorder, "set /vec/k version 0", lambda: client.set("/vec/k", b"v1", version=0))
    kazoo_step(recorder, "set /vec/k version 0 again (BadVersion)", lambda: client.set("/vec/k", b"v2", version=0))
    kazoo_step(recorder, "get /vec/missing (NoNode)", lambda: client.get("/vec/missing"))
    kazoo_step(recorder, "create /vec/k (NodeExists)", lambda: client.create("/vec/k", b""))
    kazoo_step(recorder, "delete /vec/k (NotEmpty)", lambda: client.delete("/vec/k"))
    kazoo_step(recorder, "create -e /vec/k/eph", lambda: client.create("/vec/k/eph", b"", ephemeral=True))
    kazoo_step(recorder, "create /vec/k/eph/child (NoChildrenForEphemerals)",
               lambda: client.create("/vec/k/eph/child", b""))
    kazoo_step(recorder, "create /vec/noparent/child (NoNode)", lambda: client.create("/vec/noparent/child", b""))
    kazoo_step(recorder, "sync /vec/k", lambda: client.sync("/vec/k"))
    kazoo_step(recorder, "delete /vec/k/child version 0", lambda: client.delete("/vec/k/child", version=0))
    kazoo_step(recorder, "close", lambda: client.stop())
    client.close()
    recorder.end()

    # A read-only-capable client: the ConnectRequest's trailing readOnly byte is 1.
    recorder.begin("kazoo-connect-readonly", f"kazoo {version} (python3-kazoo): connect with read_only=True "
                   "(readOnly byte 1) to a read/write server, one get, close")
    client = kazoo_client(proxy.port, read_only=True)
    kazoo_step(recorder, "get /vec", lambda: client.get("/vec"))
    kazoo_step(recorder, "close", lambda: client.stop())
    client.close()
    recorder.end()

    # Resuming a session that does not exist: the server answers timeOut 0 (expired) and closes.
    recorder.begin("kazoo-session-expired", f"kazoo {version} (python3-kazoo): connect resuming an unknown "
                   "session id (the server replies with timeOut 0, sessionId 0: expired, and closes); "
                   "kazoo then starts a new session")
    client = KazooClient(hosts=f"127.0.0.1:{proxy.port}", timeout=10.0,
                         client_id=(0x1234567890ABCDEF & 0x7FFFFFFFFFFFFFFF, b"\x01" * 16))
    recorder.comment("> connect with sessionId 0x1234567890abcdef and a made-up password")
    client.start(timeout=15)
    kazoo_step(recorder, "exists /vec (on the new session)", lambda: client.exists("/vec"))
    kazoo_step(recorder, "close", lambda: client.stop())
    client.close()
    recorder.end()

    # An auth packet with an unknown scheme: AUTHFAILED, and the server closes the session.
    recorder.begin("kazoo-auth-failed", f"kazoo {version} (python3-kazoo): add_auth with an unknown "
                   "scheme: the server replies AUTHFAILED (-115, xid -4) and closes the connection; kazoo "
                   "reconnects, re-sends the auth and fails the same way")
    client = kazoo_client(proxy.port)
    kazoo_step(recorder, "add_auth nosuchscheme credentials",
               lambda: client.add_auth("nosuchscheme", "credentials"))
    time.sleep(0.5)
    client.stop()
    client.close()
    recorder.end()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default=os.path.dirname(os.path.abspath(__file__)),
                        help="where to write the .frames files (default: next to this script)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    args = parser.parse_args()

    for needed in (ZKCLI, f"{JAR_DIR}/zookeeper.jar"):
        if not os.path.exists(needed):
            sys.exit(f"{needed} is missing: apt-get install zookeeper")
    if shutil.which("java") is None:
        sys.exit("java is missing: apt-get install default-jre-headless")

    work_dir = tempfile.mkdtemp(prefix="zksh-capture-")
    server = ZooKeeperServer(work_dir)
    server.start()
    recorder = Recorder()
    proxy = RecordingProxy(recorder, server.port)
    log(f"recording proxy on 127.0.0.1:{proxy.port}")
    try:
        run_all(server, recorder, proxy, work_dir)
    except Exception:
        log(f"failed; logs are in {work_dir}")
        args.keep = True
        raise
    finally:
        proxy.close()
        server.stop()
        if not args.keep:
            shutil.rmtree(work_dir, ignore_errors=True)

    os.makedirs(args.output, exist_ok=True)
    for scenario in recorder.finished:
        path = os.path.join(args.output, f"{scenario.name}.frames")
        with open(path, "w") as f:
            f.write("\n".join(scenario.lines) + "\n")
        log(f"wrote {path}: {scenario.client_frames} client and {scenario.server_frames} server frames, "
            f"{scenario.connections} connection(s), {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
