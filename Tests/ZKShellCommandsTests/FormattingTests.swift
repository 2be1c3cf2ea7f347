import Foundation
import Testing
@testable import ZKShellCommands
import ZooKeeperClient

@Suite("Formatting")
struct FormattingTests {
    static let stat = Stat(
        czxid: 0x1a, mzxid: 0x2b, ctime: 0, mtime: 1_700_000_000_123, version: 3, cversion: 4, aversion: 5,
        ephemeralOwner: 0x1_0000_0abc, dataLength: 6, numChildren: 7, pzxid: 0x3c)

    @Test func statTextMatchesZkCli() {
        let text = StatFormatter.text(Self.stat, timeZone: TimeZone(identifier: "UTC")!)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 11)
        #expect(lines[0] == "cZxid = 0x1a")
        #expect(lines[1].hasPrefix("ctime = Thu Jan 01 00:00:00 "))
        #expect(lines[1].hasSuffix(" 1970"))
        #expect(lines[2] == "mZxid = 0x2b")
        #expect(lines[3].hasPrefix("mtime = Tue Nov 14 22:13:20 "))
        #expect(lines[4] == "pZxid = 0x3c")
        #expect(lines[5] == "cversion = 4")
        #expect(lines[6] == "dataVersion = 3")
        #expect(lines[7] == "aclVersion = 5")
        #expect(lines[8] == "ephemeralOwner = 0x100000abc")
        #expect(lines[9] == "dataLength = 6")
        #expect(lines[10] == "numChildren = 7")
    }

    @Test func hexIsJavaStyle() {
        #expect(StatFormatter.hex(0) == "0x0")
        #expect(StatFormatter.hex(255) == "0xff")
        #expect(StatFormatter.hex(-1) == "0xffffffffffffffff")
    }

    @Test func statJSONHasExactFieldNames() throws {
        let rendered = StatFormatter.json(Self.stat).rendered
        #expect(rendered == #"{"aversion":5,"ctime":0,"cversion":4,"czxid":26,"dataLength":6,"ephemeralOwner":4294970044,"mtime":1700000000123,"mzxid":43,"numChildren":7,"pzxid":60,"version":3}"#)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(rendered.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["czxid", "mzxid", "pzxid", "ctime", "mtime", "version", "cversion", "aversion",
                                     "ephemeralOwner", "dataLength", "numChildren"])
    }

    @Test func getJSONCarriesTextAndBase64() {
        let text = GetCommand.json(path: "/a", data: Array("hi/there".utf8), stat: Self.stat)
        guard case .object(let members) = text else { Issue.record("not an object"); return }
        #expect(members["data"] == .string("hi/there"))
        #expect(members["dataBase64"] == .string("aGkvdGhlcmU="))
        #expect(members["path"] == .string("/a"))
        #expect(text.rendered.hasPrefix(#"{"data":"hi/there","dataBase64":"aGkvdGhlcmU=","path":"/a","stat":{"#))

        let binary = GetCommand.json(path: "/b", data: [0, 1, 0xff], stat: Self.stat)
        guard case .object(let binaryMembers) = binary else { Issue.record("not an object"); return }
        #expect(binaryMembers["data"] == .null)
        #expect(binaryMembers["dataBase64"] == .string("AAH/"))
    }

    @Test func jsonEscapesStrings() {
        let value: JSONValue = ["path": "/a\"b\n", "list": ["x", 1, true, .null]]
        #expect(value.rendered == #"{"list":["x",1,true,null],"path":"\/a\"b\n"}"#.replacingOccurrences(of: "\\/", with: "/"))
    }

    @Test func printableTextRules() {
        #expect(DataRenderer.isPrintableText(Array("hello\n\tworld\r\n".utf8)))
        #expect(DataRenderer.isPrintableText(Array("grüße 🌍".utf8)))
        #expect(DataRenderer.isPrintableText([]))
        #expect(!DataRenderer.isPrintableText([0x68, 0x00]))
        #expect(!DataRenderer.isPrintableText(Array("\u{1B}[31mred".utf8)))
        #expect(!DataRenderer.isPrintableText([0xC3]))  // truncated UTF-8
        #expect(!DataRenderer.isPrintableText([0xFF, 0xFE]))
        #expect(!DataRenderer.isPrintableText(Array("\u{85}".utf8)))  // C1 control
        #expect(!DataRenderer.isPrintableText([0x7F]))
    }

    @Test func automaticRendering() {
        let text = Array("hi".utf8)
        #expect(DataRenderer.render(text, format: .automatic, toTerminal: true) == Array("hi\n".utf8))
        #expect(DataRenderer.render(text, format: .automatic, toTerminal: false) == Array("hi\n".utf8))
        let binary: [UInt8] = [0x00, 0xFF, 0x1B]
        // Never raw to a terminal...
        #expect(DataRenderer.render(binary, format: .automatic, toTerminal: true) == Array(DataRenderer.hexDump(binary).utf8))
        // ...but unchanged into a pipe or file.
        #expect(DataRenderer.render(binary, format: .automatic, toTerminal: false) == binary)
        #expect(DataRenderer.render(binary, format: .base64, toTerminal: true) == Array("AP8b\n".utf8))
        #expect(DataRenderer.render(text, format: .hexDump, toTerminal: false) == Array(DataRenderer.hexDump(text).utf8))
    }

    @Test func hexDumpLayout() {
        let dump = DataRenderer.hexDump(Array("hello".utf8) + [0x00, 0xFF] + Array("0123456789abcdef".utf8))
        #expect(dump == """
            00000000  68 65 6c 6c 6f 00 ff 30  31 32 33 34 35 36 37 38  |hello..012345678|
            00000010  39 61 62 63 64 65 66                              |9abcdef|
            00000017

            """)
        #expect(DataRenderer.hexDump([]) == "00000000\n")
    }

    @Test func singleLineRendering() {
        #expect(DataRenderer.singleLine(Array("a\nb\tc\\".utf8)) == #"a\nb\tc\\"#)
        #expect(DataRenderer.singleLine([0x00, 0xAB]) == "0x00ab")
    }

    @Test func base64() {
        #expect(DataRenderer.base64([]) == "")
        #expect(DataRenderer.base64(Array("f".utf8)) == "Zg==")
        #expect(DataRenderer.base64(Array("fo".utf8)) == "Zm8=")
        #expect(DataRenderer.base64(Array("foo".utf8)) == "Zm9v")
    }

    @Test func isoTimestamps() {
        let date = Date(timeIntervalSince1970: 1_700_000_000.123)
        #expect(StatFormatter.isoTimestamp(date, timeZone: TimeZone(identifier: "UTC")!) == "2023-11-14T22:13:20.123Z")
        #expect(StatFormatter.isoTimestamp(date, timeZone: TimeZone(secondsFromGMT: 7200)!) == "2023-11-15T00:13:20.123+02:00")
    }

    @Test func exitStatusMapping() {
        #expect(ExitStatus(for: UsageError(message: "x")) == .usage)
        #expect(ExitStatus(for: ShellError("x")) == .failure)
        #expect(ExitStatus(for: ZooKeeperError(.noNode, path: "/a")) == .failure)
        #expect(ExitStatus(for: CancellationError()) == .interrupted)
        #expect(ExitStatus.success.rawValue == 0)
        #expect(ExitStatus.failure.rawValue == 1)
        #expect(ExitStatus.usage.rawValue == 2)
        #expect(ExitStatus.interrupted.rawValue == 130)
        #expect(max(ExitStatus.failure, .usage) == .usage)
    }

    @Test func errorsEscapeControlCharacters() {
        #expect(ShellContext.escapingControlCharacters("/a\u{0}b\u{1B}[31m\tok") == "/a\\u{0}b\\u{1b}[31m\tok")
    }

    @Test func conciseConnectFailures() {
        let detail = "could not connect to 127.0.0.1:1 (127.0.0.1:1: Connection errors: SingleConnectionFailure(target: [IPv4]127.0.0.1/127.0.0.1:1, error: connection reset (error set): Connection refused) (errno: 111)))"
        #expect(ShellContext.conciseConnectFailure(detail, servers: "127.0.0.1:1") == "could not connect to 127.0.0.1:1 (connection refused)")
        #expect(ShellContext.conciseConnectFailure("could not connect to h:1", servers: "h:1") == "could not connect to h:1 (timed out)")
        #expect(ShellContext.conciseConnectFailure("could not connect to h:1 (odd (reason))", servers: "h:1") == "could not connect to h:1 (odd (reason))")
    }
}
