/// ZooKeeper's quota layout (`Quotas`) and quota data (`StatsTrack`), as the server reads and
/// writes them.
///
/// A quota on `/app` lives in `/zookeeper/quota/app/zookeeper_limits` (the limits, written by
/// clients) and `/zookeeper/quota/app/zookeeper_stats` (the usage, kept up to date by the server).
public enum Quotas {
    public static let procZookeeper = "/zookeeper"
    public static let quotaZookeeper = "/zookeeper/quota"
    public static let limitNode = "zookeeper_limits"
    public static let statNode = "zookeeper_stats"

    /// `/zookeeper/quota<path>/zookeeper_limits`.
    public static func limitPath(_ path: String) -> String { self.quotaZookeeper + path + "/" + self.limitNode }

    /// `/zookeeper/quota<path>/zookeeper_stats`.
    public static func statPath(_ path: String) -> String { self.quotaZookeeper + path + "/" + self.statNode }

    /// What follows `/zookeeper/quota` in a quota node's path (Java's `trimQuotaPath`).
    static func trimQuotaPath(_ quotaPath: String) -> String {
        String(decoding: quotaPath.utf8.dropFirst(self.quotaZookeeper.utf8.count), as: UTF8.self)
    }

    /// The components of a path as ZooKeeper's `PathTrie` splits it: empty and blank ones dropped.
    static func components(_ path: String) -> [Substring] {
        path.split(separator: "/").filter { component in !component.unicodeScalars.allSatisfy { $0.value <= 0x20 } }
    }

    /// A path in the form `PathTrie` gives it back: `/` followed by its components.
    static func normalized(_ path: String) -> String {
        "/" + self.components(path).joined(separator: "/")
    }
}

/// Java's `StatsTrack`: `key=value` pairs, `count` and `bytes` first.
///
/// Written as `count=N,bytes=N`, and when other fields are present an extra `=` and then the
/// others sorted by name, each as `;key=value`: `count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=2`.
/// A missing field reads as -1.
public struct StatsTrack: Hashable, Sendable {
    public private(set) var fields: [String: Int64] = [:]

    public static let countKey = "count"
    public static let bytesKey = "bytes"
    public static let countHardLimitKey = "countHardLimit"
    public static let byteHardLimitKey = "byteHardLimit"

    public init() {}

    /// Parses the data of a limits or stats node. Pairs are separated by runs of `,` and `;`; an
    /// empty value reads as -1. Java throws on a pair without `=` or a value that is not a number;
    /// here such a pair is skipped (the server must not fail applying a transaction).
    public init(_ data: [UInt8]?) {
        guard let data, !data.isEmpty else { return }
        let text = String(decoding: data, as: UTF8.self)
        for pair in text.split(whereSeparator: { $0 == "," || $0 == ";" }) {
            // Java's String.split drops trailing empty strings: "bytes=-1=" is ["bytes", "-1"].
            var parts = pair.split(separator: "=", omittingEmptySubsequences: false)
            while parts.count > 1, parts.last?.isEmpty == true { parts.removeLast() }
            guard !parts.isEmpty else { continue }
            if parts.count < 2 {
                // "key=" (all trailing parts empty): Java reads kv[1] out of bounds; treat as unset.
                continue
            }
            if parts[1].isEmpty {
                self.fields[String(parts[0])] = -1
            } else if let value = Int64(parts[1]) {
                self.fields[String(parts[0])] = value
            }
        }
    }

    public subscript(key: String) -> Int64 {
        get { self.fields[key] ?? -1 }
        set { self.fields[key] = newValue }
    }

    public var count: Int64 {
        get { self[Self.countKey] }
        set { self[Self.countKey] = newValue }
    }

    public var bytes: Int64 {
        get { self[Self.bytesKey] }
        set { self[Self.bytesKey] = newValue }
    }

    public var countHardLimit: Int64 { self[Self.countHardLimitKey] }
    public var byteHardLimit: Int64 { self[Self.byteHardLimitKey] }

    /// Java's `StatsTrack.toString()`.
    public var text: String {
        var text = "count=\(self.count),bytes=\(self.bytes)"
        let others = self.fields.keys.filter { $0 != Self.countKey && $0 != Self.bytesKey }.sorted()
        if !others.isEmpty {
            text += "="
            for key in others { text += ";\(key)=\(self.fields[key]!)" }
        }
        return text
    }

    public var bytesValue: [UInt8] { Array(self.text.utf8) }
}
