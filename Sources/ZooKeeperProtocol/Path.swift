/// ZooKeeper path rules (`PathUtils.validatePath`) and chroot handling.
public enum ZooKeeperPath {
    /// Why a path is invalid, or nil when it is valid.
    ///
    /// A valid path starts with `/`, does not end with `/` (except `/` itself), has no empty, `.`
    /// or `..` segment, and contains no control characters, surrogates, private-use or U+FFF0-FFFF
    /// characters.
    public static func validationError(_ path: String, isSequential: Bool = false) -> String? {
        let checked = isSequential ? path + "1" : path
        // Work on bytes, not Characters: a combining mark after `/` would otherwise merge with it
        // into one grapheme and hide the separator (`"/\u{301}"` does not `hasPrefix("/")`).
        let bytes = checked.utf8
        guard let first = bytes.first else { return "path must not be empty" }
        guard first == slash else { return "path must start with / character" }
        if bytes.count == 1 { return nil }
        if bytes.last == slash { return "path must not end with / character" }
        let segments = bytes.dropFirst().split(separator: slash, omittingEmptySubsequences: false)
        for segment in segments {
            if segment.isEmpty { return "empty node name specified" }
            if segment.elementsEqual(".".utf8) || segment.elementsEqual("..".utf8) { return "relative paths not allowed" }
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
        guard let slashIndex = path.utf8.lastIndex(of: slash), slashIndex != path.utf8.startIndex else { return "/" }
        return String(decoding: path.utf8[..<slashIndex], as: UTF8.self)
    }

    /// The last segment of an absolute path (`""` for `/`).
    public static func name(of path: String) -> String {
        guard let slashIndex = path.utf8.lastIndex(of: slash) else { return path }
        return String(decoding: path.utf8[path.utf8.index(after: slashIndex)...], as: UTF8.self)
    }

    /// Joins a parent path and a child name.
    public static func join(_ parent: String, _ child: String) -> String {
        parent == "/" ? "/" + child : parent + "/" + child
    }

    /// Resolves `path` against `base`: absolute paths stay, relative ones are appended, and `.` and
    /// `..` segments are folded. Never goes above `/`.
    public static func resolve(_ path: String, against base: String) -> String {
        let combined = path.utf8.first == slash ? path : (base == "/" ? "/" : base + "/") + path
        var segments: [String] = []
        for segment in combined.utf8.split(separator: slash, omittingEmptySubsequences: true) {
            if segment.elementsEqual(".".utf8) { continue }
            if segment.elementsEqual("..".utf8) {
                if !segments.isEmpty { segments.removeLast() }
                continue
            }
            segments.append(String(decoding: segment, as: UTF8.self))
        }
        return "/" + segments.joined(separator: "/")
    }

    /// Adds a chroot to a client path (`/app` + `/a` is `/app/a`; `/app` + `/` is `/app`).
    public static func prependChroot(_ chroot: String?, to path: String) -> String {
        guard let chroot, !chroot.isEmpty, chroot != "/" else { return path }
        return path == "/" ? chroot : chroot + path
    }

    /// Removes a chroot from a server path; paths outside the chroot are returned unchanged.
    /// The comparison is byte-wise, as on the server.
    public static func stripChroot(_ chroot: String?, from path: String) -> String {
        guard let chroot, !chroot.isEmpty, chroot != "/" else { return path }
        if path.utf8.elementsEqual(chroot.utf8) { return "/" }
        let rest = path.utf8.dropFirst(chroot.utf8.count)
        if path.utf8.starts(with: chroot.utf8), rest.first == slash {
            return String(decoding: rest, as: UTF8.self)
        }
        return path
    }

    private static let slash = UInt8(ascii: "/")
}
