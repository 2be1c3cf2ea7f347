import Foundation

/// Finds a product built by SwiftPM (such as the `zksh` executable) for a test to run.
///
/// SwiftPM puts test bundles and executables in the same build products directory
/// (`.build/<triple>/debug/`). This looks, in order:
/// 1. in `$ZKSH_BUILT_PRODUCTS_DIR`, if set;
/// 2. next to the running test executable (`/proc/self/exe`, `CommandLine.arguments[0]`,
///    `Bundle.main`), and then in up to four parent directories of each (an `.xctest` bundle on
///    macOS nests its executable in `Contents/MacOS`).
///
/// - Returns: the path of an executable file named `name`, or nil if none is found.
public func findBuiltProduct(_ name: String) -> String? {
    let fileManager = FileManager.default
    for directory in productSearchDirectories() {
        let candidate = (directory as NSString).appendingPathComponent(name)
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
           fileManager.isExecutableFile(atPath: candidate) {
            return candidate
        }
    }
    return nil
}

/// Like ``findBuiltProduct(_:)``, but always returns a path: when nothing is found it returns
/// where the product would be (next to the test executable), so that running it fails with a
/// message naming that path. Build products first (`swift build`, which `swift test` does).
public func builtProductPath(_ name: String) -> String {
    if let found = findBuiltProduct(name) { return found }
    let first = productSearchDirectories().first ?? FileManager.default.currentDirectoryPath
    return (first as NSString).appendingPathComponent(name)
}

/// Directories to search, nearest first, without duplicates.
private func productSearchDirectories() -> [String] {
    var starts: [String] = []
    if let explicit = ProcessInfo.processInfo.environment["ZKSH_BUILT_PRODUCTS_DIR"], !explicit.isEmpty {
        starts.append(explicit)
    }
    #if os(Linux)
    if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        starts.append((executable as NSString).deletingLastPathComponent)
    }
    #endif
    if let argument = CommandLine.arguments.first, argument.contains("/") {
        let absolute = URL(fileURLWithPath: argument).standardizedFileURL.path
        starts.append((absolute as NSString).deletingLastPathComponent)
    }
    if let executable = Bundle.main.executableURL {
        starts.append(executable.deletingLastPathComponent().path)
    }
    starts.append(Bundle.main.bundleURL.path)

    var result: [String] = []
    var seen: Set<String> = []
    for start in starts {
        var directory = start
        for _ in 0...4 {
            if seen.insert(directory).inserted { result.append(directory) }
            let parent = (directory as NSString).deletingLastPathComponent
            if parent == directory || parent.isEmpty { break }
            directory = parent
        }
    }
    return result
}

/// The root of the source checkout: the nearest directory at or above `file` that holds a
/// `Package.swift`.
///
/// `file` defaults to the *calling* source file (`#filePath` is evaluated at the call site), so a
/// test can simply call `findRepositoryRoot()`. Paths recorded at compile time are only valid on
/// the machine that built the tests, which is where they run.
///
/// - Returns: the directory's path, or nil if there is none.
public func findRepositoryRoot(startingAt file: String = #filePath) -> String? {
    var directory = (file as NSString).deletingLastPathComponent
    while !directory.isEmpty && directory != "/" {
        if FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("Package.swift")) {
            return directory
        }
        directory = (directory as NSString).deletingLastPathComponent
    }
    return nil
}
