import ArgumentParser
import Foundation
import ZooKeeperClient

/// The `--json` flag shared by commands that print results.
public struct OutputOptions: ParsableArguments, Sendable {
    @Flag(help: "Print the result as one JSON document (the same as zksh --json).")
    public var json = false

    public init() {}

    /// Whether to print JSON: this flag or the shell's `--json`.
    func wantsJSON(_ context: ShellContext) -> Bool { json || context.json }
}

extension ShellContext {
    /// Standard input as data for `set PATH` without DATA.
    ///
    /// - Throws: ``UsageError`` when standard input is a terminal or carries the script itself.
    func readDataFromStandardInput() async throws -> [UInt8] {
        if standardInput.isScriptSource {
            throw UsageError(message: "DATA is required when the script is read from standard input")
        }
        if standardInput.isTerminal {
            throw UsageError(message: "missing DATA (give it as an argument, or pipe it on standard input)")
        }
        let read = standardInput.readAll
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try read() })
            }
        }
    }
}

extension ZooKeeperError {
    /// Whether this is a "node does not exist" error.
    var isNoNode: Bool { code == .noNode }
}
