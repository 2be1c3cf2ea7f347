import Testing

@testable import ZooKeeperProtocol

/// A path, whether it is a sequential create's prefix, and whether §10 accepts it.
struct PathCase: Sendable, CustomTestStringConvertible {
    let path: String
    let sequential: Bool
    let valid: Bool

    var testDescription: String {
        let escaped = self.path.unicodeScalars.map { scalar -> String in
            (0x21...0x7e).contains(scalar.value) ? String(scalar) : "\\u{\(String(scalar.value, radix: 16))}"
        }.joined()
        return "\"\(escaped)\"\(self.sequential ? " sequential" : "") \(self.valid ? "valid" : "invalid")"
    }
}

private func valid(_ path: String, sequential: Bool = false) -> PathCase { PathCase(path: path, sequential: sequential, valid: true) }
private func invalid(_ path: String, sequential: Bool = false) -> PathCase { PathCase(path: path, sequential: sequential, valid: false) }

@Suite("ZooKeeperPath")
struct PathTests {
    static let validation: [PathCase] = [
        // Valid
        valid("/"), valid("/a"), valid("/a/b"), valid("/zookeeper/quota"), valid("/a-b_c.d"), valid("/a b"),
        valid("/..."), valid("/.a"), valid("/a."), valid("/..a"), valid("/a.."), valid("/a/.../b"),
        valid("/é"), valid("/日本語/パス"), valid(Sample.unicodePath),
        valid("/\u{20}"), valid("/~"), valid("/\u{A0}"), valid("/\u{7FF}"), valid("/\u{D7FF}"), valid("/\u{F900}"), valid("/\u{FFEF}"),
        // A combining mark may start a segment: the `/` before it still separates (Java works on UTF-16 units).
        valid("/\u{301}"), valid("/a/\u{301}b"), valid("/e\u{301}"),
        valid("/0000000001"),
        // Invalid: shape
        invalid(""), invalid("a"), invalid("a/b"), invalid(" /a"), invalid("/a/"), invalid("/a/b/"), invalid("//"),
        invalid("//a"), invalid("/a//b"), invalid("/a/\u{301}/"),
        invalid("/a//\u{301}b"),  // an empty segment hidden by a combining mark in Swift's Character view
        // Invalid: relative segments
        invalid("/."), invalid("/.."), invalid("/a/."), invalid("/a/.."), invalid("/./a"), invalid("/../a"), invalid("/a/./b"),
        invalid("/a/../b"),
        // Invalid: characters
        invalid("/a\u{0}"), invalid("/\u{0}"), invalid("/a\u{1}"), invalid("/a\u{9}b"), invalid("/a\n"), invalid("/\u{1F}"),
        invalid("/\u{7F}"), invalid("/\u{80}"), invalid("/\u{9F}"), invalid("/\u{E000}"), invalid("/\u{F8FF}"),
        invalid("/\u{FFF0}"), invalid("/\u{FFFE}"), invalid("/\u{FFFF}"), invalid("/😀"), invalid("/a/\u{10000}"),
        invalid("/\u{10FFFF}"),
        // Sequential creates validate path + "1" (§10): a trailing slash is allowed.
        valid("/queue/", sequential: true), invalid("/queue/"), valid("/queue/job-", sequential: true),
        valid("/", sequential: true), valid("/a/.", sequential: true), valid("/a/..", sequential: true),
        invalid("", sequential: true), invalid("//", sequential: true), invalid("/a//", sequential: true),
        invalid("queue/", sequential: true), invalid("/q\u{0}/", sequential: true),
    ]

    @Test("validation per protocol.md §10", arguments: validation)
    func validate(_ sample: PathCase) {
        let error = ZooKeeperPath.validationError(sample.path, isSequential: sample.sequential)
        if sample.valid {
            #expect(error == nil)
        } else {
            #expect(error != nil)
        }
        if !sample.sequential {
            #expect(ZooKeeperPath.isValid(sample.path) == sample.valid)
        }
    }

    @Test func validationMessages() {
        #expect(ZooKeeperPath.validationError("") == "path must not be empty")
        #expect(ZooKeeperPath.validationError("a") == "path must start with / character")
        #expect(ZooKeeperPath.validationError("/a/") == "path must not end with / character")
        #expect(ZooKeeperPath.validationError("/a//b") == "empty node name specified")
        #expect(ZooKeeperPath.validationError("/a/..") == "relative paths not allowed")
        #expect(ZooKeeperPath.validationError("/a\u{0}") == "null character not allowed")
        #expect(ZooKeeperPath.validationError("/a\u{7f}") == "invalid character \\u{7f}")
        #expect(ZooKeeperPath.validationError("/\u{301}") == nil)
    }

    @Test("resolve", arguments: [
        ("a", "/", "/a"), ("a/b", "/", "/a/b"), ("b", "/a", "/a/b"), ("/x", "/a", "/x"), ("/", "/a/b", "/"),
        ("..", "/a/b", "/a"), ("../c", "/a/b", "/a/c"), ("../../c", "/a/b", "/c"), (".", "/a", "/a"), ("./b/./c", "/a", "/a/b/c"),
        ("..", "/", "/"), ("../../..", "/a", "/"), ("/a/../../b", "/x", "/b"), ("a//b/", "/", "/a/b"), ("", "/a", "/a"),
        ("...", "/a", "/a/..."), (".hidden", "/a", "/a/.hidden"), ("b/..", "/a", "/a"), ("/a/./b/", "/", "/a/b"),
        ("\u{301}x", "/a", "/a/\u{301}x"), ("x/\u{301}/..", "/", "/x"),
    ] as [(String, String, String)])
    func resolve(_ path: String, _ base: String, _ expected: String) {
        #expect(ZooKeeperPath.resolve(path, against: base) == expected)
    }

    @Test("parent and name", arguments: [
        ("/", "/", ""), ("/a", "/", "a"), ("/a/b", "/a", "b"), ("/a/b/c", "/a/b", "c"), ("/zookeeper/quota", "/zookeeper", "quota"),
        ("/日本/語", "/日本", "語"), ("/a/\u{301}", "/a", "\u{301}"), ("/a/\u{301}b/c", "/a/\u{301}b", "c"),
    ] as [(String, String, String)])
    func parentAndName(_ path: String, _ parent: String, _ name: String) {
        #expect(ZooKeeperPath.parent(of: path) == parent)
        #expect(ZooKeeperPath.name(of: path) == name)
        if path != "/" {
            #expect(ZooKeeperPath.join(parent, name) == path)
        }
    }

    @Test func join() {
        #expect(ZooKeeperPath.join("/", "a") == "/a")
        #expect(ZooKeeperPath.join("/a", "b") == "/a/b")
        #expect(ZooKeeperPath.join("/a/b", "0000000001") == "/a/b/0000000001")
        #expect(ZooKeeperPath.join("/a", "\u{301}") == "/a/\u{301}")
    }

    @Test("chroot prepend", arguments: [
        (nil, "/a", "/a"), ("", "/a", "/a"), ("/", "/a/b", "/a/b"), ("/app", "/", "/app"), ("/app", "/a", "/app/a"),
        ("/app/v1", "/a/b", "/app/v1/a/b"), ("/app", "/\u{301}", "/app/\u{301}"),
    ] as [(String?, String, String)])
    func prependChroot(_ chroot: String?, _ path: String, _ expected: String) {
        #expect(ZooKeeperPath.prependChroot(chroot, to: path) == expected)
        #expect(ZooKeeperPath.stripChroot(chroot, from: expected) == path)
    }

    @Test("chroot strip", arguments: [
        (nil, "/x", "/x"), ("", "/x", "/x"), ("/", "/x", "/x"), ("/app", "/app", "/"), ("/app", "/app/a", "/a"),
        ("/app", "/app/a/b", "/a/b"), ("/app", "/application", "/application"), ("/app", "/other/app", "/other/app"),
        ("/app", "/ap", "/ap"), ("/app", "/", "/"), ("/app/v1", "/app/v1/x", "/x"), ("/app/v1", "/app", "/app"),
        ("/app", "/app/\u{301}x", "/\u{301}x"), ("/caf\u{E9}", "/cafe\u{301}/x", "/cafe\u{301}/x"),
    ] as [(String?, String, String)])
    func stripChroot(_ chroot: String?, _ path: String, _ expected: String) {
        let stripped = ZooKeeperPath.stripChroot(chroot, from: path)
        #expect(Array(stripped.utf8) == Array(expected.utf8))
    }
}
