/// Decodes terminal input one byte at a time.
///
/// LineEditor reads the terminal itself (to watch its wake-up pipe at the same
/// time), so it decodes UTF-8 itself too, independent of the C locale.
/// Like libedit's own reader it drops malformed input: a stray continuation
/// byte, an overlong form, a surrogate, or a sequence cut short (the byte that
/// cut it short starts the next character).
struct UTF8InputDecoder {
    enum Step: Equatable {
        /// The byte was consumed; feed the next one.
        case needMore
        /// A whole character.
        case character(Unicode.Scalar)
        /// The byte, or the sequence it ended, was dropped.
        case invalid
    }

    private var value: UInt32 = 0
    private var remaining = 0
    private var minimum: UInt32 = 0

    /// Whether a multi-byte character has been started but not finished.
    var isInsideCharacter: Bool { remaining > 0 }

    mutating func feed(_ byte: UInt8) -> Step {
        guard remaining > 0 else { return start(byte) }
        guard byte & 0xC0 == 0x80 else {
            remaining = 0
            return start(byte)
        }
        value = value << 6 | UInt32(byte & 0x3F)
        remaining -= 1
        guard remaining == 0 else { return .needMore }
        guard value >= minimum, let scalar = Unicode.Scalar(value) else { return .invalid }
        return .character(scalar)
    }

    private mutating func start(_ byte: UInt8) -> Step {
        switch byte {
        case 0x00...0x7F:
            return .character(Unicode.Scalar(byte))
        case 0xC2...0xDF:
            begin(UInt32(byte & 0x1F), remaining: 1, minimum: 0x80)
        case 0xE0...0xEF:
            begin(UInt32(byte & 0x0F), remaining: 2, minimum: 0x800)
        case 0xF0...0xF4:
            begin(UInt32(byte & 0x07), remaining: 3, minimum: 0x10000)
        default:
            return .invalid
        }
        return .needMore
    }

    private mutating func begin(_ bits: UInt32, remaining: Int, minimum: UInt32) {
        value = bits
        self.remaining = remaining
        self.minimum = minimum
    }
}
