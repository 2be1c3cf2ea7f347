/// Splits shell input into commands and words, with shell-like quoting.
///
/// - Words are separated by spaces and tabs.
/// - Commands are separated by `;` and newlines.
/// - `'single quotes'` keep everything literally.
/// - `"double quotes"` understand `\"`, `\\`, `\n`, `\t`, `\r` and `\0`; any other backslash
///   stays as it is.
/// - Outside quotes a backslash makes the next character literal (`\;`, `\ `, `\#`); a backslash
///   before a newline joins the lines.
/// - `#` at the start of a word comments out the rest of the line.
/// - `''` is an empty word.
///
/// Offsets count `Character`s, as the line editor does.
public enum ShellTokenizer {
    /// One word of a command.
    public struct Word: Equatable, Sendable {
        /// The word with quotes and escapes removed.
        public var text: String
        /// Offset of the word's first character (a quote, if it starts with one) in the input.
        public var start: Int
        /// Offset just past the word's last character.
        public var end: Int
    }

    /// Why input could not be split.
    public enum SyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
        case unterminatedQuote(Character)
        case danglingBackslash

        public var description: String {
            switch self {
            case .unterminatedQuote(let quote): return "unterminated \(quote) quote"
            case .danglingBackslash: return "backslash at the end of the input"
            }
        }
    }

    /// The result of scanning possibly incomplete input.
    public struct Scan: Equatable, Sendable {
        /// The commands found, each a non-empty list of words.
        public var commands: [[Word]]
        /// Whether the input ends inside a word (no separator after the last word).
        public var endsInWord: Bool
        /// The open quote at the end of the input, if any.
        public var openQuote: Character?
        /// Whether the input ends in a backslash.
        public var danglingBackslash: Bool
        /// Whether the input ends in the same command as the last one listed (no `;` or newline after it).
        public var endsInCommand: Bool

        /// Whether the input is complete: no open quote, no dangling backslash.
        public var isComplete: Bool { openQuote == nil && !danglingBackslash }
    }

    /// Splits a script into commands, each a list of words. Empty commands and comments are
    /// dropped.
    public static func commands(in script: String) throws(SyntaxError) -> [[String]] {
        let scan = scan(script)
        if let quote = scan.openQuote { throw .unterminatedQuote(quote) }
        if scan.danglingBackslash { throw .danglingBackslash }
        return scan.commands.map { $0.map(\.text) }
    }

    /// Scans input that may be incomplete (for completion and for reading a script line by line).
    public static func scan(_ text: String) -> Scan {
        let characters = Array(text)
        var commands: [[Word]] = []
        var current: [Word] = []
        var word: String?
        var wordStart = 0
        var openQuote: Character?
        var dangling = false
        var index = 0

        func isNewline(_ character: Character) -> Bool {
            character == "\n" || character == "\r\n" || character == "\r"
        }
        func beginWord() {
            if word == nil {
                word = ""
                wordStart = index
            }
        }
        func endWord() {
            if let text = word {
                current.append(Word(text: text, start: wordStart, end: index))
                word = nil
            }
        }
        func endCommand() {
            endWord()
            if !current.isEmpty {
                commands.append(current)
                current = []
            }
        }

        scanning: while index < characters.count {
            let character = characters[index]
            switch character {
            case " ", "\t":
                endWord()
                index += 1
            case ";":
                endCommand()
                index += 1
            case _ where isNewline(character):
                endCommand()
                index += 1
            case "#" where word == nil:
                while index < characters.count, !isNewline(characters[index]) { index += 1 }
            case "\\":
                guard index + 1 < characters.count else {
                    beginWord()
                    dangling = true
                    index += 1
                    break scanning
                }
                let next = characters[index + 1]
                if isNewline(next) {
                    index += 2  // a line continuation disappears
                    continue
                }
                beginWord()
                word!.append(next)
                index += 2
            case "'":
                beginWord()
                index += 1
                while index < characters.count, characters[index] != "'" {
                    word!.append(characters[index])
                    index += 1
                }
                guard index < characters.count else {
                    openQuote = "'"
                    break scanning
                }
                index += 1
            case "\"":
                beginWord()
                index += 1
                while index < characters.count, characters[index] != "\"" {
                    let inner = characters[index]
                    if inner == "\\", index + 1 < characters.count {
                        let escaped = characters[index + 1]
                        switch escaped {
                        case "\"", "\\": word!.append(escaped)
                        case "n": word!.append("\n")
                        case "t": word!.append("\t")
                        case "r": word!.append("\r")
                        case "0": word!.append("\0")
                        case _ where isNewline(escaped): break
                        default: word!.append("\\"); word!.append(escaped)
                        }
                        index += 2
                    } else {
                        word!.append(inner)
                        index += 1
                    }
                }
                guard index < characters.count else {
                    openQuote = "\""
                    break scanning
                }
                index += 1
            default:
                beginWord()
                word!.append(character)
                index += 1
            }
        }
        let endsInWord = word != nil
        endWord()
        let endsInCommand = !current.isEmpty
        if !current.isEmpty { commands.append(current) }
        return Scan(commands: commands, endsInWord: endsInWord, openQuote: openQuote,
                    danglingBackslash: dangling, endsInCommand: endsInCommand)
    }

    /// Quotes a word so that scanning it gives it back unchanged: plain words stay as they are,
    /// others get backslashes before special characters.
    public static func quote(_ word: String) -> String {
        if word.isEmpty { return "''" }
        if word.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" || $0 == "\0" }) {
            var quoted = "\""
            for character in word {
                switch character {
                case "\"": quoted += "\\\""
                case "\\": quoted += "\\\\"
                case "\n": quoted += "\\n"
                case "\r": quoted += "\\r"
                case "\r\n": quoted += "\\r\\n"
                case "\t": quoted += "\\t"
                case "\0": quoted += "\\0"
                default: quoted.append(character)
                }
            }
            return quoted + "\""
        }
        var quoted = ""
        for character in word {
            switch character {
            case " ", "\t", ";", "'", "\"", "\\", "#":
                quoted.append("\\")
                quoted.append(character)
            default:
                quoted.append(character)
            }
        }
        return quoted
    }
}
