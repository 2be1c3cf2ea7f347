"""Runs kazoo's recipes against one ZooKeeper server and prints one line per recipe:
"<name> OK" or "<name> FAIL <reason>". Used by ServeRealClientTests (zksh serve).

Usage: python3 kazoo_recipes.py HOST:PORT
"""
import sys
import threading
import time
import traceback

from kazoo.client import KazooClient, KazooState
from kazoo.recipe.cache import TreeCache, TreeEvent

HOSTS = sys.argv[1]
ROOT = "/recipes"


def client(**kwargs):
    zk = KazooClient(hosts=HOSTS, timeout=10, **kwargs)
    zk.start(timeout=15)
    return zk


def wait_until(what, condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting until " + what)


def check(name, body):
    try:
        body()
        print(name + " OK", flush=True)
    except Exception as error:  # noqa: BLE001 - every failure becomes a FAIL line
        detail = "".join(traceback.format_exception(type(error), error, error.__traceback__)).strip()
        print(name + " FAIL " + detail.replace("\n", " "), flush=True)


a = client()
b = client()
a.ensure_path(ROOT)


def lock():
    first = a.Lock(ROOT + "/lock", "a")
    second = b.Lock(ROOT + "/lock", "b")
    assert first.acquire(timeout=5)
    got = []
    waiter = threading.Thread(target=lambda: got.append(second.acquire(timeout=10)))
    waiter.start()
    wait_until("both contend", lambda: len(first.contenders()) == 2)
    assert first.contenders() == ["a", "b"], first.contenders()
    time.sleep(0.3)
    assert got == [], "the second contender got the lock while the first held it"
    first.release()
    waiter.join(10)
    assert got == [True], got
    second.release()
    assert first.contenders() == []


def election():
    leaders = []
    release = {"a": threading.Event(), "b": threading.Event()}

    def lead(name):
        leaders.append(name)
        release[name].wait(10)

    first = a.Election(ROOT + "/election", "a")
    second = b.Election(ROOT + "/election", "b")
    t1 = threading.Thread(target=first.run, args=(lead, "a"))
    t1.start()
    wait_until("a leads", lambda: leaders == ["a"])
    t2 = threading.Thread(target=second.run, args=(lead, "b"))
    t2.start()
    wait_until("b contends", lambda: len(first.contenders()) == 2)
    assert first.contenders() == ["a", "b"], first.contenders()
    time.sleep(0.2)
    assert leaders == ["a"], leaders
    release["a"].set()
    wait_until("b leads", lambda: leaders == ["a", "b"])
    release["b"].set()
    t1.join(10)
    t2.join(10)


def party():
    first = a.Party(ROOT + "/party", "a")
    second = b.Party(ROOT + "/party", "b")
    first.join()
    second.join()
    assert sorted(first) == ["a", "b"], sorted(first)
    assert len(second) == 2
    second.leave()
    assert list(first) == ["a"], list(first)
    first.leave()
    assert len(first) == 0


def counter():
    first = a.Counter(ROOT + "/counter")
    second = b.Counter(ROOT + "/counter")
    first += 5
    second -= 2
    assert first.value == 3 and second.value == 3, (first.value, second.value)

    def bump(c):
        for _ in range(25):
            c += 1

    threads = [threading.Thread(target=bump, args=(c,)) for c in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert first.value == 53, first.value


def queues():
    q = a.Queue(ROOT + "/queue")
    for item in (b"1", b"2", b"3"):
        q.put(item)
    other = b.Queue(ROOT + "/queue")
    assert len(other) == 3
    assert [other.get(), other.get()] == [b"1", b"2"]
    high = a.LockingQueue(ROOT + "/lqueue")
    high.put(b"low", priority=50)
    high.put(b"urgent", priority=10)
    high.put_all([b"x", b"y"], priority=90)
    consumer = b.LockingQueue(ROOT + "/lqueue")
    seen = []
    for _ in range(4):
        item = consumer.get(timeout=5)
        assert item is not None, "LockingQueue.get timed out"
        seen.append(item)
        assert consumer.consume()
    assert seen == [b"urgent", b"low", b"x", b"y"], seen
    assert consumer.get(timeout=0.3) is None


def barriers():
    barrier = a.Barrier(ROOT + "/barrier")
    barrier.create()
    passed = []
    waiter = threading.Thread(target=lambda: passed.append(b.Barrier(ROOT + "/barrier").wait(10)))
    waiter.start()
    time.sleep(0.3)
    assert passed == []
    barrier.remove()
    waiter.join(10)
    assert passed == [True], passed

    order = []

    def participant(zk, name):
        double = zk.DoubleBarrier(ROOT + "/double", 2, identifier=name)
        double.enter()
        order.append("enter " + name)
        double.leave()
        order.append("leave " + name)

    t1 = threading.Thread(target=participant, args=(a, "a"))
    t1.start()
    time.sleep(0.3)
    assert order == [], "entered a double barrier alone"
    t2 = threading.Thread(target=participant, args=(b, "b"))
    t2.start()
    t1.join(15)
    t2.join(15)
    assert sorted(order[:2]) == ["enter a", "enter b"] and sorted(order[2:]) == ["leave a", "leave b"], order


def tree_cache():
    path = ROOT + "/tree"
    a.ensure_path(path)
    events = []
    cache = TreeCache(a, path)
    cache.listen(lambda event: events.append((event.event_type, event.event_data.path if event.event_data else None)))
    cache.start()
    wait_until("initialized", lambda: any(t == TreeEvent.INITIALIZED for t, _ in events))
    b.create(path + "/x", b"1")
    wait_until("added", lambda: (TreeEvent.NODE_ADDED, path + "/x") in events)
    assert cache.get_data(path + "/x").data == b"1"
    b.set(path + "/x", b"2")
    wait_until("updated", lambda: (TreeEvent.NODE_UPDATED, path + "/x") in events)
    wait_until("new data cached", lambda: cache.get_data(path + "/x").data == b"2")
    b.delete(path + "/x")
    wait_until("removed", lambda: (TreeEvent.NODE_REMOVED, path + "/x") in events)
    assert cache.get_data(path + "/x") is None
    cache.close()


def ephemeral_and_expiry():
    owner = client()
    states = []
    owner.add_listener(lambda state: states.append(state))
    owner.create(ROOT + "/eph", b"mine", ephemeral=True)
    identity = owner.client_id
    assert b.exists(ROOT + "/eph").ephemeralOwner == identity[0]
    # Expire the session as kazoo's own tests do: another connection with the same session id
    # and password takes it over and closes it.
    thief = KazooClient(hosts=HOSTS, timeout=10, client_id=identity)
    thief.start(timeout=15)
    assert thief.client_id[0] == identity[0]
    thief.stop()
    thief.close()
    wait_until("the ephemeral node is gone", lambda: b.exists(ROOT + "/eph") is None)
    wait_until("the owner sees its session lost", lambda: KazooState.LOST in states)
    owner.stop()
    owner.close()


check("lock", lock)
check("election", election)
check("party", party)
check("counter", counter)
check("queue", queues)
check("barrier", barriers)
check("treecache", tree_cache)
check("ephemeral-expiry", ephemeral_and_expiry)
a.delete(ROOT, recursive=True)
print("cleanup OK" if b.exists(ROOT) is None else "cleanup FAIL the tree is still there", flush=True)
a.stop()
b.stop()
