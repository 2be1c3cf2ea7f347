/// A prompt prepared for libedit.
///
/// libedit measures the prompt to place the cursor, so invisible terminal
/// escape sequences (ANSI colours, window titles) must be marked: with
/// `EL_PROMPT_ESC` everything between two `ignoreMarker` characters is sent to
/// the terminal but takes no room.
///
/// This libedit glues a marked sequence to the visible character that follows
/// it and silently drops a sequence with nothing after it, so a prompt that
/// ends in an escape sequence (typically a colour reset) gets that sequence
/// moved in front of its last visible character:
///
///     "\e[32mzk\e[0m> \e[0m"  ->  "\u{1}\e[32m\u{1}zk\u{1}\e[0m\u{1}>\u{1}\e[0m\u{1} "
///
/// Multi-line prompts are not supported (libedit cannot measure a newline in a prompt).
struct PromptText: Equatable, Sendable {
    /// Brackets invisible sequences in `forEditor`; passed to `EL_PROMPT_ESC`.
    static let ignoreMarker: Character = "\u{1}"

    /// The prompt as given, for echoing a copy of the prompt line into the scrollback.
    var raw: String
    /// The prompt for libedit's prompt function, escape sequences bracketed by `ignoreMarker`.
    var forEditor: String

    /// Terminal cells the prompt takes.
    var width: Int

    init(_ prompt: String) {
        let cleaned = prompt.filter { $0 != Self.ignoreMarker }
        let segments = Self.segments(of: cleaned)
        raw = cleaned
        forEditor = Self.mark(segments)
        width = segments.reduce(0) { total, segment in
            guard case .visible(let text) = segment else { return total }
            return total + TerminalText.width(text)
        }
    }

    /// A run of visible text or of consecutive escape sequences.
    enum Segment: Equatable {
        case visible(String)
        case invisible(String)
    }

    /// Splits `text` into visible runs and runs of escape sequences: CSI
    /// (`ESC [ … final`), OSC (`ESC ] … BEL` or `ESC ] … ESC \`), and two-character
    /// `ESC x` sequences. An unterminated sequence runs to the end of the text.
    static func segments(of text: String) -> [Segment] {
        let scalars = Array(text.unicodeScalars)
        var segments: [Segment] = []
        var visible = String.UnicodeScalarView()
        var invisible = String.UnicodeScalarView()
        var index = 0

        func flushVisible() {
            if !visible.isEmpty {
                segments.append(.visible(String(visible)))
                visible = String.UnicodeScalarView()
            }
        }
        func flushInvisible() {
            if !invisible.isEmpty {
                segments.append(.invisible(String(invisible)))
                invisible = String.UnicodeScalarView()
            }
        }

        while index < scalars.count {
            guard scalars[index] == "\u{1B}" else {
                flushInvisible()
                visible.append(scalars[index])
                index += 1
                continue
            }
            flushVisible()
            let end = endOfEscapeSequence(in: scalars, startingAt: index)
            invisible.append(contentsOf: scalars[index..<end])
            index = end
        }
        flushVisible()
        flushInvisible()
        return segments
    }

    /// The index just past the escape sequence starting at `start` (which holds ESC).
    private static func endOfEscapeSequence(in scalars: [Unicode.Scalar], startingAt start: Int) -> Int {
        var index = start + 1
        guard index < scalars.count else { return index }
        switch scalars[index] {
        case "[":
            // CSI: parameter and intermediate bytes, then one final byte in 0x40...0x7E.
            index += 1
            while index < scalars.count {
                let value = scalars[index].value
                index += 1
                if (0x40...0x7E).contains(value) { break }
            }
            return index
        case "]":
            // OSC: up to BEL or ST (ESC \).
            index += 1
            while index < scalars.count {
                if scalars[index] == "\u{07}" { return index + 1 }
                if scalars[index] == "\u{1B}", index + 1 < scalars.count, scalars[index + 1] == "\\" {
                    return index + 2
                }
                index += 1
            }
            return index
        default:
            return index + 1
        }
    }

    /// Joins segments into libedit's marked form, moving a trailing invisible
    /// run in front of the last visible character (see the type's documentation).
    static func mark(_ segments: [Segment]) -> String {
        var segments = segments
        if case .invisible(let trailing)? = segments.last,
           let lastVisible = segments.lastIndex(where: { if case .visible = $0 { return true } else { return false } }),
           case .visible(let text) = segments[lastVisible] {
            segments.removeLast()
            var head = text
            let tail = head.removeLast()
            segments[lastVisible] = .visible(head)
            segments.insert(contentsOf: [.invisible(trailing), .visible(String(tail))], at: lastVisible + 1)
        }
        // Two marked runs must never touch: libedit would glue the first to the
        // second's opening marker, which is not printable, and drop it.
        var normalized: [Segment] = []
        for segment in segments {
            switch (normalized.last, segment) {
            case (_, .visible("")):
                continue
            case (.invisible(let previous)?, .invisible(let next)):
                normalized[normalized.count - 1] = .invisible(previous + next)
            default:
                normalized.append(segment)
            }
        }
        let marker = String(ignoreMarker)
        var result = ""
        for segment in normalized {
            switch segment {
            case .visible(let text):
                result += text
            case .invisible(let sequence):
                result += marker + sequence + marker
            }
        }
        return result
    }
}
