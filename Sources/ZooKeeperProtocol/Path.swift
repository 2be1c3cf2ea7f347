/// ZooKeeper path rules (`PathUtils.validatePath`) and chroot handling.
public enum ZooKeeperPath {
    /// Why a path is invalid, or nil when it is valid.
    ///
    /// A valid path starts with `/`, does not end with `/` (except `/` itself), has no empty, `.`
    /// or `..` segment, and contains no control characters, surrogates, private-use or U+FFF0-FFFF
    /// characters.
    public static func validationError(_ path: String, isSequential: Bool = false) -> String? {
        let checked = isSequential ? path + "1" : path
        guard !checked.isEmpty else { return "path must not be empty" }
        guard checked.hasPrefix("/") else { return "path must start with / character" }
        if checked == "/" { return nil }
        if checked.hasSuffix("/") { return "path must not end with / character" }
        let segments = checked.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for segment in segments {
            if segment.isEmpty { return "empty node name specified" }
            if segment == "." || segment == ".." { return "relative paths not allowed" }
        }
        for scalar in checked.unicodeScalars {
            let value = scalar.value
            if value == 0 { return "null character not allowed" }
            if value <= 0x1f || (0x7f...0x9f).contains(value) || (0xd800...0xf8ff).contains(value)
                || (0xfff0...0xffff).contains(value) || value > 0xffff
            {
                return "invalid character \\u{\(String(value, radix: 16))}"
            }
        }
        return nil
    }

    /// Whether the path is valid.
    public static func isValid(_ path: String) -> Bool { validationError(path) == nil }

    /// The parent of an absolute path (`/` for `/a`, `/` for `/`).
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// The last segment of an absolute path (`""` for `/`).
    public static func name(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// Joins a parent path and a child name.
    public static func join(_ parent: String, _ child: String) -> String {
        parent == "/" ? "/" + child : parent + "/" + child
    }

    /// Resolves `path` against `base`: absolute paths stay, relative ones are appended, and `.` and
    /// `..` segments are folded. Never goes above `/`.
    public static func resolve(_ path: String, against base: String) -> String {
        let combined = path.hasPrefix("/") ? path : (base == "/" ? "/" : base + "/") + path
        var segments: [Substring] = []
        for segment in combined.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": if !segments.isEmpty { segments.removeLast() }
            default: segments.append(segment)
            }
        }
        return "/" + segments.joined(separator: "/")
    }

    /// Adds a chroot to a client path (`/app` + `/a` is `/app/a`; `/app` + `/` is `/app`).
    public static func prependChroot(_ chroot: String?, to path: String) -> String {
        guard let chroot, !chroot.isEmpty, chroot != "/" else { return path }
        return path == "/" ? chroot : chroot + path
    }

    /// Removes a chroot from a server path; paths outside the chroot are returned unchanged.
    public static func stripChroot(_ chroot: String?, from path: String) -> String {
        guard let chroot, !chroot.isEmpty, chroot != "/" else { return path }
        if path == chroot { return "/" }
        if path.hasPrefix(chroot + "/") { return String(path.dropFirst(chroot.count)) }
        return path
    }
}
