import Foundation
import ZooKeeperClient

/// Renders a node's `Stat` the way `zkCli.sh` does for humans, and with fixed field names as JSON.
public enum StatFormatter {
    /// The eleven `zkCli.sh` lines (`cZxid = 0x1a`, `ctime = Thu Jan 01 00:00:00 UTC 2024`, …),
    /// each ending in a newline.
    public static func text(_ stat: Stat, timeZone: TimeZone = .current) -> String {
        [
            "cZxid = \(hex(stat.czxid))",
            "ctime = \(date(stat.ctime, timeZone: timeZone))",
            "mZxid = \(hex(stat.mzxid))",
            "mtime = \(date(stat.mtime, timeZone: timeZone))",
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

    /// A Java `Date.toString()`-style time (`Thu Jan 01 00:00:00 UTC 1970`) for epoch milliseconds.
    public static func date(_ milliseconds: Int64, timeZone: TimeZone = .current) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "EEE MMM dd HH:mm:ss zzz yyyy"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    /// An ISO-8601 timestamp with milliseconds and the zone offset (`2024-05-01T12:00:00.123+02:00`).
    public static func isoTimestamp(_ date: Date, timeZone: TimeZone = .current) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = timeZone
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
