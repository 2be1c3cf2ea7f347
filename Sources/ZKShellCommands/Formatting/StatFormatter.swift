import Foundation
import ZooKeeperClient

/// Renders a node's `Stat` the way `zkCli.sh` does for humans, and with fixed field names as JSON.
public enum StatFormatter {
    /// The eleven `zkCli.sh` lines (`cZxid = 0x1a`, `ctime = Thu Jan 01 00:00:00 UTC 2024`, …),
    /// each ending in a newline.
    public static func text(_ stat: Stat, timeZone: TimeZone = .current) -> String {
        text(stat, times: TimeText(timeZone: timeZone))
    }

    /// The eleven lines, with times from `times` (one formatter for many stats).
    public static func text(_ stat: Stat, times: TimeText) -> String {
        [
            "cZxid = \(hex(stat.czxid))",
            "ctime = \(times.javaDate(stat.ctime))",
            "mZxid = \(hex(stat.mzxid))",
            "mtime = \(times.javaDate(stat.mtime))",
            "pZxid = \(hex(stat.pzxid))",
            "cversion = \(stat.cversion)",
            "dataVersion = \(stat.version)",
            "aclVersion = \(stat.aversion)",
            "ephemeralOwner = \(hex(stat.ephemeralOwner))",
            "dataLength = \(stat.dataLength)",
            "numChildren = \(stat.numChildren)",
        ].map { $0 + "\n" }.joined()
    }

    /// The stat as a JSON object with the fields `czxid`, `mzxid`, `pzxid`, `ctime`, `mtime`
    /// (milliseconds since the epoch), `version`, `cversion`, `aversion`, `ephemeralOwner`,
    /// `dataLength` and `numChildren`, all numbers.
    public static func json(_ stat: Stat) -> JSONValue {
        [
            "czxid": .integer(stat.czxid),
            "mzxid": .integer(stat.mzxid),
            "pzxid": .integer(stat.pzxid),
            "ctime": .integer(stat.ctime),
            "mtime": .integer(stat.mtime),
            "version": .integer(Int64(stat.version)),
            "cversion": .integer(Int64(stat.cversion)),
            "aversion": .integer(Int64(stat.aversion)),
            "ephemeralOwner": .integer(stat.ephemeralOwner),
            "dataLength": .integer(Int64(stat.dataLength)),
            "numChildren": .integer(Int64(stat.numChildren)),
        ]
    }

    /// `0x` and the lowercase two's-complement hex digits, like Java's `Long.toHexString`.
    public static func hex(_ value: Int64) -> String {
        "0x" + String(UInt64(bitPattern: value), radix: 16)
    }

    /// An ISO-8601 timestamp with milliseconds and the zone offset (`2024-05-01T12:00:00.123+02:00`).
    public static func isoTimestamp(_ date: Date, timeZone: TimeZone = .current) -> String {
        TimeText(timeZone: timeZone).isoTimestamp(date)
    }
}

/// Formats times in one zone, reusing its formatter: building a `DateFormatter` costs far more
/// than using one, and a script may print thousands of stats.
public final class TimeText: @unchecked Sendable {
    private let lock = NSLock()
    private let formatter: DateFormatter
    private let isoFormatter: ISO8601DateFormatter

    public init(timeZone: TimeZone) {
        formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "EEE MMM dd HH:mm:ss zzz yyyy"
        isoFormatter = ISO8601DateFormatter()
        isoFormatter.timeZone = timeZone
        isoFormatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    }

    /// An ISO-8601 timestamp with milliseconds and the zone offset (`2024-05-01T12:00:00.123+02:00`).
    public func isoTimestamp(_ date: Date) -> String {
        lock.withLock { isoFormatter.string(from: date) }
    }

    /// A Java `Date.toString()`-style time (`Thu Jan 01 00:00:00 UTC 1970`) for epoch milliseconds.
    public func javaDate(_ milliseconds: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        return lock.withLock { formatter.string(from: date) }
    }
}
