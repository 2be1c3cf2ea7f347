#!/usr/bin/python3
"""The kazoo reference driver: the same workloads and accounting as `zksh bench`.

S sessions (KazooClient instances), each keeping P async requests in flight; each request is
issued from the completion callback of the previous one; bounded by a request count and a
duration; one JSON line out.

    /usr/bin/python3 kazoo_bench.py --hosts 127.0.0.1:2181 --workload get \
        --sessions 4 --depth 32 --ops 1000000 --duration 5 --warmup 1 --size 1024
"""
import argparse
import json
import math
import random
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError, NoNodeError

SAMPLE_CAPACITY = 1_000_000


class Budget:
    def __init__(self, limit, deadline):
        self.remaining = limit
        self.deadline = deadline
        self.lock = threading.Lock()

    def take(self, now):
        if now >= self.deadline:
            return False
        with self.lock:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True


class Slot:
    def __init__(self, args, zk, session, slot, data, budget, record, done, capacity):
        self.args, self.zk, self.session, self.slot = args, zk, session, slot
        self.node = "%s/s%d" % (args.root, session)
        self.data, self.budget, self.record, self.done = data, budget, record, done
        self.capacity = capacity
        self.samples = []
        self.seen = self.completed = self.errors = self.maximum = 0
        self.sequence = 0
        self.created = None
        self.began = 0
        self.rng = random.Random(session * 100003 + slot)

    def next(self):
        self.began = time.perf_counter_ns()
        if not self.budget.take(self.began):
            if self.created is not None:
                self.zk.delete_async(self.created).rawlink(lambda _: self.done())
                self.created = None
            else:
                self.done()
            return
        workload = self.args.workload
        if workload == "get":
            result = self.zk.get_async(self.node)
        elif workload == "set":
            result = self.zk.set_async(self.node, self.data)
        elif workload == "exists":
            result = self.zk.exists_async(self.node)
        elif workload == "create-delete":
            if self.created is not None:
                path, self.created = self.created, None
                result = self.zk.delete_async(path)
            else:
                path = "%s/c%d-%d-%d" % (self.args.root, self.session, self.slot, self.sequence)
                self.sequence += 1
                result = self.zk.create_async(path, self.data)
        elif workload == "watch-mix":
            i = self.sequence % 10
            self.sequence += 1
            if i == 0:
                result = self.zk.set_async(self.node, self.data)
            elif i in (1, 4, 7):
                result = self.zk.get_async(self.node, watch=lambda event: None)
            else:
                result = self.zk.get_async(self.node)
        else:
            raise ValueError(workload)
        result.rawlink(self.finished)

    def finished(self, result):
        latency = time.perf_counter_ns() - self.began
        try:
            value = result.get_nowait()
            if self.args.workload == "create-delete" and isinstance(value, str):
                self.created = value
            ok = True
        except Exception:
            ok = False
        if not ok:
            self.errors += 1
        elif self.record:
            self.completed += 1
            self.maximum = max(self.maximum, latency)
            self.seen += 1
            if len(self.samples) < self.capacity:
                self.samples.append(latency)
            else:
                index = self.rng.randrange(self.seen)
                if index < self.capacity:
                    self.samples[index] = latency
        self.next()


def load(args, clients, limit, seconds, record):
    start = time.perf_counter_ns()
    budget = Budget(limit, start + int(seconds * 1e9))
    total = len(clients) * args.depth
    finished = threading.Event()
    lock = threading.Lock()
    remaining = [total]

    def done():
        with lock:
            remaining[0] -= 1
            if remaining[0] == 0:
                finished.set()

    capacity = max(1, SAMPLE_CAPACITY // total)
    data = b"b" * args.size
    slots = [Slot(args, zk, s, p, data, budget, record, done, capacity)
             for s, zk in enumerate(clients) for p in range(args.depth)]
    for slot in slots:
        slot.next()
    if not finished.wait(seconds + 60):
        raise RuntimeError("requests did not complete")
    return slots, (time.perf_counter_ns() - start) / 1e9


def percentile(values, q):
    if not values:
        return 0
    rank = math.ceil(q * len(values))
    return values[min(max(rank, 1), len(values)) - 1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", default="127.0.0.1:2181")
    parser.add_argument("--workload", default="get", choices=["get", "set", "create-delete", "exists", "watch-mix"])
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--depth", type=int, default=32)
    parser.add_argument("--ops", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--root", default="/zkbench-kazoo")
    args = parser.parse_args()

    clients = []
    for _ in range(args.sessions):
        zk = KazooClient(hosts=args.hosts, timeout=30)
        zk.start(timeout=30)
        clients.append(zk)
    first = clients[0]
    first.ensure_path(args.root)
    for s in range(args.sessions):
        try:
            first.create("%s/s%d" % (args.root, s), b"a" * args.size)
        except NodeExistsError:
            first.set("%s/s%d" % (args.root, s), b"a" * args.size)
    if args.warmup > 0:
        load(args, clients, 1 << 62, args.warmup, False)
    slots, seconds = load(args, clients, args.ops, args.duration, True)

    latencies = sorted(x for slot in slots for x in slot.samples)
    completed = sum(slot.completed for slot in slots)
    errors = sum(slot.errors for slot in slots)
    maximum = max((slot.maximum for slot in slots), default=0)
    for child in first.get_children(args.root):
        try:
            first.delete("%s/%s" % (args.root, child))
        except NoNodeError:
            pass
    try:
        first.delete(args.root)
    except NoNodeError:
        pass
    for zk in clients:
        zk.stop()
        zk.close()

    def ms(ns):
        return round(ns / 1e6, 3)

    print(json.dumps({
        "tool": "kazoo", "workload": args.workload, "sessions": args.sessions, "depth": args.depth,
        "size": args.size, "ops": completed, "errors": errors, "seconds": round(seconds, 3),
        "throughput": round(completed / seconds, 1) if seconds > 0 else 0,
        "latency_ms": {"p50": ms(percentile(latencies, 0.50)), "p99": ms(percentile(latencies, 0.99)),
                       "p99_9": ms(percentile(latencies, 0.999)), "max": ms(maximum)},
    }, separators=(",", ":")))
    raise SystemExit(1 if errors else 0)


if __name__ == "__main__":
    main()
