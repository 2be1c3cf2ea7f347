import Foundation
import Testing
@testable import ZKShellCommands

@Suite("Script input read in chunks")
struct InputLinesTests {
    /// A pipe whose write end the test feeds; the read end goes to `InputLines`.
    final class Pipe: @unchecked Sendable {
        let read: Int32
        let write: Int32
        init() {
            var ends: [Int32] = [0, 0]
            precondition(pipe(&ends) == 0)
            read = ends[0]
            write = ends[1]
        }
        func send(_ text: String) {
            let bytes = Array(text.utf8)
            bytes.withUnsafeBytes { _ = Foundation.write(write, $0.baseAddress!, $0.count) }
        }
        func closeWrite() { close(write) }
        deinit { close(read) }
    }

    /// Every line `next()` hands over until the end.
    func drain(_ lines: InputLines) -> [String] {
        var all: [String] = []
        while true {
            let batch = lines.next()
            if batch.isEmpty { return all }
            all += batch
        }
    }

    @Test func linesKeepTheirEndingsAndAnUnterminatedLastLineComesLast() {
        let pipe = Pipe()
        pipe.send("ls /\r\ncreate /a 'x y'\n\nget /a")
        pipe.closeWrite()
        #expect(drain(InputLines(descriptor: pipe.read)) == ["ls /\r\n", "create /a 'x y'\n", "\n", "get /a"])
    }

    @Test func aLineSplitAcrossReadsIsJoinedAndEverySizeIsWhole() {
        let pipe = Pipe()
        var expected: [String] = []
        var text = ""
        for index in 0..<500 {
            let line = "create /n\(index) " + String(repeating: "é", count: index % 37) + "\n"
            expected.append(line)
            text += line
        }
        pipe.send(text)
        pipe.closeWrite()
        // Chunks of 7 bytes split lines and the two bytes of "é" between reads.
        #expect(drain(InputLines(descriptor: pipe.read, chunkSize: 7)) == expected)
    }

    @Test func completeLinesComeAtOnceWithoutWaitingForMoreInput() {
        let pipe = Pipe()
        let lines = InputLines(descriptor: pipe.read)
        pipe.send("one\ntwo\nthr")
        // The write end is still open: the complete lines are handed over without blocking.
        #expect(lines.next() == ["one\n", "two\n"])
        pipe.send("ee\n")
        #expect(lines.next() == ["three\n"])
        pipe.closeWrite()
        #expect(lines.next() == [])
        #expect(lines.next() == [])
    }
}
