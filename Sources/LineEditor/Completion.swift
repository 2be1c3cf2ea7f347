extension LineEditor {
    /// The answer of a `completionProvider` for one press of Tab.
    ///
    /// Offsets count `Character`s of the line passed to the provider.
    public struct Completion: Sendable, Equatable {
        /// Where the word being completed starts; the text from here up to the
        /// cursor is replaced. Clamped to `0...cursor`.
        public var replaceFrom: Int
        /// Full replacements for that word, in the order they should be listed.
        /// A candidate ending in "/" is not followed by a space when inserted.
        public var candidates: [String]

        public init(replaceFrom: Int, candidates: [String]) {
            self.replaceFrom = replaceFrom
            self.candidates = candidates
        }

        /// No candidates: Tab just beeps.
        public static let none = Completion(replaceFrom: 0, candidates: [])
    }
}

/// What a press of Tab does to the line, decided without touching libedit.
enum CompletionEdit: Equatable {
    /// Nothing to insert or list: beep.
    case beep
    /// Delete `deleting` Unicode scalars before the cursor, then insert `inserting`.
    case replaceWord(deleting: Int, inserting: String)
    /// Nothing more can be inserted: show these candidates.
    case list([String])
}

enum CompletionPlanner {
    /// Decides the edit for `completion` on `line` with the cursor at
    /// `cursor` (both in `Character`s):
    ///
    /// - no candidates: beep;
    /// - one candidate: replace the word with it, plus a space unless it ends
    ///   in "/" or the cursor already sits before whitespace;
    /// - several: replace the word with their longest common prefix if that
    ///   is longer than the word, otherwise list them.
    static func plan(line: String, cursor: Int, completion: LineEditor.Completion) -> CompletionEdit {
        let characters = Array(line)
        let cursor = min(max(cursor, 0), characters.count)
        let start = min(max(completion.replaceFrom, 0), cursor)
        let word = String(characters[start..<cursor])
        let deleting = word.unicodeScalars.count

        var seen = Set<String>()
        let candidates = completion.candidates.filter { seen.insert($0).inserted }

        switch candidates.count {
        case 0:
            return .beep
        case 1:
            let candidate = candidates[0]
            let nextIsSpace = cursor < characters.count && characters[cursor].isWhitespace
            let suffix = candidate.hasSuffix("/") || nextIsSpace ? "" : " "
            let replacement = candidate + suffix
            if replacement == word { return .beep }
            return .replaceWord(deleting: deleting, inserting: replacement)
        default:
            let prefix = longestCommonPrefix(candidates)
            if prefix.count > word.count {
                return .replaceWord(deleting: deleting, inserting: prefix)
            }
            return .list(candidates)
        }
    }

    /// The longest common prefix, compared by `Character`.
    static func longestCommonPrefix(_ strings: [String]) -> String {
        guard var prefix = strings.first.map(Array.init) else { return "" }
        for string in strings.dropFirst() {
            var common = 0
            for (a, b) in zip(prefix, string) {
                guard a == b else { break }
                common += 1
            }
            prefix.removeSubrange(common...)
            if prefix.isEmpty { break }
        }
        return String(prefix)
    }

    /// Lays `items` out in columns, ordered down then across like ls(1), each
    /// row shorter than `width` terminal columns and ending in "\n". At most
    /// `limit` items are shown; a last line says how many were left out.
    static func columns(_ items: [String], width: Int, limit: Int) -> String {
        guard !items.isEmpty else { return "" }
        let shown = Array(items.prefix(max(limit, 1)))
        let widths = shown.map(TerminalText.width)
        let gap = 2
        let columnWidth = (widths.max() ?? 0) + gap
        // n columns take n * columnWidth - gap cells; stay below `width` so
        // that no terminal wraps the row on its own.
        let columnCount = max(1, (max(width, 1) - 1 + gap) / columnWidth)
        let rowCount = (shown.count + columnCount - 1) / columnCount

        var output = ""
        for row in 0..<rowCount {
            var line = ""
            for column in 0..<columnCount {
                let index = column * rowCount + row
                guard index < shown.count else { break }
                let isLast = (column + 1) * rowCount + row >= shown.count
                line += shown[index]
                if !isLast {
                    line += String(repeating: " ", count: columnWidth - widths[index])
                }
            }
            output += line + "\n"
        }
        if items.count > shown.count {
            output += "… and \(items.count - shown.count) more\n"
        }
        return output
    }
}
