import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix

/// `zksh serve`: a ZooKeeper-compatible server, standalone or a member of an ensemble.
///
/// A drop-in for `QuorumPeerMain zoo.cfg` (`zksh serve zoo.cfg` or `--config zoo.cfg`), or quick
/// use without a file (`zksh serve --port 2181 --data-dir /tmp/zk`). Runs until SIGTERM/SIGINT,
/// then stops accepting, makes pending log writes durable and exits 0.
public struct ServeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "zksh serve",
        abstract: "Run a ZooKeeper-compatible server, standalone or as an ensemble member.",
        discussion: """
            Reads a zoo.cfg as Apache ZooKeeper does (dataDir, dataLogDir, clientPort, \
            clientPortAddress, tickTime, session timeouts, maxClientCnxns, snapCount, autopurge.*, \
            4lw.commands.whitelist, jute.maxbuffer, superDigest, JAAS users, …), or runs from \
            --port and --data-dir alone. With several server.N lines and a myid file in dataDir, \
            the server joins that ensemble as ZooKeeper's QuorumPeerMain would (leader election, \
            Zab replication; initLimit, syncLimit, readonlymode.enabled, observers); members talk \
            to each other in zksh's own format, so an ensemble is all zksh or all Apache ZooKeeper.

            Examples:
              zksh serve conf/zoo.cfg
              zksh serve --port 2181 --data-dir /tmp/zk --four-letter-words '*'
            """)

    @Option(name: .customLong("config"), help: ArgumentHelp("A zoo.cfg file.", valueName: "file"))
    var configOption: String?

    @Argument(help: ArgumentHelp("A zoo.cfg file (as for QuorumPeerMain).", valueName: "zoo.cfg"))
    var configArgument: String?

    @Option(help: "Client port (without a config file).")
    var port: Int?

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Data directory (without a config file).", valueName: "dir"))
    var dataDir: String?

    @Option(name: .customLong("data-log-dir"), help: ArgumentHelp("Transaction log directory (default: the data directory).", valueName: "dir"))
    var dataLogDir: String?

    @Option(help: "Address to listen on (without a config file).")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("tick-time"), help: ArgumentHelp("tickTime in milliseconds (without a config file).", valueName: "ms"))
    var tickTime: Int = 2000

    @Option(name: .customLong("four-letter-words"), help: ArgumentHelp("4lw.commands.whitelist (without a config file); '*' for all.", valueName: "list"))
    var fourLetterWords: String?

    @Option(name: .customLong("log-file"), help: ArgumentHelp("Append log lines to this file instead of standard error.", valueName: "path"))
    var logFile: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: String = "info"

    @Flag(name: .customLong("exit-with-parent"), help: .hidden)
    var exitWithParent = false

    public init() {}

    public func validate() throws {
        if configOption != nil && configArgument != nil {
            throw ValidationError("give the configuration file once (--config FILE or FILE)")
        }
        let config = configOption ?? configArgument
        if config == nil {
            if port == nil || dataDir == nil { throw ValidationError("give a zoo.cfg, or --port and --data-dir") }
        }
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
        if tickTime <= 0 { throw ValidationError("--tick-time must be positive") }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    /// The settings from the configuration file or the quick-use options.
    func makeSettings(logger: Logger) throws -> ServerSettings {
        if let path = configOption ?? configArgument {
            let file = try ZooKeeperConfigurationFile.load(path: path)
            for (key, line) in file.ignoredKeys {
                logger.notice("\(path):\(line): \(key) is not used by this server; ignored")
            }
            var settings = try file.serverSettings()
            if let port { settings.port = port }
            settings.exitWithParent = exitWithParent
            return settings
        }
        var settings = ServerSettings(host: host, port: port!, dataDirectory: dataDir!, dataLogDirectory: dataLogDir)
        settings.core.tickTime = tickTime
        settings.fourLetterWords = FourLetterWordWhitelist(fourLetterWords)
        settings.exitWithParent = exitWithParent
        return settings
    }

    public func run() throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let sink: LogSink
        if let logFile {
            guard let handle = FileHandle(forWritingAtPath: logFile) ?? {
                _ = FileManager.default.createFile(atPath: logFile, contents: nil)
                return FileHandle(forWritingAtPath: logFile)
            }() else {
                throw ValidationError("cannot open the log file \(logFile)")
            }
            handle.seekToEndOfFile()
            sink = LogSink(handle: handle)
        } else {
            sink = LogSink(handle: .standardError)
        }
        var logger = Logger(label: "zksh.server") { label in LineLogHandler(label: label, sink: sink) }
        logger.logLevel = level

        let settings: ServerSettings
        do {
            settings = try makeSettings(logger: logger)
        } catch {
            logger.critical("invalid configuration: \(error)")
            throw ExitCode(2)
        }
        let status = ZooKeeperServerMain.run(settings: settings, logger: logger)
        if status != 0 { throw ExitCode(status) }
    }
}

/// Starts a driver, installs the signal handlers and blocks until the server stops.
public enum ZooKeeperServerMain {
    /// - Returns: the exit status: 0 after SIGTERM/SIGINT, 1 after a storage failure or when the
    ///   server could not start.
    public static func run(settings: ServerSettings, logger: Logger) -> Int32 {
        ServerDriver.configureAllocator()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let driver: ServerDriver
        do {
            driver = try ServerDriver(settings: settings, loop: group.next(), logger: logger)
        } catch {
            logger.critical("cannot start: \(error)")
            return 1
        }
        let address: SocketAddress
        do {
            address = try driver.start()
        } catch {
            logger.critical("cannot listen on \(settings.host):\(settings.port): \(error)")
            driver.stop(status: 1)
            _ = try? driver.stoppedFuture.wait()
            return 1
        }
        logger.info("serving on \(address) (\(settings.quorum.map { "member \($0.myid) of an ensemble of \($0.members.count)" } ?? "standalone")), dataDir \(settings.dataDirectory), dataLogDir \(settings.dataLogDirectory)")

        var sources: [DispatchSourceSignal] = []
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                logger.info("received signal \(signalNumber)")
                driver.stop(status: 0)
            }
            source.resume()
            sources.append(source)
        }
        var parentWatch: DispatchSourceTimer?
        if settings.exitWithParent {
            // Members a shell started must not outlive it.
            let parent = getppid()
            let timer = DispatchSource.makeTimerSource(queue: .global())
            timer.schedule(deadline: .now() + .milliseconds(200), repeating: .milliseconds(200))
            timer.setEventHandler {
                if getppid() != parent {
                    logger.notice("the process that started this server is gone; stopping")
                    driver.stop(status: 0)
                }
            }
            timer.resume()
            parentWatch = timer
        }
        defer { parentWatch?.cancel() }
        let status = (try? driver.stoppedFuture.wait()) ?? 1
        sources.forEach { $0.cancel() }
        logger.info("stopped")
        return status
    }
}

/// Where log lines go; writes are serialised.
final class LogSink: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()
    init(handle: FileHandle) { self.handle = handle }
    func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        handle.write(Data(line.utf8))
    }
}

/// One line per message: `2025-01-01T12:00:00.123Z INFO zksh.server: message key=value`.
struct LineLogHandler: LogHandler {
    var label: String
    let sink: LogSink
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    init(label: String, sink: LogSink) {
        self.label = label
        self.sink = sink
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let level = event.level
        let message = event.message
        let fields = merged.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        let timestamp = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
        sink.write("\(timestamp) \(level.rawValue.uppercased()) \(label): \(message)\(fields)\n")
    }
}
