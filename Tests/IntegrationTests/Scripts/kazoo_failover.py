"""Writes through an ensemble with kazoo while the test kills a member, and checks what a kazoo
application relies on: the session survives (SUSPENDED then CONNECTED, never LOST), its
ephemeral node stays, a DataWatch sees the last value, and every acknowledged write reads back.

Usage: python3 kazoo_failover.py HOSTS SECONDS READY_FILE
Creates READY_FILE once the first writes are in (the test then kills a member), and prints at
the end "failover OK <writes> <states>" or "failover FAIL <reason>".
"""
import sys
import time
import traceback

from kazoo.client import KazooClient
from kazoo.retry import KazooRetry

HOSTS = sys.argv[1]
SECONDS = float(sys.argv[2])
READY_FILE = sys.argv[3]
ROOT = "/kazoo-failover"

states = []


def main():
    retry = KazooRetry(max_tries=-1, delay=0.05, max_delay=0.5, deadline=30)
    zk = KazooClient(hosts=HOSTS, timeout=10, connection_retry=dict(max_tries=-1, delay=0.05, max_delay=0.5))
    zk.add_listener(lambda state: states.append(str(state)))
    zk.start(timeout=15)
    zk.ensure_path(ROOT)
    zk.create(ROOT + "/member", b"alive", ephemeral=True)
    session = zk.client_id[0]
    seen = []
    zk.DataWatch(ROOT, lambda data, stat: seen.append(data))
    acknowledged = []
    deadline = time.monotonic() + SECONDS
    index = 0
    while time.monotonic() < deadline and index < 5000:
        value = ("v%05d" % index).encode()
        retry(zk.set, ROOT, value)
        acknowledged.append(value)
        retry(zk.create, ROOT + "/n", value, sequence=True)
        if index == 20:
            with open(READY_FILE, "w") as ready:
                ready.write("ready\n")
        index += 1
    assert zk.client_id[0] == session, "the session changed"
    assert "LOST" not in states, "the session was lost: %s" % states
    assert retry(zk.exists, ROOT + "/member") is not None, "the ephemeral node is gone"
    data, _ = retry(zk.get, ROOT)
    assert data == acknowledged[-1], "read %r after writing %r" % (data, acknowledged[-1])
    children = retry(zk.get_children, ROOT)
    assert len([c for c in children if c.startswith("n")]) >= len(acknowledged), "sequential nodes missing"
    wait = time.monotonic() + 10
    while time.monotonic() < wait and (not seen or seen[-1] != acknowledged[-1]):
        time.sleep(0.05)
    assert seen and seen[-1] == acknowledged[-1], "the DataWatch saw %r last" % (seen[-1:],)
    retry(zk.delete, ROOT, recursive=True)
    zk.stop()
    print("failover OK %d %s" % (len(acknowledged), ",".join(states)), flush=True)


try:
    main()
except Exception as error:  # noqa: BLE001 - every failure becomes one FAIL line
    detail = "".join(traceback.format_exception(type(error), error, error.__traceback__)).strip()
    print("failover FAIL " + detail.replace("\n", " ") + " states=" + ",".join(states), flush=True)
    sys.exit(1)
