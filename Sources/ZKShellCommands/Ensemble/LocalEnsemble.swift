import Foundation
import ProcessSupport
import ZooKeeperClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A replicated ZooKeeper ensemble on loopback whose members are `zksh serve` processes
/// started by this shell (`zksh --ensemble N`, `ensemble start N`).
///
/// Every member has a directory `<root>/member<ID>/` with its `zoo.cfg` (see
/// ``LocalEnsembleLayout/configuration(of:members:)``), `data/myid` and `zksh.log`, and runs as
/// `zksh serve --config <dir>/zoo.cfg --exit-with-parent`, so that it never outlives the shell.
/// The root is a new temporary directory, removed by ``shutdown()``, unless the caller named
/// one (`--data-dir`), which is kept.
///
/// The shell runs one command at a time, but completion reads the member ids concurrently, so
/// the mutable state is behind a lock. Methods that wait for processes are `async` and never
/// block the concurrency pool.
public final class LocalEnsemble: @unchecked Sendable {
    /// The directory holding every member's directory.
    public let root: String
    /// Whether ``root`` is kept when the ensemble stops (it was given with `--data-dir`).
    public let keepsData: Bool
    /// The program run for each member (`<executable> serve --config … --exit-with-parent`).
    public let executable: String

    /// How long a member may take to stop after SIGTERM before it gets SIGKILL.
    public static let stopGracePeriod: Duration = .seconds(5)

    private let lock = NSLock()
    private var membersByID: [Int: LocalEnsembleMember]
    private var processes: [Int: MemberProcess] = [:]
    /// Processes the shell signalled; their exit is no surprise.
    private var signalled: Set<pid_t> = []
    /// Processes whose unexpected exit was already reported.
    private var reportedExits: Set<pid_t> = []
    /// The members cut off from the others by `ensemble partition`, or nil.
    private var isolated: Set<Int>?
    private var isShutDown = false

    private init(root: String, keepsData: Bool, executable: String, members: [LocalEnsembleMember]) {
        self.root = root
        self.keepsData = keepsData
        self.executable = executable
        self.membersByID = Dictionary(uniqueKeysWithValues: members.map { ($0.id, $0) })
    }

    // MARK: Creating

    /// Writes the files of an ensemble of `size` members on free loopback ports, without
    /// starting it.
    ///
    /// - Parameters:
    ///   - size: the number of members (``LocalEnsembleLayout/isValidSize(_:)``).
    ///   - dataDirectory: where to keep the members' directories; nil for a new temporary
    ///     directory that ``shutdown()`` removes. A directory that already holds an ensemble of
    ///     `size` members written by zksh is reused: the members start again with their
    ///     configuration and data.
    ///   - executable: the `zksh` program to run (default: this process's own executable).
    /// - Throws: ``ShellError`` when the directory cannot be used or written.
    public static func create(size: Int, dataDirectory: String? = nil, executable: String? = nil) throws -> LocalEnsemble {
        precondition(LocalEnsembleLayout.isValidSize(size), "an ensemble has an odd number of members from 1 to 9")
        let program = executable ?? currentExecutable()
        let fileManager = FileManager.default
        if let dataDirectory {
            let root = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
            do {
                try fileManager.createDirectory(atPath: root, withIntermediateDirectories: true)
            } catch {
                throw ShellError("ensemble: cannot create \(root): \(error.localizedDescription)")
            }
            let existing = try existingMembers(in: root)
            if !existing.isEmpty {
                guard existing.count == size else {
                    throw ShellError("ensemble: \(root) holds an ensemble of \(existing.count) members, not \(size)")
                }
                let ensemble = LocalEnsemble(root: root, keepsData: true, executable: program, members: existing)
                ExitCleanup.shared.register(ensemble)
                return ensemble
            }
            let contents = (try? fileManager.contentsOfDirectory(atPath: root)) ?? []
            guard contents.isEmpty else {
                throw ShellError("ensemble: \(root) is not empty and holds no ensemble written by zksh")
            }
            return try makeNew(size: size, root: root, keepsData: true, executable: program)
        }
        sweepAbandonedTemporaryDirectories()
        let root = try makeTemporaryDirectory()
        do {
            try Self.writeAtomically("\(getpid())\n", to: root + "/" + shellPIDFile)
            return try makeNew(size: size, root: root, keepsData: false, executable: program)
        } catch {
            try? fileManager.removeItem(atPath: root)
            throw error
        }
    }

    private static func makeNew(size: Int, root: String, keepsData: Bool, executable: String) throws -> LocalEnsemble {
        let ports = try Self.freePorts(count: 3 * size)
        let members = (1...size).map { id in
            LocalEnsembleMember(
                id: id, clientPort: ports[3 * (id - 1)], quorumPort: ports[3 * (id - 1) + 1],
                electionPort: ports[3 * (id - 1) + 2],
                directory: root + "/" + LocalEnsembleLayout.directoryName(of: id))
        }
        let ensemble = LocalEnsemble(root: root, keepsData: keepsData, executable: executable, members: members)
        for member in members { try ensemble.writeFiles(of: member, voters: members) }
        ExitCleanup.shared.register(ensemble)
        return ensemble
    }

    /// The members in `member<ID>/` directories of `root` that hold a `zoo.cfg` with their
    /// own `server.<ID>` line.
    private static func existingMembers(in root: String) throws -> [LocalEnsembleMember] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        var members: [LocalEnsembleMember] = []
        for name in names where name.hasPrefix("member") {
            guard let id = Int(name.dropFirst("member".count)) else { continue }
            let directory = root + "/" + name
            guard var text = try? String(contentsOfFile: directory + "/zoo.cfg", encoding: .utf8) else { continue }
            // After a reconfig the membership lives in the file zoo.cfg points at.
            if let dynamic = LocalEnsembleLayout.dynamicConfigurationFile(in: text),
                let membership = try? String(contentsOfFile: dynamic, encoding: .utf8)
            {
                text += "\n" + membership
            }
            guard let member = LocalEnsembleLayout.member(fromConfiguration: text, id: id, directory: directory) else {
                throw ShellError("ensemble: \(directory)/zoo.cfg has no server.\(id) line written by zksh")
            }
            members.append(member)
        }
        return members.sorted { $0.id < $1.id }
    }

    /// Free loopback ports for members (``LoopbackPorts``), as a shell error when there are none.
    static func freePorts(count: Int, excluding: Set<Int> = []) throws -> [Int] {
        do {
            return try LoopbackPorts.free(count: count, excluding: excluding)
        } catch {
            throw ShellError("ensemble: \(error)")
        }
    }

    /// The file in a temporary root that names the shell owning it (its process id).
    static let shellPIDFile = "zksh-shell.pid"
    /// The prefix of temporary roots in the temporary directory.
    static let temporaryPrefix = "zksh-ensemble-"

    /// Removes the temporary roots of shells that ended without cleaning up (killed with
    /// SIGKILL, or by a hang-up): those whose ``shellPIDFile`` names a process that is gone.
    /// Their members ended with them (`--exit-with-parent`). Kept directories have no such
    /// file and are never touched.
    ///
    /// - Parameter directory: where to look (default: the temporary directory).
    /// - Returns: the roots removed.
    @discardableResult
    static func sweepAbandonedTemporaryDirectories(in directory: String? = nil) -> [String] {
        var base = directory ?? FileManager.default.temporaryDirectory.path
        if base.hasSuffix("/") { base.removeLast() }
        var removed: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] where name.hasPrefix(temporaryPrefix) {
            let root = base + "/" + name
            guard let text = try? String(contentsOfFile: root + "/" + shellPIDFile, encoding: .utf8),
                  let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
            else { continue }
            if processExists(pid) { continue }
            if (try? FileManager.default.removeItem(atPath: root)) != nil { removed.append(root) }
        }
        return removed
    }

    private static func makeTemporaryDirectory() throws -> String {
        var base = FileManager.default.temporaryDirectory.path
        if base.hasSuffix("/") { base.removeLast() }
        var template = Array((base + "/" + temporaryPrefix + "XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else {
            throw ShellError("ensemble: cannot create a temporary directory in \(base): \(String(cString: strerror(errno)))")
        }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// This process's executable: `/proc/self/exe` on Linux, else the first argument resolved.
    public static func currentExecutable() -> String {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        #endif
        if let path = Bundle.main.executablePath { return path }
        let first = CommandLine.arguments.first ?? "zksh"
        if first.contains("/") { return URL(fileURLWithPath: first).standardizedFileURL.path }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(directory)/\(first)") {
            return "\(directory)/\(first)"
        }
        return first
    }

    /// Writes a member's `zoo.cfg` and `data/myid`.
    private func writeFiles(of member: LocalEnsembleMember, voters: [LocalEnsembleMember]) throws {
        do {
            try FileManager.default.createDirectory(atPath: member.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw ShellError("ensemble: cannot create \(member.dataDirectory): \(error.localizedDescription)")
        }
        try Self.writeAtomically(
            LocalEnsembleLayout.configuration(of: member, members: voters, adminPassword: try adminPassword()),
            to: member.configurationFile)
        try Self.writeAtomically("\(member.id)\n", to: member.myidFile)
    }

    /// The superuser's password for this ensemble: made once, kept (mode 0600) in the
    /// ensemble's directory so a kept ensemble restarts with the same one.
    public func adminPassword() throws -> String {
        let path = root + "/" + LocalEnsembleLayout.adminPasswordFile
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { return trimmed }
        }
        var generator = SystemRandomNumberGenerator()
        let password = (0..<24).map { _ in String("abcdefghijklmnopqrstuvwxyz0123456789".randomElement(using: &generator)!) }.joined()
        try Self.writeAtomically(password + "\n", to: path)
        chmod(path, 0o600)
        return password
    }

    /// Writes through a temporary file and a rename, so that a member reading the file never
    /// sees half of it.
    private static func writeAtomically(_ text: String, to path: String) throws {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw ShellError("ensemble: cannot write \(path): \(error.localizedDescription)")
        }
    }

    // MARK: Members

    /// The members, by id.
    public var members: [LocalEnsembleMember] {
        lock.withLock { membersByID.values.sorted { $0.id < $1.id } }
    }

    /// The members' ids, ascending.
    public var memberIDs: [Int] { members.map(\.id) }

    /// The member with this id, or nil.
    public func member(_ id: Int) -> LocalEnsembleMember? {
        lock.withLock { membersByID[id] }
    }

    /// Every member's client address: `127.0.0.1:p1,127.0.0.1:p2,…`.
    public var connectString: String {
        members.map { $0.clientAddress.description }.joined(separator: ",")
    }

    /// The process id of the member, while its process runs.
    public func pid(of id: Int) -> Int32? {
        lock.withLock {
            guard let process = processes[id], process.isRunning else { return nil }
            return process.pid
        }
    }

    /// The members whose processes run.
    public var runningMembers: Set<Int> {
        lock.withLock { Set(processes.filter { $0.value.isRunning && membersByID[$0.key] != nil }.keys) }
    }

    /// The sides of the network: the isolated members and the others during a partition, else
    /// one side with every member.
    public var sides: [Set<Int>] {
        lock.withLock { LocalEnsembleLayout.sides(isolating: isolated, members: Array(membersByID.keys)) }
    }

    /// The last lines of a member's log, for error messages.
    public func logTail(of id: Int, lines: Int = 15) -> String {
        guard let member = member(id),
              let text = try? String(contentsOfFile: member.logFile, encoding: .utf8) else { return "" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1).joined(separator: "\n")
            .trimmingCharacters(in: .newlines)
    }

    // MARK: Processes

    /// Starts member `id`'s process.
    ///
    /// - Returns: its process id.
    /// - Throws: ``ShellError`` when there is no such member, it runs already, or the program
    ///   cannot be started.
    @discardableResult
    public func start(_ id: Int) throws -> Int32 {
        guard let member = member(id) else { throw ShellError("ensemble: no member \(id)") }
        if let pid = pid(of: id) { throw ShellError("ensemble: member \(id) is already running (pid \(pid))") }
        return try launch(member)
    }

    private func launch(_ member: LocalEnsembleMember) throws -> Int32 {
        let process = try MemberProcess.spawn(
            executable: executable,
            arguments: ["serve", "--config", member.configurationFile, "--exit-with-parent"],
            logFile: member.logFile)
        lock.withLock { processes[member.id] = process }
        return process.pid
    }

    /// Kills member `id` with SIGKILL, like a crash, and waits until it is gone.
    ///
    /// - Returns: the process id it had, or nil when it was not running.
    public func kill(_ id: Int) async -> Int32? {
        guard let process = signalled(id) else { return nil }
        process.send(SIGKILL)
        _ = await process.waitForExit(timeout: .seconds(30))
        return process.pid
    }

    /// Stops member `id` with SIGTERM (SIGKILL after ``stopGracePeriod``) and waits until it is
    /// gone.
    ///
    /// - Returns: the process id it had, or nil when it was not running.
    public func stop(_ id: Int) async -> Int32? {
        guard let process = signalled(id) else { return nil }
        await process.terminate(grace: Self.stopGracePeriod)
        return process.pid
    }

    /// The running process of member `id`, marked as signalled by the shell.
    private func signalled(_ id: Int) -> MemberProcess? {
        lock.withLock {
            guard let process = processes[id], process.isRunning else { return nil }
            signalled.insert(process.pid)
            return process
        }
    }

    /// Members whose processes ended without the shell asking, each reported once.
    public func takeUnexpectedExits() -> [(member: Int, pid: Int32, status: Int32)] {
        lock.withLock {
            var exits: [(member: Int, pid: Int32, status: Int32)] = []
            for (id, process) in processes.sorted(by: { $0.key < $1.key }) {
                guard let status = process.exitStatus, !signalled.contains(process.pid),
                      reportedExits.insert(process.pid).inserted else { continue }
                exits.append((id, process.pid, status))
            }
            return exits
        }
    }

    // MARK: Partitions

    /// Cuts `isolated` off from the other members: writes each member's partition file (see
    /// ``LocalEnsembleLayout/partitionFiles(isolating:members:)``). Replaces any partition.
    ///
    /// - Throws: ``ShellError`` for unknown ids, when `isolated` holds no member or every
    ///   member, or when a file cannot be written.
    public func partition(isolating isolated: Set<Int>) throws {
        let ids = memberIDs
        let unknown = isolated.subtracting(ids)
        guard unknown.isEmpty else {
            throw ShellError("ensemble: no member \(unknown.sorted().map(String.init).joined(separator: ", "))")
        }
        guard !isolated.isEmpty, isolated.count < ids.count else {
            throw ShellError("ensemble: a partition needs members on both sides")
        }
        try writePartitionFiles(isolating: isolated, ids: ids)
        lock.withLock { self.isolated = isolated }
    }

    /// Removes every partition file: members talk to each other again.
    public func heal() throws {
        for member in members { try removePartitionFile(of: member) }
        lock.withLock { isolated = nil }
    }

    private func writePartitionFiles(isolating isolated: Set<Int>, ids: [Int]) throws {
        let files = LocalEnsembleLayout.partitionFiles(isolating: isolated, members: ids)
        for member in members {
            if let dropped = files[member.id] {
                try Self.writeAtomically(LocalEnsembleLayout.partitionFileText(dropped), to: member.partitionFile)
            } else {
                try removePartitionFile(of: member)
            }
        }
    }

    private func removePartitionFile(of member: LocalEnsembleMember) throws {
        guard FileManager.default.fileExists(atPath: member.partitionFile) else { return }
        do {
            try FileManager.default.removeItem(atPath: member.partitionFile)
        } catch {
            throw ShellError("ensemble: cannot remove \(member.partitionFile): \(error.localizedDescription)")
        }
    }

    // MARK: Membership

    /// Writes the files of a new member (the next free id, new ports) whose configuration lists
    /// the current members and itself, and starts it. It is not one of ``members`` until
    /// ``admit(_:)``; ``discard(_:)`` stops it and removes its directory.
    ///
    /// - Returns: the member and its process id.
    public func launchNewMember() throws -> (member: LocalEnsembleMember, pid: Int32) {
        let current = members
        let usedPorts = Set(current.flatMap { [$0.clientPort, $0.quorumPort, $0.electionPort] })
        let existingDirectories = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        var id = (current.map(\.id).max() ?? 0) + 1
        while existingDirectories.contains(LocalEnsembleLayout.directoryName(of: id))
            || existingDirectories.contains("removed-" + LocalEnsembleLayout.directoryName(of: id)) {
            id += 1
        }
        let ports = try Self.freePorts(count: 3, excluding: usedPorts)
        let member = LocalEnsembleMember(id: id, clientPort: ports[0], quorumPort: ports[1], electionPort: ports[2],
                                         directory: root + "/" + LocalEnsembleLayout.directoryName(of: id))
        try writeFiles(of: member, voters: current + [member])
        if let isolated = lock.withLock({ isolated }) {
            // The new member is on the side of the members that are not isolated: the
            // isolated ones drop its traffic too.
            let files = LocalEnsembleLayout.partitionFiles(isolating: isolated, members: current.map(\.id) + [id])
            for target in current + [member] {
                if let dropped = files[target.id] {
                    try Self.writeAtomically(LocalEnsembleLayout.partitionFileText(dropped), to: target.partitionFile)
                }
            }
        }
        let pid = try launch(member)
        return (member, pid)
    }

    /// Makes a member started by ``launchNewMember()`` one of the members, and rewrites every
    /// member's `zoo.cfg` with the new membership (used when a member is restarted).
    public func admit(_ member: LocalEnsembleMember) throws {
        lock.withLock { membersByID[member.id] = member }
        try rewriteConfigurations()
    }

    /// Stops a member started by ``launchNewMember()`` that did not join, and removes its
    /// directory.
    ///
    /// - Returns: the process id it had, or nil when it was no longer running.
    public func discard(_ member: LocalEnsembleMember) async -> Int32? {
        let pid = await stop(member.id)
        lock.withLock { _ = processes.removeValue(forKey: member.id) }
        try? FileManager.default.removeItem(atPath: member.directory)
        if let isolated = lock.withLock({ isolated }) {
            try? writePartitionFiles(isolating: isolated, ids: memberIDs)
        }
        return pid
    }

    /// Forgets a member that left the ensemble (after `reconfig` removed it): stops its process,
    /// renames its directory to `removed-member<ID>` (kept for inspection until the ensemble
    /// stops), and rewrites every other member's `zoo.cfg` and partition file.
    ///
    /// - Returns: the process id it had, or nil when it was not running.
    public func remove(_ id: Int) async throws -> Int32? {
        guard let member = member(id) else { throw ShellError("ensemble: no member \(id)") }
        let pid = await stop(id)
        let isolated = lock.withLock { () -> Set<Int>? in
            membersByID[id] = nil
            _ = processes.removeValue(forKey: id)
            if var isolated = self.isolated {
                isolated.remove(id)
                self.isolated = isolated.isEmpty || isolated.count == membersByID.count ? nil : isolated
            }
            return self.isolated
        }
        try? FileManager.default.moveItem(atPath: member.directory,
                                          toPath: root + "/removed-" + LocalEnsembleLayout.directoryName(of: id))
        try rewriteConfigurations()
        if let isolated {
            try writePartitionFiles(isolating: isolated, ids: memberIDs)
        } else {
            try heal()
        }
        return pid
    }

    private func rewriteConfigurations() throws {
        let all = members
        for member in all { try writeFiles(of: member, voters: all) }
    }

    // MARK: Stopping

    /// Stops every member (SIGTERM at once to all, SIGKILL to those still running after
    /// ``stopGracePeriod``), waits until all are gone, and removes ``root`` unless it is kept.
    ///
    /// - Returns: the members that were running and their process ids.
    @discardableResult
    public func shutdown() async -> [(member: Int, pid: Int32)] {
        let running = lock.withLock { () -> [(Int, MemberProcess)] in
            let running = processes.filter { $0.value.isRunning }.sorted { $0.key < $1.key }
            for (_, process) in running { signalled.insert(process.pid) }
            return running
        }
        for (_, process) in running { process.send(SIGTERM) }
        for (_, process) in running { await process.terminate(grace: Self.stopGracePeriod) }
        finish()
        return running.map { ($0.0, $0.1.pid) }
    }

    /// Kills every member with SIGKILL at once and removes ``root`` unless it is kept; for the
    /// process's exit, when there is no time for a graceful stop.
    func shutdownNow() {
        let running = lock.withLock { () -> [MemberProcess] in
            let running = Array(processes.values.filter(\.isRunning))
            for process in running { signalled.insert(process.pid) }
            return running
        }
        for process in running { process.send(SIGKILL) }
        for process in running { _ = process.waitForExitBlocking(seconds: 5) }
        finish()
    }

    private func finish() {
        let alreadyDone = lock.withLock { () -> Bool in
            defer { isShutDown = true }
            return isShutDown
        }
        ExitCleanup.shared.unregister(self)
        if !alreadyDone && !keepsData { try? FileManager.default.removeItem(atPath: root) }
    }
}

/// Whether a process with this id exists (it may belong to another user).
private func processExists(_ pid: pid_t) -> Bool {
    kill(pid, 0) == 0 || errno == EPERM
}

/// The ensembles to clean up if the process exits without stopping them (Ctrl-C between the
/// commands of a script calls `exit`): their members are killed and temporary data removed.
/// Members would end by themselves once the shell is gone (`--exit-with-parent`); this also
/// removes their data at once.
private final class ExitCleanup: @unchecked Sendable {
    static let shared = ExitCleanup()

    private let lock = NSLock()
    private var ensembles: [ObjectIdentifier: LocalEnsemble] = [:]
    private var installed = false

    func register(_ ensemble: LocalEnsemble) {
        let install = lock.withLock { () -> Bool in
            ensembles[ObjectIdentifier(ensemble)] = ensemble
            defer { installed = true }
            return !installed
        }
        if install { atexit { ExitCleanup.shared.run() } }
    }

    func unregister(_ ensemble: LocalEnsemble) {
        lock.withLock { _ = ensembles.removeValue(forKey: ObjectIdentifier(ensemble)) }
    }

    private func run() {
        let remaining = lock.withLock { Array(ensembles.values) }
        for ensemble in remaining { ensemble.shutdownNow() }
    }
}
