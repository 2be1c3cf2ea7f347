import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings shared by ``ApacheZooKeeperServer`` and ``ApacheZooKeeperEnsemble``.
///
/// The defaults keep session timeouts short (a 500 ms tick allows sessions of 1 to 30 s), allow
/// every four-letter word, turn off the AdminServer (it would need another port), enable TTL
/// nodes (`zookeeper.extendedTypesEnabled=true`) and set up the digest superuser
/// `super:admin` (``ApacheZooKeeperServer/superUser``, ``ApacheZooKeeperServer/superPassword``).
public struct ApacheZooKeeperConfiguration: Sendable {
    /// `tickTime` in milliseconds.
    public var tickTime: Int = 500
    /// `minSessionTimeout` in milliseconds.
    public var minSessionTimeout: Int = 1_000
    /// `maxSessionTimeout` in milliseconds.
    public var maxSessionTimeout: Int = 30_000
    /// Extra `key=value` lines for `zoo.cfg`, written after the harness's own (a later line wins).
    public var extraConfiguration: [String: String] = [:]
    /// Extra JVM options, such as `-Dzookeeper.maxCnxns=10`, placed after the harness's own.
    public var extraJVMOptions: [String] = []
    /// Extra jars appended to the server's classpath (Netty's, say, for
    /// `NettyServerCnxnFactory`, which the Debian package's classpath lacks). Ignored by `zksh serve`.
    public var extraClasspath: [String] = []
    /// How long a start (or restart) may take before it fails.
    public var startupTimeout: Duration = .seconds(60)
    /// How long `stop()` waits after SIGTERM before sending SIGKILL.
    public var stopGracePeriod: Duration = .seconds(10)

    public init() {}
}

/// The digest of `super:admin` (base64 of its SHA-1), for `DigestAuthenticationProvider.superDigest`.
let superDigest = "super:xQJmxLMiHGwaqBvst5y6rkB6HQs="

/// Set `ZKSH_KEEP_ZOOKEEPER_DIRS=1` to keep the servers' temporary directories (logs, data) for debugging.
var keepTemporaryDirectories: Bool {
    let value = ProcessInfo.processInfo.environment["ZKSH_KEEP_ZOOKEEPER_DIRS"] ?? ""
    return !value.isEmpty && value != "0"
}

/// Makes a new, empty temporary directory named `prefix-<pid>-<random>`.
///
/// Directories with the same prefix left by test processes that no longer exist (a crash skips
/// the cleanup) are removed first, unless `ZKSH_KEEP_ZOOKEEPER_DIRS` is set.
func makeTemporaryDirectory(prefix: String) throws -> URL {
    removeStaleTemporaryDirectories(prefix: prefix)
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("\(prefix)-\(getpid())-\(UUID().uuidString.prefix(8))", isDirectory: true)
    do {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    } catch {
        throw TestSupportError("cannot create temporary directory \(url.path): \(error)")
    }
    return url
}

private func removeStaleTemporaryDirectories(prefix: String) {
    if keepTemporaryDirectories { return }
    let fileManager = FileManager.default
    let parent = fileManager.temporaryDirectory
    guard let names = try? fileManager.contentsOfDirectory(atPath: parent.path) else { return }
    for name in names where name.hasPrefix(prefix + "-") {
        let rest = name.dropFirst(prefix.count + 1)
        guard let dash = rest.firstIndex(of: "-"), let pid = pid_t(rest[..<dash]) else { continue }
        if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH {
            try? fileManager.removeItem(at: parent.appendingPathComponent(name))
        }
    }
}

/// One ZooKeeper server process reading a `zoo.cfg`: an Apache ZooKeeper JVM (`QuorumPeerMain`)
/// or `zksh serve`. Its directory, configuration files and process.
///
/// Layout of `directory`:
/// ```
/// conf/zoo.cfg            written by the owner before launch()
/// conf/log4j.properties   logs to standard output (JVM only)
/// conf/logback.xml        the same for logback (upstream tarballs; JVM only)
/// data/                   dataDir (and myid in an ensemble)
/// server.log              standard output and error of every run, appended
/// ```
final class ZooKeeperServerProcess: @unchecked Sendable {
    /// Which server program runs the configuration.
    enum Program: Sendable {
        /// Apache ZooKeeper's `QuorumPeerMain` in a JVM.
        case apacheZooKeeper(ZooKeeperInstallation)
        /// `zksh serve zoo.cfg`; the path of the `zksh` executable.
        case zksh(executable: String)
    }

    let name: String
    let directory: URL
    let clientPort: Int
    let configuration: ApacheZooKeeperConfiguration
    let program: Program

    var configurationDirectory: URL { directory.appendingPathComponent("conf", isDirectory: true) }
    var configurationFile: URL { configurationDirectory.appendingPathComponent("zoo.cfg") }
    var dataDirectory: URL { directory.appendingPathComponent("data", isDirectory: true) }
    var logFile: URL { directory.appendingPathComponent("server.log") }

    private struct Running {
        var process: Process?
        var watchdog: Process?
    }
    private let running = LockedValue(Running())

    /// Creates the directory layout and writes the logging configuration. The caller writes zoo.cfg.
    convenience init(
        name: String,
        directory: URL,
        clientPort: Int,
        configuration: ApacheZooKeeperConfiguration,
        installation: ZooKeeperInstallation
    ) throws {
        try self.init(
            name: name, directory: directory, clientPort: clientPort, configuration: configuration,
            program: .apacheZooKeeper(installation))
    }

    /// Creates the directory layout (and, for a JVM, the logging configuration). The caller writes zoo.cfg.
    init(
        name: String,
        directory: URL,
        clientPort: Int,
        configuration: ApacheZooKeeperConfiguration,
        program: Program
    ) throws {
        self.name = name
        self.directory = directory
        self.clientPort = clientPort
        self.configuration = configuration
        self.program = program
        let fileManager = FileManager.default
        do {
            try fileManager.createDirectory(at: configurationDirectory, withIntermediateDirectories: true)
            try fileManager.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
            if case .apacheZooKeeper = program {
                try Self.log4jProperties.write(
                    to: configurationDirectory.appendingPathComponent("log4j.properties"), atomically: true, encoding: .utf8)
                try Self.logbackXML.write(
                    to: configurationDirectory.appendingPathComponent("logback.xml"), atomically: true, encoding: .utf8)
            }
        } catch {
            throw TestSupportError("cannot set up \(directory.path): \(error)")
        }
    }

    /// The standard zoo.cfg lines; the owner adds `server.N` lines for an ensemble.
    ///
    /// For `zksh serve` the settings a JVM gets as system properties (TTL nodes, the superuser)
    /// are written into zoo.cfg, where `zksh serve` reads them.
    func standardConfigurationLines() -> [String] {
        var lines = [
            "tickTime=\(configuration.tickTime)",
            "initLimit=20",
            "syncLimit=10",
            "dataDir=\(dataDirectory.path)",
            "clientPort=\(clientPort)",
            "clientPortAddress=127.0.0.1",
            "minSessionTimeout=\(configuration.minSessionTimeout)",
            "maxSessionTimeout=\(configuration.maxSessionTimeout)",
            "4lw.commands.whitelist=*",
            "admin.enableServer=false",
            "maxClientCnxns=0",
        ]
        if case .zksh = program {
            lines += [
                "extendedTypesEnabled=true",
                "DigestAuthenticationProvider.superDigest=\(superDigest)",
            ]
        }
        for (key, value) in configuration.extraConfiguration.sorted(by: { $0.key < $1.key }) {
            lines.append("\(key)=\(value)")
        }
        return lines
    }

    func writeConfiguration(_ lines: [String]) throws {
        do {
            try (lines.joined(separator: "\n") + "\n").write(to: configurationFile, atomically: true, encoding: .utf8)
        } catch {
            throw TestSupportError("cannot write \(configurationFile.path): \(error)")
        }
    }

    /// The full command line: `java … QuorumPeerMain zoo.cfg` or `zksh serve zoo.cfg`.
    var commandLine: [String] {
        let installation: ZooKeeperInstallation
        switch program {
        case .apacheZooKeeper(let javaInstallation):
            installation = javaInstallation
        case .zksh(let executable):
            return [executable, "serve", configurationFile.path]
        }
        let classpath = ([configurationDirectory.path] + installation.classpath + configuration.extraClasspath).joined(separator: ":")
        return [
            installation.javaPath,
            // Small, quick-starting JVMs: tests run several at once on small machines.
            "-Xms16m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
            "-Djava.net.preferIPv4Stack=true",
            "-Dzookeeper.log.dir=\(directory.path)",
            "-Dzookeeper.log.file=server.log",
            "-Dzookeeper.root.logger=INFO,CONSOLE",
            "-Dlog4j.configuration=file:\(configurationDirectory.path)/log4j.properties",
            "-Dlogback.configurationFile=\(configurationDirectory.path)/logback.xml",
            "-Dzookeeper.jmx.log4j.disable=true",
            "-Dzookeeper.admin.enableServer=false",
            "-Dzookeeper.extendedTypesEnabled=true",
            "-Dzookeeper.DigestAuthenticationProvider.superDigest=\(superDigest)",
        ] + configuration.extraJVMOptions + [
            "-cp", classpath,
            "org.apache.zookeeper.server.quorum.QuorumPeerMain",
            configurationFile.path,
        ]
    }

    var isRunning: Bool {
        running.withLock { $0.process?.isRunning ?? false }
    }

    /// The process's exit status, or nil if it is running or was never started.
    var exitStatus: Int32? {
        running.withLock { state in
            guard let process = state.process, !process.isRunning else { return nil }
            return process.terminationStatus
        }
    }

    /// Starts the server process. Its output is appended to `server.log`. Does not wait for it to serve.
    ///
    /// A small shell watchdog is started beside it that SIGKILLs the server if this test process
    /// dies without stopping it (a crash, a kill, or a test run that ends while a server is still
    /// referenced), so no server outlives the tests by more than about a second.
    func launch() throws {
        try running.withLock { state in
            if let process = state.process, process.isRunning {
                throw TestSupportError("\(name) is already running (pid \(process.processIdentifier))")
            }
            let fileManager = FileManager.default
            if !fileManager.fileExists(atPath: logFile.path) {
                _ = fileManager.createFile(atPath: logFile.path, contents: nil)
            }
            guard let log = FileHandle(forWritingAtPath: logFile.path) else {
                throw TestSupportError("cannot open \(logFile.path) for writing")
            }
            defer { try? log.close() }
            _ = try? log.seekToEnd()
            let command = commandLine
            let banner = "=== zksh test harness: starting \(name) at \(Date()) ===\n\(command.joined(separator: " "))\n"
            try? log.write(contentsOf: Data(banner.utf8))

            let process = Process()
            process.executableURL = URL(fileURLWithPath: command[0])
            process.arguments = Array(command.dropFirst())
            process.currentDirectoryURL = directory
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = log
            process.standardError = log
            do {
                try process.run()
            } catch {
                let hint: String
                switch program {
                case .apacheZooKeeper: hint = ZooKeeperInstallation.installHint
                case .zksh: hint = "Build it first (swift build)."
                }
                throw TestSupportError("cannot launch \(command[0]) for \(name): \(error). \(hint)")
            }
            state.process = process

            let watchdog = Process()
            watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
            watchdog.arguments = [
                "-c", Self.watchdogScript,
                "zookeeper-watchdog", String(getpid()), String(process.processIdentifier),
            ]
            watchdog.standardInput = FileHandle.nullDevice
            watchdog.standardOutput = FileHandle.nullDevice
            watchdog.standardError = FileHandle.nullDevice
            try? watchdog.run()
            state.watchdog = watchdog
        }
    }

    /// Loops while the JVM ($2) runs and the test process ($1) is alive, then SIGKILLs the JVM.
    /// A test process that is a zombie counts as dead: its parent may be gone too, and an init
    /// process that does not reap would keep it around for ever.
    private static let watchdogScript = """
        alive() {
            kill -0 "$1" 2>/dev/null || return 1
            [ -r "/proc/$1/stat" ] || return 0
            case "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" in
                Z|X|"") return 1 ;;
            esac
        }
        while alive "$1" && alive "$2"; do sleep 1; done
        kill -9 "$2" 2>/dev/null
        """

    /// Sends SIGTERM and waits for the JVM to exit; sends SIGKILL after the grace period.
    func terminate() {
        signalAndWait(SIGTERM, upTo: configuration.stopGracePeriod)
        signalAndWait(SIGKILL, upTo: .seconds(10))
    }

    /// Sends SIGKILL and waits (briefly) until the process is gone.
    func kill() {
        signalAndWait(SIGKILL, upTo: .seconds(10))
    }

    /// Sends `signal` to the JVM if it is running; does not wait.
    func signal(_ signal: Int32) {
        guard let process = running.withLock({ $0.process }), process.isRunning else { return }
        _ = sendSignal(process.processIdentifier, signal)
    }

    private func signalAndWait(_ signal: Int32, upTo limit: Duration) {
        guard let process = running.withLock({ $0.process }), process.isRunning else { return }
        _ = sendSignal(process.processIdentifier, signal)
        let deadline = ContinuousClock.now.advanced(by: limit)
        while process.isRunning && ContinuousClock.now < deadline {
            usleep(20_000)
        }
    }

    /// The last `count` lines of `server.log`.
    func logTail(_ count: Int = 40) -> String {
        guard let data = FileManager.default.contents(atPath: logFile.path) else { return "(no log at \(logFile.path))" }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        return "(\(logFile.path))\n" + lines.suffix(count).joined(separator: "\n")
    }

    /// Whether the log shows that a port was taken, which a retry with new ports can fix.
    var logShowsBindFailure: Bool {
        guard let data = FileManager.default.contents(atPath: logFile.path) else { return false }
        let text = String(decoding: data, as: UTF8.self)
        return text.contains("Address already in use") || text.contains("BindException")
    }

    /// Waits until the server answers `ruok` with `imok` and `srvr` reports a mode.
    ///
    /// - Returns: the mode (`standalone`, `leader`, `follower`, `observer`).
    /// - Throws: if the JVM exits, or the server does not serve within `timeout`; the error carries
    ///   the end of the server log.
    @discardableResult
    func waitUntilServing(timeout: Duration) async throws -> String {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var lastAnswer = "(no answer yet)"
        while true {
            if !isRunning {
                throw TestSupportError(
                    "\(name) (client port \(clientPort)) exited with status \(exitStatus.map(String.init) ?? "?") before serving",
                    details: logTail())
            }
            do {
                let ruok = try fourLetterWord("ruok", port: clientPort, timeout: .seconds(2))
                if ruok == "imok" {
                    let srvr = try fourLetterWord("srvr", port: clientPort, timeout: .seconds(2))
                    if let mode = parseMode(fromSrvr: srvr) { return mode }
                    lastAnswer = "srvr: \(srvr.trimmingCharacters(in: .whitespacesAndNewlines))"
                } else {
                    lastAnswer = "ruok: \(ruok)"
                }
            } catch {
                lastAnswer = "\(error)"
            }
            if ContinuousClock.now >= deadline {
                throw TestSupportError(
                    "\(name) (client port \(clientPort)) did not serve within \(timeout); last answer: \(lastAnswer)",
                    details: logTail())
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The mode that `srvr` reports now, or nil if the server is down or not serving.
    func currentMode() -> String? {
        guard let srvr = try? fourLetterWord("srvr", port: clientPort, timeout: .seconds(2)) else { return nil }
        return parseMode(fromSrvr: srvr)
    }

    /// Makes a standalone server in a new temporary directory, launches it and waits until it
    /// serves. A port taken before the server binds it is retried with a new port (up to three
    /// attempts); on failure the directory is removed and the error (with the log's end) thrown.
    static func startStandalone(
        name: String, directoryPrefix: String, configuration: ApacheZooKeeperConfiguration, program: Program
    ) async throws -> ZooKeeperServerProcess {
        var attempt = 1
        while true {
            let node = try ZooKeeperServerProcess(
                name: name,
                directory: try makeTemporaryDirectory(prefix: directoryPrefix),
                clientPort: try freeLoopbackPort(),
                configuration: configuration,
                program: program)
            do {
                try node.writeConfiguration(node.standardConfigurationLines())
                try node.launch()
                try await node.waitUntilServing(timeout: configuration.startupTimeout)
                return node
            } catch {
                let retry = attempt < 3 && node.logShowsBindFailure
                node.kill()
                if !keepTemporaryDirectories { node.removeDirectory() }
                if !retry { throw error }
                attempt += 1
            }
        }
    }

    func removeDirectory() {
        try? FileManager.default.removeItem(at: directory)
    }

    private static let log4jProperties = """
        # Written by ZooKeeperTestSupport: everything to standard output, which goes to server.log.
        log4j.rootLogger=INFO, CONSOLE
        log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
        log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
        log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n

        """

    private static let logbackXML = """
        <!-- Written by ZooKeeperTestSupport: everything to standard output, which goes to server.log. -->
        <configuration>
          <appender name="CONSOLE" class="ch.qos.logback.core.ConsoleAppender">
            <encoder><pattern>%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n</pattern></encoder>
          </appender>
          <root level="INFO"><appender-ref ref="CONSOLE"/></root>
        </configuration>

        """
}

/// The value of the `Mode:` line of a `srvr` or `stat` reply, if there is one.
func parseMode(fromSrvr reply: String) -> String? {
    for line in reply.split(separator: "\n") where line.hasPrefix("Mode:") {
        let mode = line.dropFirst("Mode:".count).trimmingCharacters(in: .whitespaces)
        return mode.isEmpty ? nil : mode
    }
    return nil
}

/// `kill(2)`, under a name that does not clash with the `kill()` methods.
@inline(__always)
func sendSignal(_ pid: pid_t, _ signal: Int32) -> Int32 {
    kill(pid, signal)
}
