extension Array where Element == UInt8 {
    /// Appends `value` in network byte order.
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    /// Overwrites `MemoryLayout<T>.size` bytes at `offset` with `value` in network byte order.
    mutating func setBigEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        Swift.withUnsafeBytes(of: value.bigEndian) { raw in
            for (index, byte) in raw.enumerated() { self[offset + index] = byte }
        }
    }
}

extension UnsafeRawBufferPointer {
    /// The big-endian integer at `offset`, or `nil` if the buffer ends before it does.
    func bigEndianInteger<T: FixedWidthInteger>(at offset: Int, as: T.Type = T.self) -> T? {
        guard offset >= 0, offset <= count - MemoryLayout<T>.size else { return nil }
        return T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

/// The zxid as ZooKeeper prints it in file names: lower-case hex, no padding (`log.100000001`).
func zxidHex(_ zxid: Int64) -> String {
    String(UInt64(bitPattern: zxid), radix: 16)
}

/// Parses `<prefix><hex>` file names; `nil` for anything else.
func zxid(fromFileName name: String, prefix: String) -> Int64? {
    guard name.hasPrefix(prefix) else { return nil }
    let hex = name.dropFirst(prefix.count)
    guard !hex.isEmpty, hex.count <= 16, hex.allSatisfy(\.isHexDigit),
        let value = UInt64(hex, radix: 16), value <= UInt64(Int64.max)
    else { return nil }
    return Int64(bitPattern: value)
}
