import ArgumentParser
import ZooKeeperClient

/// `register [-b] PATH HOST:PORT [DATA]`: announces a service member as an ephemeral node.
struct RegisterCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Register a service member as an ephemeral node until Ctrl-C.",
        discussion: """
            Creates the ephemeral node PATH/HOST:PORT with DATA (PATH is created if missing), \
            prints 'registered PATH/HOST:PORT' and holds it until Ctrl-C, which deletes it and \
            prints 'unregistered PATH/HOST:PORT'. If someone else deletes the node meanwhile, it \
            is created again. With -b the command returns at once and the node lives as long \
            as the shell's session. discover lists the members.

            Exit status: 130 when interrupted, 0 with -b, 1 when HOST:PORT is registered by \
            another session or the session ends.

            Examples:
              register /services/api 10.0.0.5:8080
              register /services/api 10.0.0.5:8080 '{"zone":"a"}'
              register -b /services/api 10.0.0.5:8080
            """)

    @Flag(name: .customShort("b"), help: "Return at once; the node lives as long as the session.")
    var background = false

    @OptionGroup var output: OutputOptions

    @Argument(help: "The service's node.")
    var path: String

    @Argument(help: ArgumentHelp("The member's address.", valueName: "host:port"))
    var address: String

    @Argument(help: "The member's data.")
    var data: String?

    func validate() throws {
        guard let colon = address.lastIndex(of: ":"), colon != address.startIndex,
              let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port)
        else { throw ValidationError("'\(address)' is not HOST:PORT") }
        if address.contains("/") { throw ValidationError("'\(address)' must not contain '/'") }
    }

    func run(in context: ShellContext) async throws {
        let client = try await context.client()
        let directory = context.resolve(path)
        let node = ZooKeeperPath.join(directory, address)
        let bytes = Array((data ?? "").utf8)
        try await Recipes.createPath(directory, client: client)
        try await register(node, bytes, client: client)
        report(context, "registered", node)
        if background { return }
        do {
            while true {
                let (stat, watch) = try await client.existsAndWatch(node)
                if stat == nil {
                    try await register(node, bytes, client: client)
                    report(context, "registered", node)
                    continue
                }
                if try await Recipes.nextEvent(watch) == nil { return }
            }
        } catch is CancellationError {
            // Ctrl-C: unregister.
        }
        await Task { try? await client.delete(node) }.value
        report(context, "unregistered", node)
    }

    /// Creates the node; an existing node of this session is kept (its data replaced).
    private func register(_ node: String, _ bytes: [UInt8], client: ZooKeeperClient) async throws {
        do {
            try await client.create(node, data: bytes, mode: .ephemeral)
        } catch let error as ZooKeeperError where error.code == .nodeExists {
            let stat = try await client.exists(node)
            let session = await client.sessionID
            guard let stat, stat.ephemeralOwner == session else {
                throw ShellError("\(node) is already registered by another session")
            }
            _ = try await client.setData(node, data: bytes)
        }
    }

    private func report(_ context: ShellContext, _ event: String, _ node: String) {
        if output.wantsJSON(context) {
            context.printJSON(["event": .string(event), "path": .string(node)])
        } else {
            context.print("\(event) \(node)")
        }
    }
}
