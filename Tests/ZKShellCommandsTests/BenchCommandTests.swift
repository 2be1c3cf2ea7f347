import Testing
@testable import ZKShellCommands

/// `bench` parsing and its percentiles. The benchmark itself is never timed in tests.
@Suite("bench: options and percentiles")
struct BenchCommandTests {
    private func parse(_ words: [String]) throws -> BenchCommand {
        guard case .command(let command) = try CommandRegistry.standard.parse(words),
              let bench = command as? BenchCommand
        else {
            Issue.record("\(words) did not parse as bench")
            throw UsageError(message: "not bench")
        }
        return bench
    }

    @Test func defaults() throws {
        let bench = try parse(["bench"])
        #expect(bench.sessions == 4)
        #expect(bench.depth == 32)
        #expect(bench.ops == 1_000_000)
        #expect(bench.duration == 10)
        #expect(bench.warmup == 1)
        #expect(bench.size == 1024)
        #expect(bench.workload == .get)
        #expect(bench.root == "/zksh-bench")
        #expect(!bench.output.json)
    }

    @Test func everyOption() throws {
        let bench = try parse(["bench", "--sessions", "8", "--depth", "64", "--ops", "5000", "--duration", "2.5",
                               "--warmup", "0", "--size", "100", "--workload", "create-delete", "--root", "/b", "--json"])
        #expect(bench.sessions == 8)
        #expect(bench.depth == 64)
        #expect(bench.ops == 5000)
        #expect(bench.duration == 2.5)
        #expect(bench.warmup == 0)
        #expect(bench.size == 100)
        #expect(bench.workload == .createDelete)
        #expect(bench.root == "/b")
        #expect(bench.output.json)
    }

    @Test(arguments: ["get", "set", "create-delete", "exists", "watch-mix"])
    func workloads(_ name: String) throws {
        #expect(try parse(["bench", "--workload", name]).workload.rawValue == name)
    }

    @Test(arguments: [
        ["bench", "--workload", "scan"],
        ["bench", "--sessions", "0"],
        ["bench", "--depth", "0"],
        ["bench", "--ops", "0"],
        ["bench", "--duration", "0"],
        ["bench", "--warmup", "-1"],
        ["bench", "--size", "2000000"],
        ["bench", "--root", "/"],
        ["bench", "--root", "relative"],
        ["bench", "extra"],
    ])
    func rejects(_ words: [String]) {
        #expect(throws: UsageError.self) { try CommandRegistry.standard.parse(words) }
    }

    @Test func percentilesComeFromTheHistogramOfEveryRequest() {
        var latencies = BenchCommand.makeHistogram()
        for microseconds in UInt64(1)...1000 { _ = latencies.record(microseconds) }
        let result = BenchCommand.Result(completed: 1000, errors: 0, seconds: 2, latencies: latencies)
        #expect(result.throughput == 500)
        #expect(result.percentile(0.50) == 500)
        #expect(result.percentile(0.99) == 990)
        #expect(result.percentile(0.999) == 999)
        #expect(result.maximum == 1000)
        // Three significant digits: a 12,345 µs request reads back within 0.1 %.
        _ = latencies.record(12_345)
        let slow = BenchCommand.Result(completed: 1001, errors: 0, seconds: 1, latencies: latencies)
        #expect((12_333...12_358).contains(slow.maximum))
        let empty = BenchCommand.Result(completed: 0, errors: 0, seconds: 0, latencies: BenchCommand.makeHistogram())
        #expect(empty.percentile(0.5) == 0 && empty.maximum == 0 && empty.throughput == 0)
    }
}
