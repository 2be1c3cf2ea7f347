/// The directive lists of SASL DIGEST-MD5 (RFC 2831) challenges and responses,
/// `key=value` or `key="quoted, value"`, as both sides of the SASL op (102) exchange them.
public enum SASLDigestFields {
    /// Parses directives separated by commas: keys are lowercased, quoted values unescaped, and
    /// the first occurrence of a key wins.
    public static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        var index = text.startIndex
        while index < text.endIndex {
            while index < text.endIndex, text[index] == "," || text[index] == " " { index = text.index(after: index) }
            guard let equals = text[index...].firstIndex(of: "=") else { break }
            let key = text[index..<equals].trimmingDirectiveSpaces().lowercased()
            index = text.index(after: equals)
            var value = ""
            if index < text.endIndex, text[index] == "\"" {
                index = text.index(after: index)
                while index < text.endIndex, text[index] != "\"" {
                    if text[index] == "\\", text.index(after: index) < text.endIndex { index = text.index(after: index) }
                    value.append(text[index])
                    index = text.index(after: index)
                }
                if index < text.endIndex { index = text.index(after: index) }
            } else {
                let end = text[index...].firstIndex(of: ",") ?? text.endIndex
                value = text[index..<end].trimmingDirectiveSpaces()
                index = end
            }
            if fields[key] == nil { fields[key] = value }
        }
        return fields
    }
}

extension StringProtocol {
    fileprivate func trimmingDirectiveSpaces() -> String {
        String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
