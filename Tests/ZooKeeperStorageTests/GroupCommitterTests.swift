import Dispatch
import Foundation
import Testing

@testable import ZooKeeperStorage

@Suite struct GroupCommitterTests {
    private static let timeout = DispatchTime.now() + .seconds(10)

    @Test func appendsThatArriveDuringAnFsyncShareTheNextOne() throws {
        try withTemporaryDirectory { directory in
            let log = try TransactionLog(directory: directory)
            let results = Collector<Result<Int64, StorageError>>()
            let firstSyncDone = DispatchSemaphore(value: 0)
            let releaseFirst = DispatchSemaphore(value: 0)
            let allDurable = DispatchSemaphore(value: 0)
            let syncs = Collector<Int64>()
            let committer = GroupCommitter(
                log: log, label: "test",
                afterSync: {
                    syncs.append(log.durableZxid)
                    if syncs.values.count == 1 {
                        firstSyncDone.signal()
                        releaseFirst.wait()
                    }
                },
                completion: { result in
                    results.append(result)
                    if case .success(100) = result { allDurable.signal() }
                })

            try committer.append(zxid: 1, bytes: payload(for: 1))
            #expect(firstSyncDone.wait(timeout: Self.timeout) == .success)
            // The committer is busy with zxid 1 (think: a slow fsync); 2...100 queue up meanwhile.
            for zxid in Int64(2)...100 { try committer.append(zxid: zxid, bytes: payload(for: zxid)) }
            releaseFirst.signal()
            #expect(allDurable.wait(timeout: Self.timeout) == .success)
            committer.close()

            #expect(syncs.values == [1, 100, 100], "one fsync for zxid 1, one for all the rest, one at close")
            #expect(results.values.map { try? $0.get() } == [1, 100], "one completion per batch that made progress")
            #expect(try log.readEntries(after: 0) == entries(1...100))
        }
    }

    @Test func manyThreadsEveryEntryDurableInOrder() throws {
        try withTemporaryDirectory { directory in
            let log = try TransactionLog(directory: directory, segmentSizeLimit: 16 * 1024)
            let total: Int64 = 2000
            let durable = Collector<Int64>()
            let allDurable = DispatchSemaphore(value: 0)
            let committer = GroupCommitter(log: log) { result in
                guard case .success(let zxid) = result else {
                    Issue.record("unexpected \(result)")
                    return
                }
                durable.append(zxid)
                if zxid == total { allDurable.signal() }
            }
            // Four "connections" share one zxid counter; taking the next zxid and appending it
            // happen under one lock, as on a single event loop.
            let source = ZxidSource()
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                while source.appendNext(to: committer, upTo: total) {}
            }
            #expect(allDurable.wait(timeout: Self.timeout) == .success)
            committer.close()

            let reported = durable.values
            #expect(reported.last == total)
            #expect(zip(reported, reported.dropFirst()).allSatisfy { $0 < $1 }, "strictly increasing, each once")
            #expect(reported.count < Int(total), "at least one batch held several entries")
            #expect(try TransactionLog(directory: directory).readEntries(after: 0) == entries(1...total))
        }
    }

    @Test func fsyncErrorIsReportedOnceAndStopsTheCommitter() throws {
        try withTemporaryDirectory { directory in
            let log = try TransactionLog(
                directory: directory, segmentSizeLimit: 1 << 20, forceSync: true,
                createSegmentFile: { FailingSegmentFile(inner: try POSIXSegmentFile.create($0), failure: .synchronize) })
            let results = Collector<Result<Int64, StorageError>>()
            let failed = DispatchSemaphore(value: 0)
            let committer = GroupCommitter(log: log) { result in
                results.append(result)
                if case .failure = result { failed.signal() }
            }
            try committer.append(zxid: 1, bytes: [1])
            #expect(failed.wait(timeout: Self.timeout) == .success)
            let later = #expect(throws: StorageError.self) { try committer.append(zxid: 2, bytes: [2]) }
            #expect(later?.code == .logFailed)
            committer.close()

            #expect(results.values.count == 1)
            guard case .failure(let error) = results.values.first else { return }
            #expect(error.code == .io)
            #expect(error.errno == EIO)
            #expect(error.path == join(directory, "log.1"))
        }
    }

    @Test func writeErrorWhenTheDirectoryIsGone() throws {
        // Root ignores permissions; a log directory replaced by a file fails for anyone (ENOTDIR).
        try withTemporaryDirectory { root in
            let directory = join(root, "log")
            let log = try TransactionLog(directory: directory)
            let results = Collector<Result<Int64, StorageError>>()
            let reported = DispatchSemaphore(value: 0)
            let committer = GroupCommitter(log: log) { result in
                results.append(result)
                reported.signal()
            }
            try committer.append(zxid: 1, bytes: [1])
            #expect(reported.wait(timeout: Self.timeout) == .success)

            log.rollSegment()  // the next entry needs a new file
            try FileManager.default.removeItem(atPath: directory)
            try writeFile(directory, [0])
            try committer.append(zxid: 2, bytes: [2])
            #expect(reported.wait(timeout: Self.timeout) == .success)
            committer.close()

            #expect(results.values.count == 2)
            #expect(try results.values[0].get() == 1)
            guard case .failure(let error) = results.values[1] else {
                Issue.record("expected a failure, got \(results.values[1])")
                return
            }
            #expect(error.code == .io)
            #expect(error.errno == ENOTDIR)
            #expect(error.path == join(directory, "log.2"))
        }
    }

    @Test func closeFlushesEverythingAndRefusesLaterAppends() throws {
        try withTemporaryDirectory { directory in
            let log = try TransactionLog(directory: directory)
            let durable = Collector<Int64>()
            let committer = GroupCommitter(log: log) { durable.append((try? $0.get()) ?? -1) }
            for zxid in Int64(1)...10 { try committer.append(zxid: zxid, bytes: payload(for: zxid)) }
            committer.close()
            #expect(durable.values.last == 10, "the last completion fires before close returns")
            #expect(log.durableZxid == 10)
            let error = #expect(throws: StorageError.self) { try committer.append(zxid: 11, bytes: []) }
            #expect(error?.code == .closed)
        }
    }
}

/// Hands out zxids and appends them under one lock, as a single event loop would.
private final class ZxidSource: @unchecked Sendable {
    private let lock = NSLock()
    private var next: Int64 = 1

    /// Appends the next zxid; `false` once `upTo` has been appended.
    func appendNext(to committer: GroupCommitter, upTo last: Int64) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard next <= last else { return false }
        try! committer.append(zxid: next, bytes: payload(for: next))
        next += 1
        return true
    }
}
