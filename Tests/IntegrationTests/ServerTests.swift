import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `zksh serve` as a child process, driven by our client, zkCli.sh, kazoo and raw sockets.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ServerTests {
    @Test func ourClientOperationsAndWatches() async throws {
        let server = try await ZkshServerProcess.start()
        defer { server.stop() }
        let client = try await connectedClient(server.connectString)
        let root = uniquePath("srv")
        let made = try await client.create(root, data: bytes("root"))
        #expect(made.path == root)
        #expect(try await client.getData(root).data.text == "root")
        let stat = try await client.setData(root, data: bytes("v1"), version: 0)
        #expect(stat.version == 1)

        let (_, _, childWatch) = try await client.getChildrenAndWatch(root)
        let (_, _, dataWatch) = try await client.getDataAndWatch(root)
        try await client.create(root + "/a")
        let childEvent = try await nextEvent(childWatch)
        #expect(childEvent?.type == .nodeChildrenChanged && childEvent?.path == root)
        _ = try await client.setData(root, data: bytes("v2"))
        let dataEvent = try await nextEvent(dataWatch)
        #expect(dataEvent?.type == .nodeDataChanged && dataEvent?.path == root)

        let results = try await client.multi([
            .create(path: root + "/b", data: bytes("b")), .setData(path: root + "/a", data: bytes("x")), .check(path: root),
        ])
        #expect(results.count == 3)
        #expect(try await client.getChildren(root).children.sorted() == ["a", "b"])

        let ephemeral = try await client.create(root + "/e", mode: .ephemeral)
        #expect(ephemeral.stat.ephemeralOwner == (await client.sessionID))
        let other = try await connectedClient(server.connectString)
        #expect(try await other.exists(root + "/e") != nil)
        try await client.close()
        try await eventually("the ephemeral node is gone") { try await other.exists(root + "/e") == nil }

        try await other.delete(root + "/a")
        await #expect(throws: ZooKeeperError.self) { try await other.delete(root) }  // not empty
        try await other.close()

        let ruok = try await blocking { try fourLetterWord("ruok", port: server.port) }
        #expect(ruok == "imok")
        let srvr = try await blocking { try fourLetterWord("srvr", port: server.port) }
        #expect(srvr.contains("Mode: standalone"))
        #expect(srvr.contains("Node count: "))
        let mntr = try await blocking { try fourLetterWord("mntr", port: server.port) }
        #expect(mntr.contains("zk_server_state\tstandalone\n"))
        #expect(mntr.contains("zk_znode_count\t"))
        let isro = try await blocking { try fourLetterWord("isro", port: server.port) }
        #expect(isro == "rw")
    }

    @Test func fourLetterWordWhitelist() async throws {
        let server = try await ZkshServerProcess.start(whitelist: nil)
        defer { server.stop() }
        let ruok = try await blocking { try fourLetterWord("ruok", port: server.port) }
        #expect(ruok == "ruok is not executed because it is not in the whitelist.\n")
        let srvr = try await blocking { try fourLetterWord("srvr", port: server.port) }
        #expect(srvr.hasPrefix("Zookeeper version: "))
    }

    @Test func zkCliWorksUnchanged() async throws {
        let server = try await ZkshServerProcess.start()
        defer { server.stop() }
        let path = uniquePath("zkcli")
        let create = try await zkCli(server.port, ["create", path, "hi"])
        #expect(create.contains("Created \(path)"), "\(create)")
        let get = try await zkCli(server.port, ["get", path])
        #expect(get.split(separator: "\n").contains("hi"), "\(get)")
        _ = try await zkCli(server.port, ["set", path, "there"])
        let ls = try await zkCli(server.port, ["ls", "/"])
        #expect(ls.contains(String(path.dropFirst())), "\(ls)")
        let client = try await connectedClient(server.connectString)
        #expect(try await client.getData(path).data.text == "there")
        try await client.close()
        _ = try await zkCli(server.port, ["delete", path])
        let after = try await zkCli(server.port, ["ls", "/"])
        #expect(!after.contains(String(path.dropFirst())), "\(after)")
    }

    @Test func kazooWorksUnchanged() async throws {
        let server = try await ZkshServerProcess.start()
        defer { server.stop() }
        let script = """
            import sys
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1], timeout=10)
            zk.start(timeout=15)
            zk.ensure_path("/kz/a/b")
            zk.set("/kz/a/b", b"hello")
            data, stat = zk.get("/kz/a/b")
            zk.create("/kz/e", b"x", ephemeral=True)
            t = zk.transaction()
            t.create("/kz/t1", b"1")
            t.check("/kz/a/b", stat.version)
            print("tx", t.commit())
            print("data", data.decode(), stat.version)
            print("children", sorted(zk.get_children("/kz")))
            zk.delete("/kz", recursive=True)
            print("exists", zk.exists("/kz"))
            zk.stop()
            """
        let result = try await blocking {
            try runProcess("/usr/bin/python3", ["-c", script, server.connectString], timeout: .seconds(40))
        }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("data hello 1"), "\(result.stdout)")
        #expect(result.stdout.contains("children ['a', 'e', 't1']"), "\(result.stdout)")
        #expect(result.stdout.contains("exists None"), "\(result.stdout)")
    }

    @Test func malformedFramesCloseOnlyThatConnection() async throws {
        let server = try await ZkshServerProcess.start()
        defer { server.stop() }
        let client = try await connectedClient(server.connectString)
        let path = uniquePath("raw")
        try await client.create(path, data: bytes("ok"))

        // An oversize length, a negative length, and garbage inside a ConnectRequest frame.
        let oversize: [UInt8] = [0x7f, 0xff, 0xff, 0x00, 1, 2, 3, 4]
        let negative: [UInt8] = [0xff, 0xff, 0xff, 0xfe]
        let garbage: [UInt8] = [0, 0, 0, 3, 9, 9, 9]
        for payload in [oversize, negative, garbage] {
            let closed = try await blocking { try rawExchange(port: server.port, payload: payload) }
            #expect(closed, "the server kept a connection open after \(payload)")
        }
        // The established client keeps working.
        #expect(try await client.getData(path).data.text == "ok")
        _ = try await client.setData(path, data: bytes("still"))
        try await client.close()
        let ruok = try await blocking { try fourLetterWord("ruok", port: server.port) }
        #expect(ruok == "imok")
    }

    @Test func restartAfterKillRecoversTreeAndSession() async throws {
        let server = try await ZkshServerProcess.start()
        defer { server.stop() }
        let client = try await connectedClient(server.connectString, sessionTimeout: .seconds(20))
        let root = uniquePath("durable")
        try await client.create(root, data: bytes("persisted"))
        for index in 0..<20 { try await client.create("\(root)/n\(index)", data: bytes("\(index)")) }
        try await client.create(root + "/eph", mode: .ephemeral)
        let sessionID = await client.sessionID
        let password = await client.sessionPassword

        server.kill()
        try await client.close()  // local only; the server is gone
        try await server.restart()

        // The same session, resumed within its timeout, still owns its ephemeral node.
        let resumed = try await connectedClient(server.connectString, sessionTimeout: .seconds(20)) {
            $0.resumeSession = (sessionID, password)
        }
        #expect(await resumed.sessionID == sessionID)
        #expect(try await resumed.getData(root).data.text == "persisted")
        #expect(try await resumed.getChildren(root).children.count == 21)
        let eph = try await resumed.exists(root + "/eph")
        #expect(eph?.ephemeralOwner == sessionID)
        try await resumed.create(root + "/after")
        try await resumed.close()

        // SIGTERM: a clean stop with status 0, and the state is still there afterwards.
        let status = try await server.terminate()
        #expect(status == 0)
        try await server.restart()
        let again = try await connectedClient(server.connectString)
        #expect(try await again.exists(root + "/after") != nil)
        #expect(try await again.exists(root + "/eph") == nil)  // closed session's ephemeral went
        try await again.close()
    }

    @Test func memberWithoutMyidIsRefused() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cfg = directory + "/zoo.cfg"
        try """
            dataDir=\(directory)/data
            clientPort=\(try freeLoopbackPort())
            server.1=127.0.0.1:2888:3888
            server.2=127.0.0.1:2889:3889
            """.write(toFile: cfg, atomically: true, encoding: .utf8)
        let result = try await blocking {
            try runProcess(builtProductPath("zksh"), ["serve", cfg], timeout: .seconds(20))
        }
        #expect(result.status != 0)
        #expect(result.stderr.contains("myid is missing"), "\(result.stderr)")
    }
}

// MARK: - Helpers

/// Runs zkCli.sh against the server with one command; returns stdout and stderr together.
private func zkCli(_ port: Int, _ command: [String]) async throws -> String {
    let result = try await blocking {
        try runProcess(
            "/usr/share/zookeeper/bin/zkCli.sh", ["-server", "127.0.0.1:\(port)"] + command,
            environment: ["CLIENT_JVMFLAGS": "-Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"],
            timeout: .seconds(40))
    }
    return result.stdout + result.stderr
}

/// Sends `payload` on a new connection and reports whether the server closed it within 5 s.
private func rawExchange(port: Int, payload: [UInt8]) throws -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSupportError("socket failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw TestSupportError("connect failed") }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    _ = payload.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var buffer = [UInt8](repeating: 0, count: 256)
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { return true }  // closed by the server
        if n < 0 { return errno == ECONNRESET }  // reset counts as closed; a timeout does not
    }
}

private func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("zksh-serve-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A `zksh serve` child process with its own port, data directory and zoo.cfg.
final class ZkshServerProcess: @unchecked Sendable {
    let port: Int
    let directory: String
    let configPath: String
    private var process: Process?
    private let lock = NSLock()
    var connectString: String { "127.0.0.1:\(port)" }
    var logPath: String { directory + "/server.log" }

    private init(port: Int, directory: String, configPath: String) {
        self.port = port
        self.directory = directory
        self.configPath = configPath
    }

    /// Writes a zoo.cfg (tickTime 500, sessions 1–30 s, the whitelist) and starts the server.
    static func start(whitelist: String? = "*") async throws -> ZkshServerProcess {
        let directory = try temporaryDirectory()
        let port = try freeLoopbackPort()
        var text = """
            tickTime=500
            minSessionTimeout=1000
            maxSessionTimeout=30000
            dataDir=\(directory)/data
            clientPortAddress=127.0.0.1
            clientPort=\(port)

            """
        if let whitelist { text += "4lw.commands.whitelist=\(whitelist)\n" }
        let configPath = directory + "/zoo.cfg"
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        let server = ZkshServerProcess(port: port, directory: directory, configPath: configPath)
        try await server.launch()
        return server
    }

    private func launch() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: builtProductPath("zksh"))
        process.arguments = ["serve", configPath, "--log-file", logPath, "--log-level", "debug"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
        let port = self.port
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                throw TestSupportError("zksh serve exited with \(process.terminationStatus)", details: logTail())
            }
            let reply = try? await blocking { try fourLetterWord("srvr", port: port, timeout: .seconds(1)) }
            if reply?.contains("Mode: standalone") == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSupportError("zksh serve did not answer srvr within 20 s", details: logTail())
    }

    func restart() async throws { try await launch() }

    /// SIGKILL, and wait for the process to be gone.
    func kill() {
        guard let process = lock.withLock({ self.process }) else { return }
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGTERM; returns the exit status.
    func terminate() async throws -> Int32 {
        guard let process = lock.withLock({ self.process }) else { return -1 }
        Glibc.kill(process.processIdentifier, SIGTERM)
        return try await blocking {
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    func stop() {
        kill()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func logTail() -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(40).joined(separator: "\n")
    }
}
