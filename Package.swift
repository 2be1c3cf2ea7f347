// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "zksh",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ZooKeeperProtocol", targets: ["ZooKeeperProtocol"]),
        .library(name: "ZooKeeperClient", targets: ["ZooKeeperClient"]),
        .executable(name: "zksh", targets: ["zksh"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // Jute records, opcodes, errors and framing. No IO.
        .target(
            name: "ZooKeeperProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // The async client library: IO-free session state machine plus a SwiftNIO driver.
        .target(
            name: "ZooKeeperClient",
            dependencies: [
                "ZooKeeperProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The ZooKeeper server as IO-free state machines: data tree, sessions, watches, ACLs,
        // request processing into transactions.
        .target(
            name: "ZooKeeperServerCore",
            dependencies: [
                "ZooKeeperProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Durable storage: the transaction log with checksums and group commit, snapshots, purge.
        .target(name: "ZooKeeperStorage"),
        // The server's drivers: zoo.cfg, the NIO transport, four-letter words, the event loop
        // that runs the core against storage, and `zksh serve`.
        .target(
            name: "ZooKeeperServer",
            dependencies: [
                "ZooKeeperProtocol",
                "ZooKeeperServerCore",
                "ZooKeeperStorage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libedit, found through pkg-config.
        .systemLibrary(
            name: "CLibEdit",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"]), .brew(["libedit"])]
        ),
        // Child processes (posix_spawn, nothing inherited) and free loopback ports, for the
        // shell's local ensembles and the tests' servers.
        .target(name: "ProcessSupport"),
        // A small Swift line editor over libedit: prompt, history, completion.
        .target(name: "LineEditor", dependencies: ["CLibEdit"]),
        // The shell: one file per command, the registry, output formatting.
        .target(
            name: "ZKShellCommands",
            dependencies: [
                "ZooKeeperClient",
                "LineEditor",
                "ProcessSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "zksh",
            dependencies: [
                "ZKShellCommands",
                "ZooKeeperServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Test support: starts real Apache ZooKeeper servers and ensembles for integration tests.
        .target(
            name: "ZooKeeperTestSupport",
            dependencies: ["ProcessSupport"],
            path: "Tests/ZooKeeperTestSupport"
        ),
        .testTarget(
            name: "ZooKeeperProtocolTests",
            dependencies: [
                "ZooKeeperProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            resources: [.copy("Vectors")]
        ),
        .testTarget(
            name: "ZooKeeperClientTests",
            dependencies: [
                "ZooKeeperClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ZooKeeperServerCoreTests",
            dependencies: ["ZooKeeperServerCore", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "ZooKeeperStorageTests",
            dependencies: ["ZooKeeperStorage"]
        ),
        .testTarget(
            name: "LineEditorTests",
            dependencies: ["LineEditor"]
        ),
        .testTarget(
            name: "ZKShellCommandsTests",
            dependencies: [
                "ZKShellCommands", "ZooKeeperClient", "LineEditor",
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "ZooKeeperClient",
                "ZKShellCommands",
                "ZooKeeperServer",
                "ZooKeeperTestSupport",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Scripts"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
