import Foundation
import LineEditor
import Logging
import NIOCore
import ZooKeeperClient

/// Everything a command can use: the session, the current directory, output, options.
///
/// One context lives for the whole shell. Commands run one at a time, but background tasks
/// (session notices, watch notices, completion) read it concurrently, so its mutable state is
/// behind a lock. `main` creates it and owns the event loop group passed in.
public final class ShellContext: @unchecked Sendable {
    /// Settings from the command line.
    public struct Options: Sendable {
        /// Servers to connect to (`h1:p1,h2:p2[/chroot]`).
        public var connectString: String
        /// Write each result as one JSON document.
        public var json: Bool = false
        /// Report connection changes on standard error even in scripts.
        public var verbose: Bool = false
        /// How long a connect may take before it fails.
        public var connectTimeout: Duration = .seconds(10)
        /// The session timeout to ask the server for.
        public var sessionTimeout: Duration = .seconds(30)
        /// The zone for times in stats and watch events.
        public var timeZone: TimeZone = .current
        /// Credentials sent when a session opens and after every reconnect (`--auth`).
        public var credentials: [Credential] = []
        /// TLS for every connection (`--tls`, `--tls-ca`, `--tls-cert`, `--tls-key`).
        public var tls: ZooKeeperClient.TLSOptions?
        /// SASL DIGEST-MD5 login run on every connection (`--sasl user:password`).
        public var sasl: SASLCredential?
        /// When to colour the output (`--color`, `--no-color`).
        public var color: ColorMode = .auto

        public init(connectString: String) {
            self.connectString = connectString
        }
    }

    /// An authentication to send when a session opens (`digest` with `user:password`).
    public struct Credential: Equatable, Sendable {
        public var scheme: String
        public var auth: [UInt8]

        public init(scheme: String, auth: [UInt8]) {
            self.scheme = scheme
            self.auth = auth
        }
    }

    /// A SASL DIGEST-MD5 login (`--sasl user:password`).
    public struct SASLCredential: Equatable, Sendable {
        public var username: String
        public var password: String

        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }
    }

    /// The shell's standard input, for commands that read data from it (`set PATH` without DATA).
    public struct StandardInput: Sendable {
        /// Whether standard input is a terminal (then nothing is read from it).
        public var isTerminal: Bool
        /// Whether the script itself is read from standard input (then it holds no data).
        public var isScriptSource: Bool
        /// Reads standard input to its end.
        public var readAll: @Sendable () throws -> [UInt8]

        public init(isTerminal: Bool, isScriptSource: Bool, readAll: @escaping @Sendable () throws -> [UInt8]) {
            self.isTerminal = isTerminal
            self.isScriptSource = isScriptSource
            self.readAll = readAll
        }

        /// The process's standard input.
        public static func process(isScriptSource: Bool) -> StandardInput {
            StandardInput(isTerminal: isatty(STDIN_FILENO) == 1, isScriptSource: isScriptSource) {
                Array(FileHandle.standardInput.readDataToEndOfFile())
            }
        }

        /// No input: a terminal, so commands never wait for it.
        public static let none = StandardInput(isTerminal: true, isScriptSource: false) { [] }
    }

    public let options: Options
    /// Where results and diagnostics go.
    public let output: any OutputWriter
    public let standardInput: StandardInput
    /// The commands this shell knows (for `help` and completion).
    public let registry: CommandRegistry
    /// The event loop group the clients run on; owned by `main`.
    public let eventLoopGroup: any EventLoopGroup
    /// The client library's logger.
    public let logger: Logger
    /// Colours for standard output (the prompt, `ls -R`, `tree`, watch events).
    public let style: Style
    /// Colours for standard error (the `zksh:` of errors).
    public let errorStyle: Style
    /// Times in stats, in the zone of ``Options/timeZone``.
    public let timeText: TimeText

    /// Shared by this context and those made from it by ``redirectingOutput(to:)``.
    private final class SharedState: @unchecked Sendable {
        let lock = NSLock()
        var state: MutableState
        init(_ state: MutableState) { self.state = state }
    }
    private let shared: SharedState

    private struct MutableState {
        var client: ZooKeeperClient?
        var connectString: String
        var directory = "/"
        var sessionState: SessionState?
        var history: [String] = []
        /// Connect on first use; false after `close` or a failed connect.
        var connectsOnDemand = true
        var exitRequested = false
        var lineEditor: LineEditor?
        var monitor: Task<Void, Never>?
        /// Credentials for new sessions: `--auth`, replaced by `connect --auth`.
        var credentials: [Credential]
        /// TLS for new sessions: `--tls…`, replaced by `connect --tls…`.
        var tls: ZooKeeperClient.TLSOptions?
        /// SASL login for new sessions: `--sasl`, replaced by `connect --sasl`.
        var sasl: SASLCredential?
        /// Whether fired watches are printed (`printwatches on|off`).
        var printsWatchEvents = true
        /// The ensemble this shell started (`zksh --ensemble`, `ensemble start`), if any.
        var localEnsemble: LocalEnsemble?
    }

    /// - Parameter environment: where `NO_COLOR` is looked up (for `--color auto`).
    public init(options: Options, output: any OutputWriter = StandardOutputWriter(),
                standardInput: StandardInput = .none, registry: CommandRegistry = .standard,
                eventLoopGroup: any EventLoopGroup, logger: Logger = Logger(label: "zksh", factory: { _ in SwiftLogNoOpLogHandler() }),
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.options = options
        self.style = Style.resolve(options.color, isTerminal: output.outputIsTerminal, environment: environment)
        self.errorStyle = Style.resolve(options.color, isTerminal: output.errorIsTerminal, environment: environment)
        self.timeText = TimeText(timeZone: options.timeZone)
        self.output = output
        self.standardInput = standardInput
        self.registry = registry
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.shared = SharedState(MutableState(connectString: options.connectString, credentials: options.credentials,
                                               tls: options.tls, sasl: options.sasl))
    }

    private init(sharing context: ShellContext, output: any OutputWriter) {
        self.options = context.options
        self.style = context.style
        self.errorStyle = context.errorStyle
        self.timeText = context.timeText
        self.output = output
        self.standardInput = context.standardInput
        self.registry = context.registry
        self.eventLoopGroup = context.eventLoopGroup
        self.logger = context.logger
        self.shared = context.shared
    }

    /// The same shell (session, directory, settings, colours) with output going to `writer`:
    /// for running a command whose output is written later, in order (pipelined scripts).
    func redirectingOutput(to writer: any OutputWriter) -> ShellContext {
        ShellContext(sharing: self, output: writer)
    }

    private func withState<T>(_ body: (inout MutableState) throws -> T) rethrows -> T {
        shared.lock.lock()
        defer { shared.lock.unlock() }
        return try body(&shared.state)
    }

    // MARK: Output

    /// Whether results are written as JSON.
    public var json: Bool { options.json }

    /// Writes a line (a newline is added) to standard output.
    public func print(_ text: String) {
        output.writeOutput(text + "\n")
    }

    /// Writes bytes unchanged to standard output.
    public func write(_ bytes: [UInt8]) {
        output.writeOutput(bytes)
    }

    /// Writes one JSON document on a line to standard output.
    public func printJSON(_ value: JSONValue) {
        print(value.rendered)
    }

    /// Writes `zksh: <message>` to standard error, with control characters (from a bad path,
    /// say) escaped so that they cannot disturb the terminal.
    public func printError(_ message: String) {
        output.writeError("\(errorStyle.paint("zksh:", .error)) \(Self.escapingControlCharacters(message))\n")
    }

    static func escapingControlCharacters(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x09, 0x0A:
                escaped.unicodeScalars.append(scalar)
            case 0x00...0x1F, 0x7F...0x9F:
                escaped += "\\u{\(String(scalar.value, radix: 16))}"
            default:
                escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// Output that arrives while the user may be typing (a fired `ls -w` watch): above the
    /// prompt in the interactive shell, on standard output otherwise.
    public func printAsync(_ text: String) {
        if let editor = lineEditor {
            editor.printAbove(text)
        } else {
            print(text)
        }
    }

    /// A connection notice (`zksh: connection lost, reconnecting…`): above the prompt in the
    /// interactive shell; in scripts on standard error, and only with `--verbose`.
    public func notice(_ message: String) {
        if let editor = lineEditor {
            editor.printAbove("zksh: \(message)")
        } else if options.verbose {
            printError(message)
        }
    }

    // MARK: Interactive state

    /// The line editor of the interactive shell, or nil in scripts.
    public var lineEditor: LineEditor? {
        get { withState { $0.lineEditor } }
        set { withState { $0.lineEditor = newValue } }
    }

    /// Lines entered so far, oldest first.
    public var history: [String] { withState { $0.history } }

    /// Records an entered line for `history`.
    public func appendHistory(_ line: String) {
        withState { $0.history.append(line) }
    }

    /// Replaces the history (with what the line editor loaded from the history file).
    public func setHistory(_ lines: [String]) {
        withState { $0.history = lines }
    }

    /// Whether `quit` asked the shell to end.
    public var exitRequested: Bool { withState { $0.exitRequested } }

    /// Asks the shell to end after the current command.
    public func requestExit() {
        withState { $0.exitRequested = true }
    }

    /// The prompt: `[zk: 127.0.0.1:2181(CONNECTED) /current/dir] `, the state coloured
    /// (green when connected, yellow while connecting, red when ended) if ``style`` is on.
    public var prompt: String {
        let (connectString, sessionState, directory) = withState { ($0.connectString, $0.sessionState, $0.directory) }
        let state = style.paint(sessionState?.description ?? "CLOSED", Style.role(of: sessionState))
        return "[zk: \(connectString)(\(state)) \(directory)] "
    }

    // MARK: Paths

    /// The current directory (`/` at start).
    public var currentDirectory: String { withState { $0.directory } }

    /// Changes the current directory (the caller checked the node exists).
    public func setCurrentDirectory(_ path: String) {
        withState { $0.directory = path }
    }

    /// Resolves a path typed by the user against the current directory, folding `.` and `..`;
    /// nil means the current directory.
    public func resolve(_ path: String?) -> String {
        ZooKeeperPath.resolve(path ?? ".", against: currentDirectory)
    }

    // MARK: Session

    /// The connect string of the current (or next) session.
    public var connectString: String { withState { $0.connectString } }

    /// The session state, or nil without a session.
    public var sessionState: SessionState? { withState { $0.sessionState } }

    /// The current client, if a session was opened.
    public var currentClient: ZooKeeperClient? { withState { $0.client } }

    /// The client to run a command with, connecting first if no session was opened yet.
    ///
    /// Throws ``ShellError/notConnected`` after `close` or a failed connect.
    public func client() async throws -> ZooKeeperClient {
        let (client, connects) = withState { ($0.client, $0.connectsOnDemand) }
        if let client { return client }
        guard connects else { throw ShellError.notConnected }
        return try await connect()
    }

    /// Whether watch events are printed when they fire (`printwatches`; on at start).
    public var printsWatchEvents: Bool {
        get { withState { $0.printsWatchEvents } }
        set { withState { $0.printsWatchEvents = newValue } }
    }

    /// The local ensemble this shell started and manages (`zksh --ensemble N`, `ensemble
    /// start`), or nil. Whoever ends the shell stops it (``LocalEnsemble/shutdown()``).
    public var localEnsemble: LocalEnsemble? {
        get { withState { $0.localEnsemble } }
        set { withState { $0.localEnsemble = newValue } }
    }

    /// The credentials new sessions authenticate with.
    public var credentials: [Credential] { withState { $0.credentials } }

    /// The TLS settings new sessions use.
    public var tls: ZooKeeperClient.TLSOptions? { withState { $0.tls } }

    /// The SASL login new sessions run.
    public var sasl: SASLCredential? { withState { $0.sasl } }

    /// Applies the shell's credentials, TLS and SASL settings to a client configuration.
    func applySecurity(to configuration: inout ZooKeeperClient.Configuration) {
        let (credentials, tls, sasl) = withState { ($0.credentials, $0.tls, $0.sasl) }
        configuration.credentials = credentials.map { (scheme: $0.scheme, auth: $0.auth) }
        configuration.tls = tls
        configuration.sasl = sasl.map { (username: $0.username, password: $0.password) }
    }

    /// Closes any current session and opens a new one.
    ///
    /// - Parameters:
    ///   - hosts: the connect string; nil reuses the current one.
    ///   - connectTimeout: how long to wait for the session; nil uses the option.
    ///   - sessionTimeout: the session timeout to ask for; nil uses the option.
    ///   - credentials: credentials for this and later sessions; nil keeps the current ones.
    ///   - tls: TLS settings for this and later sessions; nil keeps the current ones.
    ///   - sasl: the SASL login for this and later sessions; nil keeps the current one.
    /// - Throws: ``ShellError`` `could not connect to … (reason)` when no server answered in time;
    ///   the shell then stays without a session.
    @discardableResult
    public func connect(to hosts: String? = nil, connectTimeout: Duration? = nil,
                        sessionTimeout: Duration? = nil, credentials: [Credential]? = nil,
                        tls: ZooKeeperClient.TLSOptions? = nil, sasl: SASLCredential? = nil) async throws -> ZooKeeperClient {
        try? await disconnect()
        var configuration = try ZooKeeperClient.Configuration(connectString: hosts ?? connectString)
        configuration.connectTimeout = connectTimeout ?? options.connectTimeout
        configuration.sessionTimeout = sessionTimeout ?? options.sessionTimeout
        if let credentials { withState { $0.credentials = credentials } }
        if let tls { withState { $0.tls = tls } }
        if let sasl { withState { $0.sasl = sasl } }
        applySecurity(to: &configuration)
        let changedServers = hosts.map { $0 != connectString } ?? false
        withState {
            $0.connectString = configuration.connectString.description
            if changedServers { $0.directory = "/" }
        }
        if options.verbose { printError("connecting to \(configuration.connectString)") }
        let client = ZooKeeperClient(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        do {
            try await client.connect()
        } catch {
            try? await client.close()
            withState { $0.connectsOnDemand = false }
            if let error = error as? ZooKeeperError, error.code == .connectionLoss, let detail = error.detail {
                throw ShellError(Self.conciseConnectFailure(detail, servers: configuration.connectString.description))
            }
            throw error
        }
        let states = await client.sessionStates()
        let monitor = Task { [weak self] in
            var previous: SessionState?
            for await state in states {
                guard let self else { return }
                await self.sessionStateChanged(from: previous, to: state, client: client)
                previous = state
            }
        }
        withState {
            $0.client = client
            $0.sessionState = .connected
            $0.connectsOnDemand = true
            $0.monitor = monitor
        }
        if options.verbose {
            let host = await client.connectedHost.map { "\($0)" } ?? "?"
            let session = await client.sessionID
            let timeout = await client.negotiatedTimeout
            printError("connected to \(host), session \(StatFormatter.hex(session)), timeout \(timeout) ms")
        }
        return client
    }

    /// `could not connect to H (connection refused)` from the client's detail, which carries
    /// SwiftNIO's description of the last socket error (`… (errno: 111)`); other details are
    /// kept as they are.
    static func conciseConnectFailure(_ detail: String, servers: String) -> String {
        if let range = detail.range(of: #"errno: (\d+)"#, options: .regularExpression),
           let number = Int32(detail[range].dropFirst("errno: ".count)), let message = strerror(number)
        {
            return "could not connect to \(servers) (\(String(cString: message).lowercased()))"
        }
        if detail.localizedCaseInsensitiveContains("connectTimeout") || detail.localizedCaseInsensitiveContains("timed out")
            || !detail.contains("(")
        {
            return "could not connect to \(servers) (timed out)"
        }
        return detail
    }

    /// Ends the current session, if any; later commands fail until `connect`.
    public func disconnect() async throws {
        let (client, monitor) = withState { state -> (ZooKeeperClient?, Task<Void, Never>?) in
            defer {
                state.client = nil
                state.monitor = nil
                state.sessionState = nil
                state.connectsOnDemand = false
            }
            return (state.client, state.monitor)
        }
        monitor?.cancel()
        try await client?.close()
    }

    private func sessionStateChanged(from previous: SessionState?, to state: SessionState, client: ZooKeeperClient) async {
        let isCurrent = withState { mutable -> Bool in
            guard mutable.client === client else { return false }
            mutable.sessionState = state
            return true
        }
        guard isCurrent else { return }
        lineEditor?.updatePrompt(prompt)
        guard let previous, previous != state else { return }
        switch state {
        case .disconnected:
            notice("connection lost, reconnecting…")
        case .connected:
            let host = await client.connectedHost.map { "\($0)" } ?? connectString
            notice(previous == .connectedReadOnly ? "connected to read-write server \(host)" : "reconnected to \(host)")
        case .connectedReadOnly:
            let host = await client.connectedHost.map { "\($0)" } ?? connectString
            notice("connected to read-only server \(host)")
        case .expired:
            notice("session expired (use 'connect' to start a new session)")
        case .authFailed:
            notice("authentication failed; the session is closed")
        case .connecting, .closed:
            break
        }
    }

    // MARK: Watch notices

    /// Prints the events of a watch (one-shot from `ls -w`, `get -w`, `stat -w`; persistent from
    /// `addWatch`) as they fire, like `zkCli.sh`:
    /// `WATCHER:: WatchedEvent state:SyncConnected type:NodeDataChanged path:/a`. Events are
    /// dropped while `printwatches off` is in effect.
    public func printWhenFired(_ watch: ZooKeeperWatch) {
        Task { [weak self] in
            do {
                for try await event in watch {
                    guard let self else { return }
                    if self.printsWatchEvents {
                        let type = self.style.paint(event.type.name, Style.role(of: event.type))
                        self.printAsync("WATCHER:: WatchedEvent state:SyncConnected type:\(type) path:\(event.path)")
                    }
                }
            } catch {
                // The session ended; its notice says so.
            }
        }
    }
}
