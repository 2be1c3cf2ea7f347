internal import CLibEdit

/// Measuring text the way the terminal lays it out.
enum TerminalText {
    /// Terminal cells taken by `text`: wcwidth(3) per scalar, with
    /// unprintable scalars counting as zero. Needs a UTF-8 LC_CTYPE for
    /// anything beyond ASCII (see `LineEditor`).
    static func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { total, scalar in
            total + max(0, Int(zksh_wcwidth(wchar_t(bitPattern: scalar.value))))
        }
    }
}
