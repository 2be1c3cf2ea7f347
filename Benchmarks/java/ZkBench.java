// The reference load generator: Apache ZooKeeper's Java client, async API, the same workloads
// and accounting as `zksh bench` (S sessions, each keeping P requests in flight; bounded by a
// request count and a duration; one JSON line out).
//
//   javac -cp /usr/share/java/zookeeper.jar -d OUT ZkBench.java
//   java -cp OUT:/usr/share/java/zookeeper.jar ZkBench --hosts 127.0.0.1:2181 \
//       --workload get --sessions 4 --depth 32 --ops 1000000 --duration 5 --warmup 1 --size 1024
//
// Sessions connect, and close at the end, concurrently (see closeAll for the client's 100 ms sleep
// on closing), so 1,000 sessions take seconds, not minutes. The create workload (a fill, with
// --keep true) names its nodes ROOT/n[TAG-]SESSION-SLOT-SEQ: give each fill into the same ROOT its
// own --tag.
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.ClientCnxn;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

public final class ZkBench {
    static String hosts = "127.0.0.1:2181";
    static String workload = "get";
    static int sessions = 4;
    static int depth = 32;
    static long ops = 1_000_000;
    static double duration = 10;
    static double warmup = 1;
    static int size = 1024;
    static String root = "/zkbench-java";
    static boolean keep = false;
    static String tag = "";
    static final int SAMPLE_CAPACITY = 1_000_000;

    static final class Budget {
        final AtomicLong remaining;
        final long deadline;
        Budget(long limit, long deadline) { this.remaining = new AtomicLong(limit); this.deadline = deadline; }
        boolean take(long now) {
            if (now >= deadline) return false;
            return remaining.getAndDecrement() > 0;
        }
    }

    /** One in-flight loop: issues its next request from the completion of the previous one. */
    static final class Slot implements AsyncCallback.DataCallback, AsyncCallback.StatCallback,
            AsyncCallback.StringCallback, AsyncCallback.VoidCallback {
        final ZooKeeper zk;
        final int session, slot;
        final String node;
        final byte[] data;
        final Budget budget;
        final boolean record;
        final CountDownLatch done;
        final long[] samples;
        int count;
        long seen, completed, errors, maximum, began, sequence;
        long random;
        String created;

        Slot(ZooKeeper zk, int session, int slot, byte[] data, Budget budget, boolean record, CountDownLatch done, int capacity) {
            this.zk = zk; this.session = session; this.slot = slot; this.node = root + "/s" + session;
            this.data = data; this.budget = budget; this.record = record; this.done = done;
            this.samples = new long[capacity];
            this.random = ((long) session * 100_003 + slot) * 0x9E3779B97F4A7C15L | 1;
        }

        void next() {
            began = System.nanoTime();
            if (!budget.take(began)) {
                if (created != null) { zk.delete(created, -1, (rc, p, c) -> done.countDown(), null); created = null; return; }
                done.countDown();
                return;
            }
            switch (workload) {
                case "get": zk.getData(node, false, (AsyncCallback.DataCallback) this, null); break;
                case "set": zk.setData(node, data, -1, (AsyncCallback.StatCallback) this, null); break;
                case "exists": zk.exists(node, false, (AsyncCallback.StatCallback) this, null); break;
                case "create-delete":
                    if (created != null) {
                        String path = created;
                        created = null;
                        zk.delete(path, -1, (AsyncCallback.VoidCallback) this, null);
                    } else {
                        String path = root + "/c" + session + "-" + slot + "-" + (sequence++);
                        zk.create(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                                (AsyncCallback.StringCallback) this, null);
                    }
                    break;
                case "create": // fills the server: nodes are kept (with --keep true)
                    zk.create(root + "/n" + tag + session + "-" + slot + "-" + (sequence++), data, ZooDefs.Ids.OPEN_ACL_UNSAFE,
                            CreateMode.PERSISTENT, (AsyncCallback.StringCallback) this, null);
                    break;
                case "watch-mix": {
                    long i = sequence++ % 10;
                    if (i == 0) zk.setData(node, data, -1, (AsyncCallback.StatCallback) this, null);
                    else zk.getData(node, i == 1 || i == 4 || i == 7, (AsyncCallback.DataCallback) this, null);
                    break;
                }
                default: throw new IllegalArgumentException(workload);
            }
        }

        void completed(int rc) {
            long latency = System.nanoTime() - began;
            boolean ok = rc == 0 || ("exists".equals(workload) && rc == KeeperException.Code.NONODE.intValue());
            if (!ok) {
                errors++;
            } else if (record) {
                completed++;
                if (latency > maximum) maximum = latency;
                seen++;
                if (count < samples.length) {
                    samples[count++] = latency;
                } else {
                    random ^= random << 13; random ^= random >>> 7; random ^= random << 17;
                    long index = Long.remainderUnsigned(random, seen);
                    if (index < samples.length) samples[(int) index] = latency;
                }
            }
            next();
        }

        @Override public void processResult(int rc, String path, Object ctx, byte[] d, Stat stat) { completed(rc); }
        @Override public void processResult(int rc, String path, Object ctx, Stat stat) { completed(rc); }
        @Override public void processResult(int rc, String path, Object ctx, String name) {
            if (rc == 0 && "create-delete".equals(workload)) created = name;
            completed(rc);
        }
        @Override public void processResult(int rc, String path, Object ctx) { completed(rc); }
    }

    static List<Slot> load(List<ZooKeeper> clients, long limit, double seconds, boolean record) throws InterruptedException {
        long start = System.nanoTime();
        Budget budget = new Budget(limit, start + (long) (seconds * 1e9));
        CountDownLatch done = new CountDownLatch(clients.size() * depth);
        int capacity = Math.max(1, SAMPLE_CAPACITY / (clients.size() * depth));
        byte[] data = new byte[size];
        Arrays.fill(data, (byte) 'b');
        List<Slot> slots = new ArrayList<>();
        for (int s = 0; s < clients.size(); s++) {
            for (int p = 0; p < depth; p++) slots.add(new Slot(clients.get(s), s, p, data, budget, record, done, record ? capacity : 1));
        }
        for (Slot slot : slots) slot.next();
        if (!done.await((long) (seconds * 1000) + 60_000, TimeUnit.MILLISECONDS)) throw new IllegalStateException("requests did not complete");
        return slots;
    }

    static long percentile(long[] sorted, double q) {
        if (sorted.length == 0) return 0;
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
    }

    static String ms(long nanoseconds) { return String.format("%.3f", nanoseconds / 1e6); }

    /**
     * Closes every session (each closeSession acknowledged by the server) after the measurement.
     * ZooKeeper 3.8.0's client ends a session's send thread with a 100 ms sleep
     * (ClientCnxnSocketNIO.cleanup) inside `synchronized (state)`, a lock on an enum constant that
     * every session of the process shares and that queuing a request (the closeSession too) takes:
     * closing 1,000 sessions took more than a minute, even from 1,000 threads. The sleep follows
     * the socket's close and only delays the thread's end, so it is interrupted (the other sleep a
     * send thread has, before a reconnection, is harmless to cut short while closing); without the
     * fields (another client version) the closes just take their time, 60 s at most.
     */
    static void closeAll(List<ZooKeeper> clients) throws InterruptedException {
        List<Thread> sendThreads = new ArrayList<>();
        try {
            Field cnxn = ZooKeeper.class.getDeclaredField("cnxn");
            Field sendThread = ClientCnxn.class.getDeclaredField("sendThread");
            cnxn.setAccessible(true);
            sendThread.setAccessible(true);
            for (ZooKeeper zk : clients) sendThreads.add((Thread) sendThread.get(cnxn.get(zk)));
        } catch (ReflectiveOperationException | RuntimeException e) {
            sendThreads.clear();
        }
        List<Thread> closers = new ArrayList<>();
        for (ZooKeeper zk : clients) {
            Thread closer = new Thread(() -> { try { zk.close(); } catch (InterruptedException e) { } });
            closer.setDaemon(true);
            closer.start();
            closers.add(closer);
        }
        long deadline = System.nanoTime() + 60_000_000_000L;
        for (Thread closer : closers) {
            while (closer.isAlive() && System.nanoTime() < deadline) {
                for (Thread t : sendThreads) if (t.getState() == Thread.State.TIMED_WAITING) t.interrupt();
                closer.join(1);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        for (int i = 0; i < args.length; i += 2) {
            String value = args[i + 1];
            switch (args[i]) {
                case "--hosts": hosts = value; break;
                case "--workload": workload = value; break;
                case "--sessions": sessions = Integer.parseInt(value); break;
                case "--depth": depth = Integer.parseInt(value); break;
                case "--ops": ops = Long.parseLong(value); break;
                case "--duration": duration = Double.parseDouble(value); break;
                case "--warmup": warmup = Double.parseDouble(value); break;
                case "--size": size = Integer.parseInt(value); break;
                case "--root": root = value; break;
                case "--keep": keep = Boolean.parseBoolean(value); break;
                case "--tag": tag = value.isEmpty() ? "" : value + "-"; break;
                default: throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        List<ZooKeeper> clients = new ArrayList<>();
        CountDownLatch connected = new CountDownLatch(sessions);
        for (int s = 0; s < sessions; s++) {
            boolean[] once = {false};
            clients.add(new ZooKeeper(hosts, 30_000, event -> {
                if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                    synchronized (once) { if (!once[0]) { once[0] = true; connected.countDown(); } }
                }
            }));
        }
        if (!connected.await(30 + sessions / 10, TimeUnit.SECONDS)) throw new IllegalStateException("could not connect to " + hosts);
        ZooKeeper first = clients.get(0);
        byte[] data = new byte[size];
        Arrays.fill(data, (byte) 'a');
        try { first.create(root, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT); } catch (KeeperException.NodeExistsException e) { }
        CountDownLatch prepared = new CountDownLatch(sessions);
        for (int s = 0; s < sessions; s++) {
            String node = root + "/s" + s;
            first.create(node, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, (rc, path, ctx, name) -> {
                if (rc == KeeperException.Code.NODEEXISTS.intValue()) first.setData(node, data, -1, (rc2, p2, c2, st) -> prepared.countDown(), null);
                else prepared.countDown();
            }, null);
        }
        if (!prepared.await(60, TimeUnit.SECONDS)) throw new IllegalStateException("could not create the session nodes");
        if (warmup > 0) load(clients, Long.MAX_VALUE, warmup, false);
        long start = System.nanoTime();
        List<Slot> slots = load(clients, ops, duration, true);
        double seconds = (System.nanoTime() - start) / 1e9;

        long completed = 0, errors = 0, maximum = 0;
        int total = 0;
        for (Slot slot : slots) { completed += slot.completed; errors += slot.errors; maximum = Math.max(maximum, slot.maximum); total += slot.count; }
        long[] latencies = new long[total];
        int at = 0;
        for (Slot slot : slots) { System.arraycopy(slot.samples, 0, latencies, at, slot.count); at += slot.count; }
        Arrays.sort(latencies);

        if (!keep) {
            List<String> children = first.getChildren(root, false);
            CountDownLatch deleted = new CountDownLatch(children.size());
            for (String child : children) first.delete(root + "/" + child, -1, (rc, p, c) -> deleted.countDown(), null);
            deleted.await(60, TimeUnit.SECONDS);
            try { first.delete(root, -1); } catch (KeeperException e) { }
        }
        closeAll(clients);

        System.out.println("{\"tool\":\"java\",\"workload\":\"" + workload + "\",\"sessions\":" + sessions + ",\"depth\":" + depth
                + ",\"size\":" + size + ",\"ops\":" + completed + ",\"errors\":" + errors
                + ",\"seconds\":" + String.format("%.3f", seconds)
                + ",\"throughput\":" + String.format("%.1f", completed / seconds)
                + ",\"latency_ms\":{\"p50\":" + ms(percentile(latencies, 0.50)) + ",\"p99\":" + ms(percentile(latencies, 0.99))
                + ",\"p99_9\":" + ms(percentile(latencies, 0.999)) + ",\"max\":" + ms(maximum) + "}}");
        System.exit(errors > 0 ? 1 : 0);
    }
}
