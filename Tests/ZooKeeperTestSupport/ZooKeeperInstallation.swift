import Foundation

/// Where Java and the Apache ZooKeeper jars are on this machine, found the way the Debian
/// `zookeeper` package's own scripts find them.
///
/// The Debian scripts (`/usr/share/zookeeper/bin/zkServer.sh`, `zkCli.sh`) source `zkEnv.sh`,
/// a link to `/etc/zookeeper/conf/environment`, which sets
/// `CLASSPATH="/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"`. `zookeeper.jar`'s manifest
/// lists its dependencies in `/usr/share/java` (netty, jute, slf4j-api, ...) as `Class-Path`, so
/// Java finds them by itself. That classpath has no SLF4J binding, though, so the server would log
/// nothing at all; to get a log, ``locate()`` adds `slf4j-log4j12.jar` and `log4j-1.2.jar` from
/// `/usr/share/java` (both installed as dependencies of the package), or failing that
/// `slf4j-simple.jar`. Each server gets its own configuration directory with a `log4j.properties`
/// (and a `logback.xml`, for an upstream tarball) that logs to standard output, which the harness
/// sends to a file in the server's temporary directory.
///
/// Overrides, in order of precedence:
/// - `JAVA_HOME`: use `$JAVA_HOME/bin/java` (otherwise the `JAVA` of `zkEnv.sh`, `/usr/bin/java`,
///   or `java` from `PATH`).
/// - `ZOOKEEPER_CLASSPATH`: a complete colon-separated classpath to use instead of the above.
/// - `ZOOKEEPER_HOME`: an unpacked upstream release (`lib/*.jar`), used when the Debian package
///   is not installed.
public struct ZooKeeperInstallation: Sendable {
    /// The `java` executable.
    public var javaPath: String
    /// Jars (and directories) for the server's classpath, not including a configuration directory.
    public var classpath: [String]

    /// The Debian package's environment script.
    static let debianEnvironmentScript = "/usr/share/zookeeper/bin/zkEnv.sh"
    /// The Debian jar directory.
    static let debianJarDirectory = "/usr/share/java"
    /// How to install what is missing, for error messages.
    static let installHint =
        "install the Debian packages `zookeeper` and a JRE (`apt-get install zookeeper default-jre-headless`), "
        + "or set ZOOKEEPER_CLASSPATH / ZOOKEEPER_HOME and JAVA_HOME"

    private static let cached: Result<ZooKeeperInstallation, TestSupportError> = {
        do {
            return .success(try discover())
        } catch let error as TestSupportError {
            return .failure(error)
        } catch {
            return .failure(TestSupportError("\(error)"))
        }
    }()

    /// Finds Java and ZooKeeper, once per process.
    ///
    /// - Throws: ``TestSupportError`` naming what is missing and how to install it.
    public static func locate() throws -> ZooKeeperInstallation {
        try cached.get()
    }

    private static func discover() throws -> ZooKeeperInstallation {
        let environment = ProcessInfo.processInfo.environment
        let fileManager = FileManager.default
        let debianEnvironment = fileManager.fileExists(atPath: debianEnvironmentScript)
            ? try? sourceShellScript(debianEnvironmentScript, variables: ["CLASSPATH", "JAVA"])
            : nil

        // Java.
        var javaCandidates: [String] = []
        if let home = environment["JAVA_HOME"], !home.isEmpty { javaCandidates.append("\(home)/bin/java") }
        if let java = debianEnvironment?["JAVA"], !java.isEmpty { javaCandidates.append(java) }
        javaCandidates.append("/usr/bin/java")
        var javaPath = javaCandidates.first { fileManager.isExecutableFile(atPath: $0) }
        if javaPath == nil { javaPath = try? resolveExecutable("java") }
        guard let javaPath else {
            throw TestSupportError("java not found (looked at \(javaCandidates) and PATH): \(installHint)")
        }

        // ZooKeeper's classpath.
        var classpath: [String]
        var source: String
        if let explicit = environment["ZOOKEEPER_CLASSPATH"], !explicit.isEmpty {
            classpath = explicit.split(separator: ":").map(String.init)
            source = "ZOOKEEPER_CLASSPATH"
        } else if let debian = debianEnvironment?["CLASSPATH"], !debian.isEmpty {
            // Drop the configuration directory (/etc/zookeeper/conf); each server gets its own.
            classpath = debian.split(separator: ":").map(String.init).filter { $0.hasSuffix(".jar") }
            source = debianEnvironmentScript
        } else if fileManager.fileExists(atPath: "\(debianJarDirectory)/zookeeper.jar") {
            classpath = ["\(debianJarDirectory)/zookeeper.jar"]
            source = debianJarDirectory
        } else if let home = environment["ZOOKEEPER_HOME"], !home.isEmpty {
            classpath = jars(in: "\(home)/lib") + jars(in: home)
            source = "ZOOKEEPER_HOME"
        } else {
            throw TestSupportError("Apache ZooKeeper not found (no \(debianEnvironmentScript), no \(debianJarDirectory)/zookeeper.jar): \(installHint)")
        }
        let missing = classpath.filter { !fileManager.fileExists(atPath: $0) }
        guard missing.isEmpty else {
            throw TestSupportError("classpath from \(source) names missing files \(missing): \(installHint)")
        }
        let hasServerJar = classpath.contains { entry in
            let name = (entry as NSString).lastPathComponent
            return name.hasPrefix("zookeeper") && name.hasSuffix(".jar") && !name.hasPrefix("zookeeper-jute")
        }
        guard hasServerJar else {
            throw TestSupportError("no zookeeper*.jar in the classpath from \(source) (\(classpath)): \(installHint)")
        }

        // An SLF4J binding, so that the server writes a log.
        let bindings = ["slf4j-log4j12", "slf4j-reload4j", "logback-classic", "log4j-slf4j", "slf4j-simple", "slf4j-jdk14"]
        let hasBinding = classpath.contains { entry in bindings.contains { entry.contains($0) } }
        if !hasBinding {
            let log4j = ["\(debianJarDirectory)/slf4j-log4j12.jar", "\(debianJarDirectory)/log4j-1.2.jar"]
            let simple = "\(debianJarDirectory)/slf4j-simple.jar"
            if log4j.allSatisfy({ fileManager.fileExists(atPath: $0) }) {
                classpath += log4j
            } else if fileManager.fileExists(atPath: simple) {
                classpath.append(simple)
            }
        }
        return ZooKeeperInstallation(javaPath: javaPath, classpath: classpath)
    }

    /// Sources a shell script in bash and returns the values of `variables` afterwards.
    private static func sourceShellScript(_ script: String, variables: [String]) throws -> [String: String] {
        let printing = variables.map { "printf '%s\\0' \"${\($0)-}\"" }.joined(separator: "; ")
        let result = try runProcess(
            "/bin/bash", ["-c", ". \"$1\" >/dev/null 2>&1; \(printing)", "zkEnv", script],
            timeout: .seconds(10)
        )
        let values = result.stdout.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        var answer: [String: String] = [:]
        for (name, value) in zip(variables, values) { answer[name] = value }
        return answer
    }

    private static func jars(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".jar") }.sorted().map { "\(directory)/\($0)" }
    }
}
