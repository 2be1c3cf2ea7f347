import Testing
@testable import ZKShellCommands

@Suite("ShellTokenizer")
struct TokenizerTests {
    @Test func splitsWordsOnSpacesAndTabs() throws {
        #expect(try ShellTokenizer.commands(in: "ls  -s\t/app") == [["ls", "-s", "/app"]])
    }

    @Test func splitsCommandsOnSemicolonsAndNewlines() throws {
        #expect(try ShellTokenizer.commands(in: "create /x hi; get /x\nls /;;\n\n") == [
            ["create", "/x", "hi"], ["get", "/x"], ["ls", "/"],
        ])
        #expect(try ShellTokenizer.commands(in: "ls /a;ls /b") == [["ls", "/a"], ["ls", "/b"]])
        #expect(try ShellTokenizer.commands(in: "ls /\r\nget /x") == [["ls", "/"], ["get", "/x"]])
    }

    @Test func singleQuotesAreLiteral() throws {
        #expect(try ShellTokenizer.commands(in: #"set /x 'a b; c \n "d"'"#) == [["set", "/x", #"a b; c \n "d""#]])
    }

    @Test func doubleQuotesUnderstandEscapes() throws {
        #expect(try ShellTokenizer.commands(in: #"set /x "say \"hi\"\n\ttab \\ \q""#) == [
            ["set", "/x", "say \"hi\"\n\ttab \\ \\q"],
        ])
    }

    @Test func backslashOutsideQuotesEscapesOneCharacter() throws {
        #expect(try ShellTokenizer.commands(in: ##"create /a\ b x\;y \#z"##) == [["create", "/a b", "x;y", "#z"]])
        #expect(try ShellTokenizer.commands(in: "ls \\\n/app") == [["ls", "/app"]])
    }

    @Test func quotesJoinWithAdjacentText() throws {
        #expect(try ShellTokenizer.commands(in: #"set /x a'b c'"d e"f"#) == [["set", "/x", "ab cd ef"]])
    }

    @Test func emptyQuotesMakeAnEmptyWord() throws {
        #expect(try ShellTokenizer.commands(in: "set /x ''") == [["set", "/x", ""]])
        #expect(try ShellTokenizer.commands(in: #"set /x """#) == [["set", "/x", ""]])
    }

    @Test func quotedSeparatorsDoNotSplit() throws {
        #expect(try ShellTokenizer.commands(in: "set /x 'a;b\nc'; get /x") == [["set", "/x", "a;b\nc"], ["get", "/x"]])
    }

    @Test func commentsRunToTheEndOfTheLine() throws {
        #expect(try ShellTokenizer.commands(in: "# setup\nls / # the root\nget /a#b") == [["ls", "/"], ["get", "/a#b"]])
        #expect(try ShellTokenizer.commands(in: "ls '#not'") == [["ls", "#not"]])
    }

    @Test func unterminatedInputIsAnError() {
        #expect(throws: ShellTokenizer.SyntaxError.unterminatedQuote("'")) { try ShellTokenizer.commands(in: "get 'x") }
        #expect(throws: ShellTokenizer.SyntaxError.unterminatedQuote("\"")) { try ShellTokenizer.commands(in: "get \"x") }
        #expect(throws: ShellTokenizer.SyntaxError.danglingBackslash) { try ShellTokenizer.commands(in: "get x\\") }
    }

    @Test func scanReportsWordOffsetsAndOpenWords() {
        let scan = ShellTokenizer.scan("ls; get 'a b")
        #expect(scan.commands.count == 2)
        #expect(scan.commands[1] == [
            ShellTokenizer.Word(text: "get", start: 4, end: 7),
            ShellTokenizer.Word(text: "a b", start: 8, end: 12),
        ])
        #expect(scan.endsInWord)
        #expect(scan.openQuote == "'")
        #expect(!scan.isComplete)

        let trailing = ShellTokenizer.scan("get ")
        #expect(!trailing.endsInWord)
        #expect(trailing.endsInCommand)
        let afterSeparator = ShellTokenizer.scan("ls /;")
        #expect(!afterSeparator.endsInCommand)
    }

    @Test(arguments: ["plain", "a b", "semi;colon", "it's", #"q"uote"#, #"back\slash"#, "#hash", "two\nlines", "", "tab\there"])
    func quoteRoundTrips(_ word: String) throws {
        #expect(try ShellTokenizer.commands(in: "cmd " + ShellTokenizer.quote(word)) == [["cmd", word]])
    }

    @Test func continuationDetection() {
        #expect(ShellRunner.endsWithContinuation("ls \\\n"))
        #expect(!ShellRunner.endsWithContinuation("ls \\\\\n"))
        #expect(!ShellRunner.endsWithContinuation("ls\n"))
    }
}
