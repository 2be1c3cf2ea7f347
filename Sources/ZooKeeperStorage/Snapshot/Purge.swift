/// What `SnapshotStore.purge(retain:log:)` removed.
public struct PurgeReport: Sendable, Hashable {
    /// The oldest snapshot kept; `nil` if no valid snapshot exists (then nothing else is removed).
    public var oldestRetainedSnapshot: Int64?
    /// Snapshot files removed, oldest first.
    public var removedSnapshots: [String] = []
    /// Log segments removed, oldest first.
    public var removedLogSegments: [String] = []
    /// Leftover `snapshot.*.tmp` files of interrupted writes.
    public var removedTemporaryFiles: [String] = []

    /// An empty report: nothing removed.
    public init() {}
}

/// The retention arithmetic of purging, without IO.
enum PurgePlanner {
    /// ZooKeeper refuses to keep fewer than three snapshots.
    static let minimumRetainCount = 3

    /// The oldest snapshot to keep, given the valid snapshots' zxids newest first.
    static func oldestRetainedSnapshot(validZxids: [Int64], retain: Int) -> Int64? {
        validZxids.prefix(max(retain, minimumRetainCount)).last
    }

    /// How many of the oldest segments can go once only snapshots at or after `snapshotZxid`
    /// are kept. Segment `i` (first zxids ascending) holds the zxids from its own first zxid up to
    /// the next segment's first zxid − 1, so it is unneeded when that next first zxid is at most
    /// `snapshotZxid + 1`. The newest segment has no successor and always stays.
    static func removableSegmentCount(firstZxids: [Int64], snapshotZxid: Int64) -> Int {
        var count = 0
        while count + 1 < firstZxids.count, firstZxids[count + 1] - 1 <= snapshotZxid {
            count += 1
        }
        return count
    }
}
