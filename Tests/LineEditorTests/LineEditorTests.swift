import Glibc
import Testing
@testable import LineEditor

@Suite struct PromptTextTests {
    @Test func plainPromptIsUnchanged() {
        let prompt = PromptText("zk> ")
        #expect(prompt.forEditor == "zk> ")
        #expect(prompt.raw == "zk> ")
        #expect(prompt.width == 4)
    }

    @Test func colourCodesAreMarkedAndTakeNoRoom() {
        let prompt = PromptText("\u{1B}[32mzk\u{1B}[0m> ")
        #expect(prompt.forEditor == "\u{1}\u{1B}[32m\u{1}zk\u{1}\u{1B}[0m\u{1}> ")
        #expect(prompt.width == 4)
    }

    @Test func trailingSequenceMovesBeforeLastVisibleCharacter() {
        let prompt = PromptText("zk> \u{1B}[0m")
        #expect(prompt.forEditor == "zk>\u{1}\u{1B}[0m\u{1} ")
    }

    @Test func adjacentSequencesAreMergedAfterMove() {
        // "\e[1m" + " " + "\e[0m": moving the reset in front of " " must not
        // leave two marked runs touching.
        let prompt = PromptText("\u{1B}[1m \u{1B}[0m")
        #expect(prompt.forEditor == "\u{1}\u{1B}[1m\u{1B}[0m\u{1} ")
    }

    @Test func oscTitleSequence() {
        let segments = PromptText.segments(of: "\u{1B}]0;title\u{07}zk> ")
        #expect(segments == [.invisible("\u{1B}]0;title\u{07}"), .visible("zk> ")])
    }

    @Test func wideCharactersCountTwice() {
        // As LineEditor.init arranges: widths need a UTF-8 LC_CTYPE.
        _ = setlocale(LC_CTYPE, "C.UTF-8")
        #expect(PromptText("日本> ").width == 6)
    }
}

@Suite struct CompletionPlannerTests {
    typealias C = LineEditor.Completion

    @Test func noCandidatesBeeps() {
        #expect(CompletionPlanner.plan(line: "ls /x", cursor: 5, completion: C(replaceFrom: 3, candidates: [])) == .beep)
    }

    @Test func singleCandidateGetsSpace() {
        #expect(CompletionPlanner.plan(line: "sta", cursor: 3, completion: C(replaceFrom: 0, candidates: ["stat"]))
            == .replaceWord(deleting: 3, inserting: "stat "))
    }

    @Test func directoryCandidateGetsNoSpace() {
        #expect(CompletionPlanner.plan(line: "ls /zoo", cursor: 7, completion: C(replaceFrom: 3, candidates: ["/zookeeper/"]))
            == .replaceWord(deleting: 4, inserting: "/zookeeper/"))
    }

    @Test func midLineBeforeSpaceGetsNoExtraSpace() {
        #expect(CompletionPlanner.plan(line: "get /zookeeper/c -w", cursor: 16, completion: C(replaceFrom: 4, candidates: ["/zookeeper/config"]))
            == .replaceWord(deleting: 12, inserting: "/zookeeper/config"))
    }

    @Test func severalCandidatesInsertCommonPrefix() {
        #expect(CompletionPlanner.plan(line: "del", cursor: 3, completion: C(replaceFrom: 0, candidates: ["delete", "deleteall"]))
            == .replaceWord(deleting: 3, inserting: "delete"))
    }

    @Test func severalCandidatesListWhenNothingToAdd() {
        #expect(CompletionPlanner.plan(line: "delete", cursor: 6, completion: C(replaceFrom: 0, candidates: ["delete", "deleteall"]))
            == .list(["delete", "deleteall"]))
    }

    @Test func duplicatesCollapse() {
        #expect(CompletionPlanner.plan(line: "g", cursor: 1, completion: C(replaceFrom: 0, candidates: ["get", "get"]))
            == .replaceWord(deleting: 1, inserting: "get "))
    }

    @Test func outOfRangeOffsetsAreClamped() {
        #expect(CompletionPlanner.plan(line: "ab", cursor: 99, completion: C(replaceFrom: -5, candidates: ["abc"]))
            == .replaceWord(deleting: 2, inserting: "abc "))
    }

    @Test func nonASCIIDeletesScalars() {
        #expect(CompletionPlanner.plan(line: "ls /hé", cursor: 6, completion: C(replaceFrom: 3, candidates: ["/héllo"]))
            == .replaceWord(deleting: 3, inserting: "/héllo "))
    }

    @Test func longestCommonPrefix() {
        #expect(CompletionPlanner.longestCommonPrefix(["/a/bc", "/a/bd", "/a/b"]) == "/a/b")
        #expect(CompletionPlanner.longestCommonPrefix(["x", "y"]) == "")
        #expect(CompletionPlanner.longestCommonPrefix([]) == "")
    }

    @Test func columnsGoDownThenAcross() {
        let text = CompletionPlanner.columns(["a", "b", "c", "d", "e"], width: 10, limit: 100)
        // column width 3, (10 - 1 + 2) / 3 = 3 columns, 2 rows
        #expect(text == "a  c  e\nb  d\n")
    }

    @Test func columnsRespectLimit() {
        let text = CompletionPlanner.columns(["a", "b", "c"], width: 80, limit: 2)
        #expect(text == "a  b\n… and 1 more\n")
    }

    @Test func columnsNeverReachTheWidth() {
        let items = (0..<40).map { "item\($0)" }
        let text = CompletionPlanner.columns(items, width: 40, limit: 100)
        for line in text.split(separator: "\n") {
            #expect(line.count < 40)
        }
    }
}

@Suite struct UTF8InputDecoderTests {
    func decode(_ bytes: [UInt8]) -> [UTF8InputDecoder.Step] {
        var decoder = UTF8InputDecoder()
        return bytes.map { decoder.feed($0) }
    }

    @Test func ascii() {
        #expect(decode([0x61]) == [.character("a")])
    }

    @Test func multiByte() {
        #expect(decode(Array("é日😀".utf8)) == [
            .needMore, .character("é"),
            .needMore, .needMore, .character("日"),
            .needMore, .needMore, .needMore, .character("😀"),
        ])
    }

    @Test func strayContinuationAndOverlong() {
        #expect(decode([0x80]) == [.invalid])
        #expect(decode([0xC0, 0x80]) == [.invalid, .invalid])
        #expect(decode([0xE0, 0x80, 0x80]) == [.needMore, .needMore, .invalid])  // overlong
        #expect(decode([0xED, 0xA0, 0x80]) == [.needMore, .needMore, .invalid])  // surrogate
    }

    @Test func truncatedSequenceRestartsWithNextByte() {
        #expect(decode([0xE6, 0x97, 0x61]) == [.needMore, .needMore, .character("a")])
    }
}
