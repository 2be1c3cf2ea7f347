import Dispatch
import Foundation

/// Runs a `--keep-going` script's commands without waiting for each reply before sending the
/// next request, and prints their output in script order.
///
/// Only commands that send exactly one request (``ShellCommand/sendsOneRequest``) are
/// pipelined, and only once a session is open; any other command waits until every pipelined
/// command before it has finished, then runs alone. ZooKeeper answers one session's requests in
/// the order they were sent, so the results are those of running the script one command at a
/// time: pipelining starts each command's task on one serial executor in script order, and a
/// single-request command reaches its request before it first suspends, so requests leave in
/// script order. Without `--keep-going` scripts stop at the first failure, which rules out
/// sending later commands before an earlier one has succeeded; they are not pipelined.
final class ScriptPipeline: @unchecked Sendable {
    /// At most this many pipelined commands wait for their replies at once.
    static let window = 1_000

    private let runner: ShellRunner
    private let context: ShellContext
    private let executor = SerialTaskExecutor(label: "zksh.script-pipeline")
    private let output: OrderedOutput
    private var inFlight: [Task<ExitStatus, Never>] = []
    private var oldest = 0

    init(runner: ShellRunner) {
        self.runner = runner
        self.context = runner.context
        self.output = OrderedOutput(destination: runner.context.output)
    }

    /// Runs what ``ShellRunner/parse(_:)`` made of a line: pipelined when it is a command that
    /// sends one request, otherwise alone after the commands before it. Returns the command's
    /// status if it ran alone; a pipelined command's status is collected by ``drain()``.
    func run(parsed: Result<CommandRegistry.Parsed, UsageError>) async -> ExitStatus {
        guard context.lineEditor == nil, context.currentClient != nil,
              case .success(.command(let command)) = parsed, command.sendsOneRequest
        else {
            return await runAlone(parsed)
        }
        var worst = ExitStatus.success
        if inFlight.count - oldest >= Self.window {
            worst = await inFlight[oldest].value
            oldest += 1
        }
        let ticket = output.reserve()
        let recorder = RecordingOutputWriter(like: context.output)
        let commandContext = context.redirectingOutput(to: recorder)
        let runner = self.runner
        let output = self.output
        inFlight.append(Task(executorPreference: executor) {
            let status: ExitStatus
            do {
                try await command.run(in: commandContext)
                status = .success
            } catch {
                runner.report(error, in: commandContext)
                status = ExitStatus(for: error)
            }
            output.finish(ticket, recorder.chunks)
            return status
        })
        return worst
    }

    /// Runs `words` alone once every pipelined command before it has finished.
    func runAlone(_ words: [String]) async -> ExitStatus {
        await runAlone(runner.parse(words))
    }

    func runAlone(_ parsed: Result<CommandRegistry.Parsed, UsageError>) async -> ExitStatus {
        let drained = await drain()
        return max(drained, await runner.execute(parsed: parsed))
    }

    /// Waits for every pipelined command; their worst status.
    func drain() async -> ExitStatus {
        var worst = ExitStatus.success
        while oldest < inFlight.count {
            worst = max(worst, await inFlight[oldest].value)
            oldest += 1
        }
        inFlight.removeAll(keepingCapacity: true)
        oldest = 0
        return worst
    }
}

/// Runs jobs one at a time in the order they were enqueued, on one dispatch queue: tasks
/// started with it as their executor preference begin in the order they were created.
final class SerialTaskExecutor: TaskExecutor, @unchecked Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        self.queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}

/// Output of commands that finish out of turn, written to `destination` in the order their
/// turns were taken (``reserve()``): each command's output as soon as every earlier command's
/// has been written, consecutive writes to one stream joined into one.
final class OrderedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private let destination: any OutputWriter
    private var reserved = 0
    private var nextToWrite = 0
    private var finished: [Int: [RecordingOutputWriter.Chunk]] = [:]

    init(destination: any OutputWriter) {
        self.destination = destination
    }

    /// The next turn.
    func reserve() -> Int {
        lock.withLock {
            defer { reserved += 1 }
            return reserved
        }
    }

    /// The command that took `turn` finished with this output.
    func finish(_ turn: Int, _ chunks: [RecordingOutputWriter.Chunk]) {
        lock.withLock {
            finished[turn] = chunks
            var pending: [RecordingOutputWriter.Chunk] = []
            while let chunks = finished.removeValue(forKey: nextToWrite) {
                for chunk in chunks {
                    if let last = pending.last, last.isError == chunk.isError {
                        pending[pending.count - 1].bytes += chunk.bytes
                    } else {
                        pending.append(chunk)
                    }
                }
                nextToWrite += 1
            }
            // Written under the lock: the next turn's output must not overtake this.
            for chunk in pending {
                if chunk.isError { destination.writeError(chunk.bytes) } else { destination.writeOutput(chunk.bytes) }
            }
        }
    }
}

/// Keeps what a command writes, in order, for writing later.
final class RecordingOutputWriter: OutputWriter, @unchecked Sendable {
    struct Chunk: Sendable {
        var isError: Bool
        var bytes: [UInt8]
    }

    private let lock = NSLock()
    private var recorded: [Chunk] = []
    let outputIsTerminal: Bool
    let errorIsTerminal: Bool

    /// A recorder that reports the same terminals as `writer`, so output is formatted as for it.
    init(like writer: any OutputWriter) {
        self.outputIsTerminal = writer.outputIsTerminal
        self.errorIsTerminal = writer.errorIsTerminal
    }

    func writeOutput(_ bytes: [UInt8]) { lock.withLock { recorded.append(Chunk(isError: false, bytes: bytes)) } }
    func writeError(_ bytes: [UInt8]) { lock.withLock { recorded.append(Chunk(isError: true, bytes: bytes)) } }

    var chunks: [Chunk] { lock.withLock { recorded } }
}
