"""One failover measurement: SIGKILL an ensemble's leader while writing through a surviving
member, and report the time from the kill to the first write acknowledged afterwards.

Usage: python3 failover.py --hosts H:P --leader-pid PID [--timeout 30]
Prints one JSON line: {"failover_ms": ..., "failed_writes": ...}. Loopback only; the write loop
is bounded by --timeout seconds.
"""
import argparse
import json
import os
import signal
import time

from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionLoss, SessionExpiredError, OperationTimeoutError
from kazoo.handlers.threading import KazooTimeoutError

parser = argparse.ArgumentParser()
parser.add_argument("--hosts", required=True)
parser.add_argument("--leader-pid", type=int, required=True)
parser.add_argument("--timeout", type=float, default=30.0)
args = parser.parse_args()

zk = KazooClient(hosts=args.hosts, timeout=10,
                 connection_retry=dict(max_tries=-1, delay=0.005, backoff=1, max_delay=0.01))
zk.start(timeout=15)
path = "/zkbench-failover"
zk.ensure_path(path)
for _ in range(20):
    zk.set(path, b"warm")

failed = 0
start = time.monotonic()
os.kill(args.leader_pid, signal.SIGKILL)
deadline = start + args.timeout
result = None
while time.monotonic() < deadline:
    try:
        zk.set(path, b"after")
        result = (time.monotonic() - start) * 1000
        break
    except (ConnectionLoss, SessionExpiredError, OperationTimeoutError, KazooTimeoutError):
        failed += 1
        time.sleep(0.002)
print(json.dumps({"failover_ms": result, "failed_writes": failed}), flush=True)
try:
    zk.stop()
except Exception:
    pass
