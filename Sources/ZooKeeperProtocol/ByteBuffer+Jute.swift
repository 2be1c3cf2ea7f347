import NIOCore

/// Reading and writing the jute binary archive format used by every ZooKeeper record.
///
/// All integers are big-endian. `buffer`, `ustring` and `vector` fields are prefixed with a
/// signed 32-bit length where -1 encodes `null`.
///
/// Following SwiftNIO naming, `readJute*` methods move the reader index and return `nil` when the
/// buffer holds too few bytes; the throwing `decodeJute*` wrappers used by records turn that into a
/// ``JuteDecodingError`` naming the field.
extension ByteBuffer {
    // MARK: Writing

    /// Writes a jute `int`.
    @inlinable
    public mutating func writeJuteInt(_ value: Int32) {
        self.writeInteger(value, endianness: .big)
    }

    /// Writes a jute `long`.
    @inlinable
    public mutating func writeJuteLong(_ value: Int64) {
        self.writeInteger(value, endianness: .big)
    }

    /// Writes a jute `boolean` as one byte, 1 or 0.
    @inlinable
    public mutating func writeJuteBool(_ value: Bool) {
        self.writeInteger(value ? UInt8(1) : UInt8(0))
    }

    /// Writes a jute `buffer`; `nil` is written as length -1.
    @inlinable
    public mutating func writeJuteBuffer(_ bytes: [UInt8]?) {
        guard let bytes else {
            self.writeJuteInt(-1)
            return
        }
        self.writeJuteInt(Int32(bytes.count))
        self.writeBytes(bytes)
    }

    /// Writes a jute `ustring` as UTF-8; `nil` is written as length -1.
    @inlinable
    public mutating func writeJuteString(_ string: String?) {
        guard let string else {
            self.writeJuteInt(-1)
            return
        }
        let lengthIndex = self.writerIndex
        self.writeJuteInt(0)
        let written = self.writeString(string)
        self.setInteger(Int32(written), at: lengthIndex, endianness: .big)
    }

    /// Writes a jute `vector`, each element with `writeElement`; `nil` is written as count -1.
    @inlinable
    public mutating func writeJuteVector<Element>(
        _ elements: [Element]?, _ writeElement: (inout ByteBuffer, Element) -> Void
    ) {
        guard let elements else {
            self.writeJuteInt(-1)
            return
        }
        self.writeJuteInt(Int32(elements.count))
        for element in elements {
            writeElement(&self, element)
        }
    }

    /// Writes a vector of strings.
    @inlinable
    public mutating func writeJuteStringVector(_ strings: [String]?) {
        self.writeJuteVector(strings) { $0.writeJuteString($1) }
    }

    /// Writes a record in place.
    @inlinable
    public mutating func writeJuteRecord<R: JuteRecord>(_ record: R) {
        record.encode(into: &self)
    }

    // MARK: Reading (nil when bytes are missing)

    /// Reads a jute `int`, or `nil` if fewer than 4 bytes remain.
    @inlinable
    public mutating func readJuteInt() -> Int32? {
        self.readInteger(endianness: .big, as: Int32.self)
    }

    /// Reads a jute `long`, or `nil` if fewer than 8 bytes remain.
    @inlinable
    public mutating func readJuteLong() -> Int64? {
        self.readInteger(endianness: .big, as: Int64.self)
    }

    /// Reads a jute `boolean`; any non-zero byte is true, as in Java.
    @inlinable
    public mutating func readJuteBool() -> Bool? {
        self.readInteger(as: UInt8.self).map { $0 != 0 }
    }

    // MARK: Decoding (throwing, for records inside a complete frame)

    @inlinable
    mutating func decodeJuteInt(_ field: StaticString) throws(JuteDecodingError) -> Int32 {
        guard let value = self.readJuteInt() else { throw .truncated(field: field) }
        return value
    }

    @inlinable
    mutating func decodeJuteLong(_ field: StaticString) throws(JuteDecodingError) -> Int64 {
        guard let value = self.readJuteLong() else { throw .truncated(field: field) }
        return value
    }

    @inlinable
    mutating func decodeJuteBool(_ field: StaticString) throws(JuteDecodingError) -> Bool {
        guard let value = self.readJuteBool() else { throw .truncated(field: field) }
        return value
    }

    /// Reads a length prefix, validating it against the bytes that remain.
    @inlinable
    mutating func decodeJuteLength(_ field: StaticString, elementSize: Int = 1) throws(JuteDecodingError) -> Int? {
        let length = try self.decodeJuteInt(field)
        if length == -1 { return nil }
        guard length >= 0 else { throw .unreasonableLength(field: field, length: Int(length)) }
        // Every element takes at least `elementSize` bytes, so a larger count can never be satisfied:
        // rejecting it here avoids allocating for a hostile length.
        guard Int(length) * elementSize <= self.readableBytes else {
            throw .unreasonableLength(field: field, length: Int(length))
        }
        return Int(length)
    }

    /// Decodes a jute `buffer` (`nil` for length -1).
    @inlinable
    public mutating func decodeJuteBuffer(_ field: StaticString) throws(JuteDecodingError) -> [UInt8]? {
        guard let length = try self.decodeJuteLength(field) else { return nil }
        return self.readBytes(length: length)!
    }

    /// Decodes a jute `ustring` (`nil` for length -1). Invalid UTF-8 is an error.
    @inlinable
    public mutating func decodeJuteString(_ field: StaticString) throws(JuteDecodingError) -> String? {
        guard let length = try self.decodeJuteLength(field) else { return nil }
        let bytes = self.readSlice(length: length)!.readableBytesView
        // Validate by hand: `String(validating:as:)` needs macOS 15, and the package supports 14.
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        validation: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: break validation
            case .error: throw .invalidUTF8(field: field)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Decodes a non-null `ustring`, treating `null` as the empty string.
    @inlinable
    public mutating func decodeJuteStringNonNull(_ field: StaticString) throws(JuteDecodingError) -> String {
        try self.decodeJuteString(field) ?? ""
    }

    /// Decodes a jute `vector` (`nil` for count -1).
    @inlinable
    public mutating func decodeJuteVector<Element>(
        _ field: StaticString, minimumElementSize: Int = 1,
        _ decodeElement: (inout ByteBuffer) throws(JuteDecodingError) -> Element
    ) throws(JuteDecodingError) -> [Element]? {
        guard let count = try self.decodeJuteLength(field, elementSize: minimumElementSize) else { return nil }
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for _ in 0..<count {
            elements.append(try decodeElement(&self))
        }
        return elements
    }

    /// Decodes a vector of strings; a null vector becomes empty.
    @inlinable
    public mutating func decodeJuteStringVector(_ field: StaticString) throws(JuteDecodingError) -> [String] {
        try self.decodeJuteVector(field, minimumElementSize: 4) { (buffer: inout ByteBuffer) throws(JuteDecodingError) in
            try buffer.decodeJuteStringNonNull(field)
        } ?? []
    }

    /// Decodes a record in place.
    @inlinable
    public mutating func decodeJuteRecord<R: JuteRecord>(_ type: R.Type = R.self) throws(JuteDecodingError) -> R {
        try R(from: &self)
    }
}

/// A jute record: a fixed sequence of fields with no tags or length prefix.
public protocol JuteRecord: Sendable, Hashable {
    /// Decodes the record from the buffer's readable bytes, moving the reader index past it.
    init(from buffer: inout ByteBuffer) throws(JuteDecodingError)
    /// Appends the record's encoding to the buffer.
    func encode(into buffer: inout ByteBuffer)
}

extension JuteRecord {
    /// Decodes a record that must occupy the whole buffer.
    public static func decodeExactly(_ buffer: ByteBuffer) throws(JuteDecodingError) -> Self {
        var buffer = buffer
        let record = try Self(from: &buffer)
        guard buffer.readableBytes == 0 else { throw .trailingBytes(count: buffer.readableBytes) }
        return record
    }

    /// The record's encoding as a fresh buffer.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        self.encode(into: &buffer)
        return buffer
    }
}

/// A record that could not be decoded.
public enum JuteDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The input ended inside the named field.
    case truncated(field: StaticString)
    /// A length prefix was negative (other than -1) or larger than the bytes that follow.
    case unreasonableLength(field: StaticString, length: Int)
    /// A string was not valid UTF-8.
    case invalidUTF8(field: StaticString)
    /// Bytes were left over after a record that must fill its frame.
    case trailingBytes(count: Int)
    /// A value outside the field's domain (an unknown op code inside a multi, for example).
    case invalidValue(field: StaticString, value: Int64)

    public var description: String {
        switch self {
        case .truncated(let field): return "truncated record: input ended in field '\(field)'"
        case .unreasonableLength(let field, let length): return "unreasonable length \(length) for field '\(field)'"
        case .invalidUTF8(let field): return "field '\(field)' is not valid UTF-8"
        case .trailingBytes(let count): return "\(count) unexpected bytes after the record"
        case .invalidValue(let field, let value): return "invalid value \(value) for field '\(field)'"
        }
    }

    public static func == (lhs: JuteDecodingError, rhs: JuteDecodingError) -> Bool {
        lhs.description == rhs.description
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.description)
    }
}
