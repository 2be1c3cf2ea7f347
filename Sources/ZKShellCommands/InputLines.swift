#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The lines of a file descriptor (a script on standard input), read in large chunks.
///
/// Every complete line a read brought is handed over at once, so a script costs one `read` and
/// one trip to the reading thread per chunk rather than per line. A read returns whatever has
/// arrived, so lines typed or piped slowly still come one at a time as they arrive. Used from
/// one thread at a time.
final class InputLines: @unchecked Sendable {
    private let descriptor: Int32
    private let chunkSize: Int
    private var buffered: [UInt8] = []
    private var atEnd = false

    init(descriptor: Int32, chunkSize: Int = 64 * 1024) {
        self.descriptor = descriptor
        self.chunkSize = chunkSize
    }

    /// The next lines, each with its line ending (the last one without, when the input does not
    /// end in a newline); empty once the input has ended. Blocks until a line or the end arrives.
    func next() -> [String] {
        while true {
            if let lastNewline = buffered.lastIndex(of: UInt8(ascii: "\n")) {
                var lines: [String] = []
                var start = 0
                while start <= lastNewline {
                    let end = buffered[start...lastNewline].firstIndex(of: UInt8(ascii: "\n"))!
                    lines.append(String(decoding: buffered[start...end], as: UTF8.self))
                    start = end + 1
                }
                buffered.removeFirst(lastNewline + 1)
                return lines
            }
            if atEnd {
                guard !buffered.isEmpty else { return [] }
                defer { buffered = [] }
                return [String(decoding: buffered, as: UTF8.self)]
            }
            readChunk()
        }
    }

    private func readChunk() {
        let start = buffered.count
        buffered.append(contentsOf: repeatElement(0, count: chunkSize))
        let count = buffered.withUnsafeMutableBytes { bytes -> Int in
            while true {
                let result = read(descriptor, bytes.baseAddress! + start, chunkSize)
                if result < 0 && errno == EINTR { continue }
                return result
            }
        }
        buffered.removeLast(chunkSize - max(count, 0))
        if count <= 0 { atEnd = true }
    }
}
