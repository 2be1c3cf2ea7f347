import Testing
@testable import ZKShellCommands

/// The pipelined script's output: written in turn order whatever order commands finish in.
@Suite("script pipeline: ordered output")
struct OrderedOutputTests {
    @Test func outputIsWrittenInTurnOrderAndJoined() {
        let destination = BufferOutputWriter()
        let output = OrderedOutput(destination: destination)
        let turns = (0..<4).map { _ in output.reserve() }
        #expect(turns == [0, 1, 2, 3])
        let chunk = { (text: String, isError: Bool) in RecordingOutputWriter.Chunk(isError: isError, bytes: Array(text.utf8)) }
        output.finish(2, [chunk("c\n", false)])
        output.finish(1, [chunk("b\n", false), chunk("zksh: b failed\n", true)])
        #expect(destination.outputText.isEmpty)  // turn 0 has not finished
        output.finish(0, [chunk("a\n", false)])
        #expect(destination.outputText == "a\nb\nc\n")
        #expect(destination.errorText == "zksh: b failed\n")
        output.finish(3, [])
        #expect(destination.outputText == "a\nb\nc\n")
    }

    @Test func onlySingleRequestCommandsArePipelined() throws {
        func parse(_ line: String) throws -> any ShellCommand {
            guard case .command(let command) = try CommandRegistry.standard.parse(line.split(separator: " ").map(String.init)) else {
                throw UsageError(message: "not a command: \(line)")
            }
            return command
        }
        for line in ["create /a x", "delete /a", "set /a x", "get /a", "stat /a", "exists /a", "ls /a", "ls -s /a", "sync /a", "getAcl /a"] {
            #expect(try parse(line).sendsOneRequest, "\(line)")
        }
        for line in ["create -p /a/b", "set /a", "get -w /a", "stat -w /a", "ls -R /a", "ls -w /a", "deleteall /a", "cd /a", "txn", "connect 127.0.0.1:1"] {
            #expect(try !parse(line).sendsOneRequest, "\(line)")
        }
    }
}
