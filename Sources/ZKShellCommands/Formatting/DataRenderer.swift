import Foundation

/// How `get` shows a node's data.
public enum DataFormat: Sendable, Equatable {
    /// Text when it is printable UTF-8; otherwise a hex dump on a terminal and the raw bytes
    /// elsewhere (so `get /blob > file` copies it exactly).
    case automatic
    /// One line of base64.
    case base64
    /// A `hexdump -C`-style dump.
    case hexDump
    /// The bytes unchanged, even to a terminal, without a newline (`get --raw`).
    case raw
}

/// Decides how node data reaches the user. Binary data is never written raw to a terminal.
public enum DataRenderer {
    /// Whether the data is valid UTF-8 without control characters other than tab, newline and
    /// carriage return (no escape sequences, no NUL, no C1 controls).
    public static func isPrintableText(_ data: [UInt8]) -> Bool {
        var iterator = data.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                switch scalar.value {
                case 0x09, 0x0A, 0x0D: continue
                case 0x00...0x1F, 0x7F...0x9F: return false
                default: continue
                }
            case .emptyInput:
                return true
            case .error:
                return false
            }
        }
    }

    /// The bytes to write to standard output for `data`.
    ///
    /// Text and dumps end in a newline; raw binary (automatic format, not a terminal) and the
    /// raw format are written unchanged.
    public static func render(_ data: [UInt8], format: DataFormat, toTerminal: Bool) -> [UInt8] {
        switch format {
        case .base64:
            return Array((base64(data) + "\n").utf8)
        case .hexDump:
            return Array(hexDump(data).utf8)
        case .raw:
            return data
        case .automatic:
            if isPrintableText(data) { return data + [0x0A] }
            if toTerminal { return Array(hexDump(data).utf8) }
            return data
        }
    }

    /// `hexdump -C` layout: offset, sixteen bytes in two groups of eight, printable ASCII.
    ///
    ///     00000000  68 65 6c 6c 6f 00 ff                              |hello..|
    public static func hexDump(_ data: [UInt8]) -> String {
        var output = ""
        var offset = 0
        while offset < data.count {
            let row = data[offset..<min(offset + 16, data.count)]
            var line = hexDigits(UInt64(offset), width: 8) + "  "
            for column in 0..<16 {
                if column < row.count {
                    line += hexDigits(UInt64(row[row.startIndex + column]), width: 2) + " "
                } else {
                    line += "   "
                }
                if column == 7 { line += " " }
            }
            line += " |"
            for byte in row {
                line.append((0x20...0x7E).contains(byte) ? Character(UnicodeScalar(byte)) : ".")
            }
            output += line + "|\n"
            offset += 16
        }
        return output + hexDigits(UInt64(data.count), width: 8) + "\n"
    }

    /// The data on one line, for event streams: printable text with tabs and newlines escaped
    /// (`a\nb`), anything else as `0x` and hex digits.
    public static func singleLine(_ data: [UInt8]) -> String {
        if isPrintableText(data) {
            let text = String(decoding: data, as: UTF8.self)
            var escaped = ""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\n": escaped += "\\n"
                case "\r": escaped += "\\r"
                case "\t": escaped += "\\t"
                case "\\": escaped += "\\\\"
                default: escaped.unicodeScalars.append(scalar)
                }
            }
            return escaped
        }
        return "0x" + data.map { hexDigits(UInt64($0), width: 2) }.joined()
    }

    /// The data as text for JSON, or nil when it is not printable UTF-8.
    public static func jsonText(_ data: [UInt8]) -> String? {
        isPrintableText(data) ? String(decoding: data, as: UTF8.self) : nil
    }

    /// Standard base64 with padding.
    public static func base64(_ data: [UInt8]) -> String {
        Data(data).base64EncodedString()
    }

    private static func hexDigits(_ value: UInt64, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
