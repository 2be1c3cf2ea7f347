import ArgumentParser
import Foundation
import Histogram
import NIOPosix
import ZooKeeperClient

/// `bench`: a load generator with S sessions each keeping P requests in flight.
///
/// The same workloads, counted the same way, are implemented by the reference drivers under
/// `Benchmarks/` (ZooKeeper's Java client, kazoo), so the figures can be put side by side.
struct BenchCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput and latency against any server.",
        discussion: """
            Opens SESSIONS new sessions to the shell's servers; each keeps DEPTH requests in \
            flight until OPS requests completed in all or DURATION seconds passed, whichever \
            comes first. A WARMUP of that many seconds runs first and is not counted. Prints the \
            throughput (completed requests per second) and the latency percentiles p50, p99, \
            p99.9 and the maximum of every request, recorded in an HdrHistogram (1 µs to 1 h, \
            3 significant digits).

            Workloads, on nodes under ROOT (created, and removed at the end):
              get            getData of a SIZE-byte node (one per session)
              set            setData of SIZE bytes on the session's node
              create-delete  create a SIZE-byte node, then delete it; each is one request
              exists         exists of the session's node
              watch-mix      per 10 requests: 6 getData, 3 getData with a watch, 1 setData
                             (which fires those watches)

            Examples:
              bench --workload get --sessions 4 --depth 32 --duration 5
              zksh -s 127.0.0.1:2181 bench --workload set --ops 100000 --json
            """)

    enum Workload: String, ExpressibleByArgument, CaseIterable, Sendable {
        case get, set
        case createDelete = "create-delete"
        case exists
        case watchMix = "watch-mix"
    }

    @Option(name: .long, help: "Client sessions (connections).")
    var sessions = 4

    @Option(name: .long, help: "Requests each session keeps in flight.")
    var depth = 32

    @Option(name: .long, help: "Stop after this many requests in all.")
    var ops = 1_000_000

    @Option(name: .long, help: "Stop after this many seconds.")
    var duration: Double = 10

    @Option(name: .long, help: "Seconds of unmeasured load first.")
    var warmup: Double = 1

    @Option(name: .long, help: "Data size in bytes.")
    var size = 1024

    @Option(name: .long, help: "The workload.")
    var workload: Workload = .get

    @Option(name: .long, help: "The parent node of the benchmark's nodes.")
    var root = "/zksh-bench"

    @OptionGroup var output: OutputOptions

    /// Latencies in microseconds, 1 µs to an hour, to 3 significant digits.
    static func makeHistogram() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }

    func validate() throws {
        guard (1...1024).contains(sessions) else { throw ValidationError("--sessions must be 1 to 1024") }
        guard (1...10_000).contains(depth) else { throw ValidationError("--depth must be 1 to 10000") }
        guard ops >= 1 else { throw ValidationError("--ops must be at least 1") }
        guard duration > 0, duration <= 86_400 else { throw ValidationError("--duration must be above 0 and at most 86400") }
        guard warmup >= 0, warmup <= 3_600 else { throw ValidationError("--warmup must be 0 to 3600") }
        guard (0...1_000_000).contains(size) else { throw ValidationError("--size must be 0 to 1000000") }
        guard root.hasPrefix("/"), root != "/", !root.hasSuffix("/") else {
            throw ValidationError("--root must be an absolute path other than /")
        }
    }

    func run(in context: ShellContext) async throws {
        let threads = min(sessions, ProcessInfo.processInfo.activeProcessorCount)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        var clients: [ZooKeeperClient] = []
        do {
            for _ in 0..<sessions {
                var configuration = try ZooKeeperClient.Configuration(connectString: context.connectString)
                configuration.connectTimeout = context.options.connectTimeout
                configuration.sessionTimeout = context.options.sessionTimeout
                context.applySecurity(to: &configuration)
                let client = ZooKeeperClient(configuration: configuration, eventLoopGroup: group, logger: context.logger)
                clients.append(client)
                try await client.connect()
            }
            let result = try await measure(clients)
            await cleanUp(clients[0])
            for client in clients { try? await client.close() }
            try? await group.shutdownGracefully()
            report(result, hosts: context.connectString, in: context)
            if result.errors > 0 { throw ShellError("\(result.errors) requests failed") }
        } catch {
            for client in clients { try? await client.close() }
            try? await group.shutdownGracefully()
            throw error
        }
    }

    // MARK: Running

    struct Result: Sendable {
        var completed: Int
        var errors: Int
        var seconds: Double
        /// Every measured request's latency in microseconds.
        var latencies: Histogram<UInt64>

        var throughput: Double { seconds > 0 ? Double(completed) / seconds : 0 }

        /// The latency below which `q` (0...1) of the requests fell, in microseconds.
        func percentile(_ q: Double) -> UInt64 {
            latencies.totalCount == 0 ? 0 : latencies.valueAtPercentile(q * 100)
        }

        var maximum: UInt64 { latencies.totalCount == 0 ? 0 : latencies.max }
    }

    private func nodePath(_ session: Int) -> String { "\(root)/s\(session)" }

    private func prepare(_ clients: [ZooKeeperClient]) async throws {
        let data = [UInt8](repeating: 0x61, count: size)
        do { try await clients[0].create(root) } catch let error as ZooKeeperError where error.code == .nodeExists {}
        for index in clients.indices {
            do {
                try await clients[0].create(nodePath(index), data: data)
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                try await clients[0].setData(nodePath(index), data: data)
            }
        }
    }

    private func cleanUp(_ client: ZooKeeperClient) async {
        guard let children = try? await client.getChildren(root).children else { return }
        for child in children { try? await client.delete("\(root)/\(child)") }
        try? await client.delete(root)
    }

    private func measure(_ clients: [ZooKeeperClient]) async throws -> Result {
        try await prepare(clients)
        if warmup > 0 {
            _ = try await load(clients, limit: Int.max, seconds: warmup, record: false)
        }
        return try await load(clients, limit: ops, seconds: duration, record: true)
    }

    /// Shared between the in-flight loops: how many requests may still start, and when to stop.
    private final class Budget: @unchecked Sendable {
        private let lock = NSLock()
        private var remaining: Int
        private let deadline: UInt64

        init(limit: Int, deadline: UInt64) {
            self.remaining = limit
            self.deadline = deadline
        }

        func take(now: UInt64) -> Bool {
            if now >= deadline { return false }
            return lock.withLock {
                guard remaining > 0 else { return false }
                remaining -= 1
                return true
            }
        }
    }

    /// What one in-flight loop measured.
    private struct LoopResult: Sendable {
        var completed = 0
        var errors = 0
        var latencies = BenchCommand.makeHistogram()

        mutating func record(nanoseconds: UInt64) {
            completed += 1
            _ = latencies.record(max(1, nanoseconds / 1_000))
        }
    }

    private func load(_ clients: [ZooKeeperClient], limit: Int, seconds: Double, record: Bool) async throws -> Result {
        let start = DispatchTime.now().uptimeNanoseconds
        let budget = Budget(limit: limit, deadline: start + UInt64(seconds * 1e9))
        let data = [UInt8](repeating: 0x62, count: size)
        let workload = self.workload
        let root = self.root
        let results = try await withThrowingTaskGroup(of: LoopResult.self) { group in
            for (session, client) in clients.enumerated() {
                let node = nodePath(session)
                for slot in 0..<depth {
                    // On the session's event loop: a reply resumes its loop where it was read,
                    // as a Java client's callback runs on its event thread.
                    group.addTask(executorPreference: client.taskExecutor) {
                        var result = LoopResult()
                        var sequence = 0
                        var created: String?
                        while true {
                            let began = DispatchTime.now().uptimeNanoseconds
                            guard budget.take(now: began) else { break }
                            do {
                                switch workload {
                                case .get:
                                    _ = try await client.getData(node)
                                case .set:
                                    try await client.setData(node, data: data)
                                case .exists:
                                    _ = try await client.exists(node)
                                case .createDelete:
                                    if let path = created {
                                        created = nil
                                        try await client.delete(path)
                                    } else {
                                        let path = "\(root)/c\(session)-\(slot)-\(sequence)"
                                        sequence += 1
                                        try await client.create(path, data: data)
                                        created = path
                                    }
                                case .watchMix:
                                    switch sequence % 10 {
                                    case 0: try await client.setData(node, data: data)
                                    case 1, 4, 7: _ = try await client.getDataAndWatch(node)
                                    default: _ = try await client.getData(node)
                                    }
                                    sequence += 1
                                }
                                if record {
                                    result.record(nanoseconds: DispatchTime.now().uptimeNanoseconds - began)
                                }
                            } catch let error as ZooKeeperError
                                where error.code != .connectionLoss && error.code != .sessionExpired
                            {
                                result.errors += 1
                                if case .createDelete = workload { created = nil }
                            }
                        }
                        if let path = created { try? await client.delete(path) }
                        return result
                    }
                }
            }
            var all: [LoopResult] = []
            for try await result in group { all.append(result) }
            return all
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var latencies = Self.makeHistogram()
        for result in results { latencies.add(result.latencies) }
        return Result(completed: results.reduce(0) { $0 + $1.completed },
                      errors: results.reduce(0) { $0 + $1.errors },
                      seconds: elapsed, latencies: latencies)
    }

    // MARK: Reporting

    private static func milliseconds(_ microseconds: UInt64) -> String {
        String(format: "%.3f", Double(microseconds) / 1e3)
    }

    private func report(_ result: Result, hosts: String, in context: ShellContext) {
        let p50 = Self.milliseconds(result.percentile(0.50))
        let p99 = Self.milliseconds(result.percentile(0.99))
        let p999 = Self.milliseconds(result.percentile(0.999))
        let maximum = Self.milliseconds(result.maximum)
        let throughput = String(format: "%.1f", result.throughput)
        let seconds = String(format: "%.3f", result.seconds)
        if output.wantsJSON(context) {
            // Built by hand: the figures are fractional, which JSONValue does not carry.
            context.print("""
                {"tool":"zksh","workload":"\(workload.rawValue)","sessions":\(sessions),"depth":\(depth),\
                "size":\(size),"ops":\(result.completed),"errors":\(result.errors),"seconds":\(seconds),\
                "throughput":\(throughput),"latency_ms":{"p50":\(p50),"p99":\(p99),"p99_9":\(p999),"max":\(maximum)}}
                """)
        } else {
            context.print("bench \(workload.rawValue): \(sessions) sessions × \(depth) in flight, \(size)-byte data, \(hosts)")
            context.print("\(result.completed) requests in \(seconds) s: \(throughput) ops/s, \(result.errors) errors")
            context.print("latency ms: p50 \(p50)  p99 \(p99)  p99.9 \(p999)  max \(maximum)")
        }
    }
}
