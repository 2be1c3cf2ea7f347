#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
internal import CLibEdit

/// An interactive line editor for a terminal, over libedit's native API
/// (`el_init`, `el_wgets`, `history`).
///
/// It offers libedit's emacs key bindings (^A/^E, ^B/^F, ^K, ^U, ^Y, M-b/M-f,
/// arrows, Home/End, Delete; ^W deletes the previous word as in bash), history
/// with ^P/^N/Up/Down and incremental reverse search with ^R, Tab completion
/// through `completionProvider`, and `printAbove`/`updatePrompt` for messages
/// from other threads that must not break the line being typed.
///
///     let editor = LineEditor(programName: "zksh", historyFile: home + "/.zksh_history")
///     loop: while true {
///         switch editor.readLine(prompt: "zk> ") {
///         case .line(let line): editor.addHistory(line); run(line)
///         case .interrupted: continue
///         case .endOfFile: break loop
///         }
///     }
///     editor.close()
///
/// Use it only when the input is a terminal (`LineEditor.isTerminal(STDIN_FILENO)`).
///
/// ## Threads
/// - `printAbove(_:)`, `updatePrompt(_:)` and `completionProvider` may be used
///   from any thread at any time; they never wait for the user.
/// - `readLine(prompt:)` is meant for one thread (the shell's loop) and is not
///   reentrant. While it runs, the completion provider is called on its thread.
/// - `addHistory(_:)`, `history`, `saveHistory()` and `close()` are safe from
///   any thread but wait while `readLine` runs on another one, so call them
///   from the thread that calls `readLine` (or from the completion provider).
///
/// ## Signals
/// While `readLine` runs it handles SIGINT, SIGWINCH, SIGTSTP, SIGCONT,
/// SIGTERM, SIGHUP and SIGQUIT (see `SignalRelay`) and restores the previous
/// actions before returning, so the caller's SIGINT handling for running
/// commands is not disturbed.
///
/// ## Locale
/// libedit measures and prints characters with the C library's wide-character
/// functions, which only handle non-ASCII text under a UTF-8 `LC_CTYPE`. If
/// `LC_CTYPE` is still "C" when an editor is created (Swift programs never call
/// `setlocale`), `init` sets it from the environment, falling back to C.UTF-8.
public final class LineEditor: @unchecked Sendable {
    /// The outcome of one `readLine`.
    public enum Result: Sendable, Equatable {
        /// A line the user entered with Return, without the line terminator.
        case line(String)
        /// ^D on an empty line, or the input was closed (or the editor was).
        /// A newline has been printed so that further output starts on its own line.
        case endOfFile
        /// ^C while typing: the typed text was discarded and "^C" shown after
        /// it; the cursor is at the start of the next line.
        case interrupted
    }

    /// Most candidates a Tab listing shows before saying how many it left out.
    static let completionListLimit = 200

    /// Stands for "look at the wake-up pipe and the notice queue" in the key
    /// stream: U+009E, which no keyboard produces, bound to `zksh-event`.
    static let eventCharacter = wchar_t(0x9E)

    // MARK: Fixed at init

    private let historyFile: String?
    private let inputDescriptor: Int32
    private let outputDescriptor: Int32
    /// The stream libedit writes to, shared with everything this class prints.
    private let outputStream: UnsafeMutablePointer<FILE>
    private let ownsOutputStream: Bool
    /// The self-pipe that wakes the character reader: signal numbers from
    /// `SignalRelay`, and 0 for "a notice or prompt is waiting". Both ends non-blocking.
    private let wakeReadEnd: Int32
    private let wakeWriteEnd: Int32

    // MARK: Guarded by editorLock

    /// Serialises all use of libedit. `readLine` holds it throughout, so the
    /// libedit callbacks below run with it held. Recursive so that the
    /// completion provider (called inside `readLine`) may use the history.
    private let editorLock = PThreadMutex(recursive: true)
    private var editLine: OpaquePointer?
    private var historyHandle: OpaquePointer?
    private var isInsideReadLine = false
    /// What the prompt callback returns; `strdup`ed, freed on replacement and in `close`.
    private var promptBuffer: UnsafeMutablePointer<CChar>?
    private var prompt = PromptText("")
    /// Written by the prompt callback before it returns the prompt. Set only
    /// just before an editor function returns CC_REDISPLAY: libedit has then
    /// cleared the prompt and input lines and put the cursor at their start.
    private var textBeforePrompt: String?
    private var signalRelay: SignalRelay?
    private var inputDecoder = UTF8InputDecoder()
    private var interruptRequested = false
    private var resizeRequested = false
    private var lineWasInterrupted = false
    /// Set after resuming from our own SIGTSTP, whose SIGCONT needs no second redraw.
    private var ignoresNextContinue = false

    // MARK: Guarded by stateLock (never held while waiting)

    private let stateLock = PThreadMutex()
    private var isReading = false
    private var isClosed = false
    private var pendingNotices: [String] = []
    private var pendingPrompt: String?
    private var provider: (@Sendable (_ line: String, _ cursor: Int) -> Completion)?

    // MARK: - Life cycle

    /// Creates an editor on a terminal and loads `historyFile` if it exists.
    ///
    /// - Parameters:
    ///   - programName: the program's name, given to `el_init` (editrc(5)
    ///     files are not read: the key bindings are fixed, see the type's documentation).
    ///   - historyFile: where `saveHistory()` and `close()` write the history
    ///     (libedit's format, mode 0600); nil keeps history in memory only.
    ///   - historySize: how many entries are kept, oldest dropped first.
    ///   - input: the terminal's file descriptor to read keys from (default: standard input).
    ///   - output: the file descriptor to draw on (default: standard output). The editor does not close
    ///     either descriptor.
    /// - Precondition: libedit can be initialised (memory and a pipe are available).
    public init(
        programName: String,
        historyFile: String?,
        historySize: Int = 1000,
        input: Int32 = 0,
        output: Int32 = 1
    ) {
        Self.useUTF8CharacterLocale()
        self.historyFile = historyFile
        self.inputDescriptor = input
        self.outputDescriptor = output

        var ends: [Int32] = [-1, -1]
        precondition(pipe(&ends) == 0, "LineEditor: cannot create its wake-up pipe (errno \(errno))")
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        wakeReadEnd = ends[0]
        wakeWriteEnd = ends[1]

        if output == STDOUT_FILENO {
            outputStream = zksh_stdout()
            ownsOutputStream = false
        } else {
            guard let stream = fdopen(dup(output), "w") else {
                preconditionFailure("LineEditor: cannot open a stream on descriptor \(output) (errno \(errno))")
            }
            outputStream = stream
            ownsOutputStream = true
        }

        guard let editLine = el_init_fd(
            programName, zksh_stdin(), outputStream, zksh_stderr(), input, output, STDERR_FILENO
        ) else {
            preconditionFailure("LineEditor: el_init failed")
        }
        guard let historyHandle = history_init() else {
            preconditionFailure("LineEditor: history_init failed")
        }
        self.editLine = editLine
        self.historyHandle = historyHandle

        var event = HistEvent()
        _ = zksh_history_int(historyHandle, &event, H_SETSIZE, Int32(clamping: max(historySize, 1)))
        _ = zksh_history_int(historyHandle, &event, H_SETUNIQUE, 1)
        if let historyFile, access(historyFile, R_OK) == 0 {
            _ = zksh_history_string(historyHandle, &event, H_LOAD, historyFile)
        }

        setPromptBuffer("")
        configure(editLine, history: historyHandle)
    }

    deinit {
        close()
    }

    /// Saves the history, restores the terminal and releases libedit.
    /// Idempotent; `readLine` returns `.endOfFile` afterwards and `printAbove`
    /// writes straight to the output descriptor. Waits for a running `readLine`.
    public func close() {
        editorLock.withLock {
            guard let editLine, let historyHandle else { return }
            saveHistory()
            el_end(editLine)
            history_end(historyHandle)
            self.editLine = nil
            self.historyHandle = nil
            free(promptBuffer)
            promptBuffer = nil
        }
        let wasOpen = stateLock.withLock {
            defer { isClosed = true }
            return !isClosed
        }
        guard wasOpen else { return }
        if ownsOutputStream {
            fclose(outputStream)
        } else {
            fflush(outputStream)
        }
        closeDescriptor(wakeReadEnd)
        closeDescriptor(wakeWriteEnd)
    }

    /// Whether `descriptor` is a terminal (use the editor only then).
    public static func isTerminal(_ descriptor: Int32) -> Bool {
        isatty(descriptor) == 1
    }

    // MARK: - Reading a line

    /// Shows `prompt` and lets the user edit a line.
    ///
    /// `prompt` may contain ANSI escape sequences (colours); they are marked
    /// for libedit so that they take no room (see `PromptText`). It should fit
    /// on one line.
    ///
    /// Notices given to `printAbove` while this runs appear above the prompt;
    /// any still queued when it returns are printed before it returns.
    ///
    /// - Precondition: not called while another `readLine` runs on this
    ///   editor (for instance from the completion provider).
    public func readLine(prompt: String) -> Result {
        editorLock.withLock {
            guard let editLine else { return .endOfFile }
            precondition(!isInsideReadLine, "LineEditor.readLine is not reentrant")
            isInsideReadLine = true
            defer { isInsideReadLine = false }

            setPromptBuffer(prompt)
            interruptRequested = false
            resizeRequested = false
            lineWasInterrupted = false
            ignoresNextContinue = false
            textBeforePrompt = nil
            inputDecoder = UTF8InputDecoder()
            discardWakeBytes()
            stateLock.withLock {
                isReading = true
                pendingPrompt = nil
            }

            let relay = SignalRelay(pipeWriteEnd: wakeWriteEnd)
            signalRelay = relay
            var count: Int32 = 0
            let characters = el_wgets(editLine, &count)
            relay.restore()
            signalRelay = nil

            let result: Result
            if lineWasInterrupted {
                result = .interrupted
            } else if let characters, count > 0 {
                result = .line(Self.string(from: characters, count: Int(count)))
            } else {
                if Self.isTerminal(inputDescriptor) {
                    fputs("\n", outputStream)  // after the "^D" libedit echoed
                }
                result = .endOfFile
            }

            stateLock.withLock {
                isReading = false
                for notice in pendingNotices {
                    fputs(notice, outputStream)
                }
                pendingNotices = []
                fflush(outputStream)
            }
            return result
        }
    }

    /// Replaces the prompt of a running `readLine` and redraws it with the
    /// typed text intact, e.g. when the connection state shown in it changes.
    /// Without a running `readLine` it does nothing: the next `readLine` gets
    /// its prompt from its argument. Thread-safe; does not wait.
    public func updatePrompt(_ prompt: String) {
        stateLock.withLock {
            guard isReading, !isClosed else { return }
            pendingPrompt = prompt
            wakeReader()
        }
    }

    /// Prints `text` on its own line(s) (a final newline is added if missing).
    ///
    /// While `readLine` runs, the prompt and the typed text are erased, `text`
    /// is printed, and prompt and text are drawn again below it with the
    /// cursor where it was; this happens on the `readLine` thread as soon as
    /// the user is not in the middle of typing a key sequence. Otherwise the
    /// text is printed at once. Thread-safe; does not wait for the user.
    public func printAbove(_ text: String) {
        let notice = text.hasSuffix("\n") ? text : text + "\n"
        stateLock.withLock {
            if isClosed {
                var bytes = Array(notice.utf8)
                _ = write(outputDescriptor, &bytes, bytes.count)
            } else if isReading {
                pendingNotices.append(notice)
                wakeReader()
            } else {
                fputs(notice, outputStream)
                fflush(outputStream)
            }
        }
    }

    /// Computes Tab completions: called with the whole line and the cursor
    /// position (in `Character`s), on the `readLine` thread while it runs.
    /// Nil (the default) makes Tab beep. Thread-safe.
    public var completionProvider: (@Sendable (_ line: String, _ cursor: Int) -> Completion)? {
        get { stateLock.withLock { provider } }
        set { stateLock.withLock { provider = newValue } }
    }

    // MARK: - History

    /// Appends `line` to the history unless it is blank or equal to the
    /// newest entry. Not written to the file until `saveHistory()` or `close()`.
    public func addHistory(_ line: String) {
        guard !line.allSatisfy(\.isWhitespace) else { return }
        editorLock.withLock {
            guard let historyHandle else { return }
            var event = HistEvent()
            _ = zksh_history_string(historyHandle, &event, H_ENTER, line)
        }
    }

    /// The history, oldest entry first.
    public var history: [String] {
        editorLock.withLock {
            guard let historyHandle else { return [] }
            var entries: [String] = []
            var event = HistEvent()
            var status = zksh_history_void(historyHandle, &event, H_LAST)
            while status == 0, let text = event.str {
                entries.append(String(cString: text))
                status = zksh_history_void(historyHandle, &event, H_PREV)
            }
            return entries
        }
    }

    /// Writes the history to `historyFile` (if any), replacing it atomically
    /// and with mode 0600 since commands may contain credentials.
    /// - Returns: whether the file was written.
    @discardableResult
    public func saveHistory() -> Bool {
        editorLock.withLock {
            guard let historyFile, let historyHandle else { return false }
            let temporary = historyFile + ".tmp.\(getpid())"
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { return false }
            guard let stream = fdopen(descriptor, "w") else {
                closeDescriptor(descriptor)
                unlink(temporary)
                return false
            }
            var event = HistEvent()
            let saved = zksh_history_save_fp(historyHandle, &event, stream)
            let closed = fclose(stream)
            guard saved >= 0, closed == 0, rename(temporary, historyFile) == 0 else {
                unlink(temporary)
                return false
            }
            return true
        }
    }
}

// MARK: - Setup

extension LineEditor {
    /// Editor function names, as bound with EL_BIND.
    private enum FunctionName {
        static let complete = "zksh-complete"
        static let event = "zksh-event"
    }

    private func configure(_ editLine: OpaquePointer, history: OpaquePointer) {
        _ = zksh_el_set_clientdata(editLine, Unmanaged.passUnretained(self).toOpaque())
        _ = zksh_el_set_int(editLine, EL_SIGNAL, 0)
        _ = zksh_el_set_string(editLine, EL_EDITOR, "emacs")
        _ = zksh_el_set_history(editLine, history)
        _ = zksh_el_set_prompt_esc(editLine, { editLine in
            LineEditor.owner(of: editLine)?.promptCallback()
        }, CChar(PromptText.ignoreMarker.asciiValue!))
        _ = zksh_el_set_getcfn(editLine, { editLine, character in
            guard let editor = LineEditor.owner(of: editLine), let character else { return -1 }
            return editor.readCharacter(into: character)
        })
        _ = zksh_el_addfn(editLine, FunctionName.complete, "Complete the word before the cursor", { editLine, _ in
            guard let editLine, let editor = LineEditor.owner(of: editLine) else { return UInt8(CC_ERROR) }
            return editor.completeKeyPressed(editLine)
        })
        _ = zksh_el_addfn(editLine, FunctionName.event, "Handle signals and notices (internal)", { editLine, _ in
            guard let editLine, let editor = LineEditor.owner(of: editLine) else { return UInt8(CC_NORM) }
            return editor.eventKeyPressed(editLine)
        })

        let bindings: [(key: String, function: String)] = [
            ("^I", FunctionName.complete),
            ("\\236", FunctionName.event),  // U+009E, `eventCharacter`
            ("^R", "em-inc-search-prev"),
            ("^W", "ed-delete-prev-word"),
            ("\\e[1~", "ed-move-to-beg"), ("\\e[7~", "ed-move-to-beg"),
            ("\\e[4~", "ed-move-to-end"), ("\\e[8~", "ed-move-to-end"),
            ("\\e[3~", "ed-delete-next-char"),
            ("\\e[1;5C", "em-next-word"), ("\\e[1;5D", "ed-prev-word"),
            ("\\e[1;3C", "em-next-word"), ("\\e[1;3D", "ed-prev-word"),
        ]
        for (key, function) in bindings {
            _ = zksh_el_bind(editLine, key, function)
        }
    }

    /// The editor stored in `editLine`'s client data.
    fileprivate static func owner(of editLine: OpaquePointer?) -> LineEditor? {
        guard let editLine, let data = zksh_el_get_clientdata(editLine) else { return nil }
        return Unmanaged<LineEditor>.fromOpaque(data).takeUnretainedValue()
    }

    /// Sets LC_CTYPE to a UTF-8 locale if it is still the default "C" (see the type's documentation).
    private static func useUTF8CharacterLocale() {
        guard let current = setlocale(LC_CTYPE, nil).map({ String(cString: $0) }),
              current == "C" || current == "POSIX" else { return }
        for candidate in ["", "C.UTF-8", "UTF-8", "en_US.UTF-8"] {
            if setlocale(LC_CTYPE, candidate) != nil, isUTF8CharacterLocale() {
                return
            }
        }
        _ = setlocale(LC_CTYPE, current)
    }

    private static func isUTF8CharacterLocale() -> Bool {
        guard let codeset = nl_langinfo(nl_item(CODESET)) else { return false }
        let name = String(cString: codeset).lowercased()
        return name == "utf-8" || name == "utf8"
    }

    private func setPromptBuffer(_ text: String) {
        prompt = PromptText(text)
        free(promptBuffer)
        promptBuffer = strdup(prompt.forEditor)
    }

    private static func string(from characters: UnsafePointer<wchar_t>, count: Int) -> String {
        var scalars = String.UnicodeScalarView()
        for index in 0..<count {
            if let scalar = Unicode.Scalar(UInt32(bitPattern: characters[index])) {
                scalars.append(scalar)
            }
        }
        var line = String(scalars)
        while line.last == "\n" || line.last == "\r" || line.last == "\r\n" {
            line.removeLast()
        }
        return line
    }
}

// MARK: - libedit callbacks (run on the readLine thread, editorLock held)

extension LineEditor {
    /// EL_PROMPT_ESC: prints any `textBeforePrompt`, returns the prompt.
    fileprivate func promptCallback() -> UnsafeMutablePointer<CChar>? {
        if let text = textBeforePrompt {
            textBeforePrompt = nil
            fputs(text, outputStream)
        }
        return promptBuffer
    }

    /// EL_GETCFN: the next character for libedit, or `eventCharacter` when a
    /// signal, notice or new prompt needs handling and no key is pending.
    /// Returns 1 with a character, 0 at end of input, -1 on error.
    fileprivate func readCharacter(into character: UnsafeMutablePointer<wchar_t>) -> Int32 {
        while true {
            takeWakeBytes()
            let idle = !inputDecoder.isInsideCharacter
            if idle && !isInputReady(timeout: 0) && hasPendingEvent() {
                character.pointee = Self.eventCharacter
                return 1
            }
            if isInputReady(timeout: 0) {
                var byte: UInt8 = 0
                let count = read(inputDescriptor, &byte, 1)
                if count == 0 {
                    character.pointee = 0
                    return 0
                }
                if count < 0 {
                    if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { continue }
                    return -1
                }
                switch inputDecoder.feed(byte) {
                case .character(let scalar):
                    character.pointee = wchar_t(bitPattern: scalar.value)
                    return 1
                case .needMore, .invalid:
                    continue
                }
            }
            var descriptors = [
                pollfd(fd: inputDescriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeReadEnd, events: Int16(POLLIN), revents: 0),
            ]
            if poll(&descriptors, 2, -1) < 0, errno != EINTR, errno != EAGAIN {
                return -1
            }
        }
    }

    /// Bound to ^I: asks the completion provider and edits or lists.
    fileprivate func completeKeyPressed(_ editLine: OpaquePointer) -> UInt8 {
        guard let provider = completionProvider, let info = el_wline(editLine) else {
            return UInt8(CC_ERROR)
        }
        let line = info.pointee
        let beforeCursor = Self.string(scalarsFrom: line.buffer, to: line.cursor)
        let afterCursor = Self.string(scalarsFrom: line.cursor, to: line.lastchar)
        let cursor = beforeCursor.count
        let text = beforeCursor + afterCursor
        let completion = provider(text, cursor)

        switch CompletionPlanner.plan(line: text, cursor: cursor, completion: completion) {
        case .beep:
            return UInt8(CC_ERROR)
        case .replaceWord(let deleting, let inserting):
            if deleting > 0 {
                el_deletestr(editLine, Int32(deleting))
            }
            var wide = inserting.unicodeScalars.map { wchar_t(bitPattern: $0.value) }
            wide.append(0)
            if !inserting.isEmpty, el_winsertstr(editLine, wide) != 0 {
                return UInt8(CC_REFRESH_BEEP)
            }
            return UInt8(CC_REFRESH)
        case .list(let candidates):
            let width = Int(zksh_el_columns(editLine))
            // Keep a copy of the prompt line in the scrollback, like bash does,
            // then the listing; the prompt and line are drawn anew below.
            textBeforePrompt = prompt.raw + text + "\n"
                + CompletionPlanner.columns(candidates, width: width > 0 ? width : 80, limit: Self.completionListLimit)
            return UInt8(CC_REDISPLAY)
        }
    }

    /// Bound to `eventCharacter`: acts on what the wake-up pipe and the
    /// notice queue brought.
    fileprivate func eventKeyPressed(_ editLine: OpaquePointer) -> UInt8 {
        if interruptRequested {
            interruptRequested = false
            return interruptLine(editLine)
        }
        var redisplay = false
        if resizeRequested {
            resizeRequested = false
            redrawAfterResize(editLine)
        }
        let (notices, newPrompt) = stateLock.withLock {
            defer {
                pendingNotices = []
                pendingPrompt = nil
            }
            return (pendingNotices, pendingPrompt)
        }
        if let newPrompt {
            setPromptBuffer(newPrompt)
            redisplay = true
        }
        if !notices.isEmpty {
            textBeforePrompt = notices.joined()
            redisplay = true
        }
        return UInt8(redisplay ? CC_REDISPLAY : CC_NORM)
    }

    /// Takes the new terminal size and draws prompt and line again.
    ///
    /// libedit keeps its picture of the screen in rows of the old width, but
    /// most terminals (tmux, VTE, iTerm2, Terminal.app, kitty…) re-wrap the
    /// prompt line to the new width. Assuming that, the cursor now sits
    /// `(prompt + text before cursor) / columns` rows below the prompt's start:
    /// go there, clear to the end of the screen, and redraw from scratch.
    private func redrawAfterResize(_ editLine: OpaquePointer) {
        el_resize(editLine)
        let columns = Int(zksh_el_columns(editLine))
        guard columns > 0, let info = el_wline(editLine) else { return }
        let beforeCursor = Self.string(scalarsFrom: info.pointee.buffer, to: info.pointee.cursor)
        let rowsUp = (prompt.width + TerminalText.width(beforeCursor)) / columns
        fputs("\r" + (rowsUp > 0 ? "\u{1B}[\(rowsUp)A" : "") + "\u{1B}[J", outputStream)
        _ = zksh_el_refresh(editLine)
    }

    /// ^C: shows "^C" after the text, ends the line and marks it interrupted.
    private func interruptLine(_ editLine: OpaquePointer) -> UInt8 {
        if let info = el_wline(editLine) {
            _ = el_cursor(editLine, Int32(info.pointee.cursor.distance(to: info.pointee.lastchar)))
        }
        _ = el_insertstr(editLine, "^C")
        lineWasInterrupted = true
        // Return (^J is ed-newline in the emacs map): moves below the line and ends el_wgets.
        el_push(editLine, "\n")
        return UInt8(CC_REFRESH)
    }

    private static func string(scalarsFrom start: UnsafePointer<wchar_t>, to end: UnsafePointer<wchar_t>) -> String {
        var scalars = String.UnicodeScalarView()
        var pointer = start
        while pointer < end {
            if let scalar = Unicode.Scalar(UInt32(bitPattern: pointer.pointee)) {
                scalars.append(scalar)
            }
            pointer += 1
        }
        return String(scalars)
    }
}

// MARK: - Wake-up pipe

extension LineEditor {
    /// Writes the "notice waiting" byte. Call with stateLock held.
    private func wakeReader() {
        var byte: UInt8 = 0
        _ = write(wakeWriteEnd, &byte, 1)
    }

    /// Empties the wake-up pipe, forgetting stale signals (before `el_wgets`).
    private func discardWakeBytes() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeReadEnd, &buffer, buffer.count) > 0 {}
    }

    /// Empties the wake-up pipe and acts on the signals in it. Suspension and
    /// termination are handled here and now; interrupt and resize are left
    /// for `eventKeyPressed`, which can edit the line.
    private func takeWakeBytes() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let count = read(wakeReadEnd, &buffer, buffer.count)
            guard count > 0 else { return }
            for byte in buffer.prefix(count) {
                handleWakeByte(Int32(byte))
            }
        }
    }

    private func handleWakeByte(_ signal: Int32) {
        guard let editLine else { return }
        switch signal {
        case 0:
            break  // A notice or prompt; `hasPendingEvent` sees it.
        case SIGINT:
            interruptRequested = true
        case SIGWINCH:
            resizeRequested = true
        case SIGTSTP:
            // Leave the terminal as the shell expects it, stop, and come back.
            _ = zksh_el_set_int(editLine, EL_PREP_TERM, 0)
            fflush(outputStream)
            signalRelay?.raiseWithPreviousAction(SIGTSTP)
            _ = zksh_el_set_int(editLine, EL_PREP_TERM, 1)
            ignoresNextContinue = true
            // The job-control shell left the cursor at the start of a line.
            _ = zksh_el_refresh(editLine)
        case SIGCONT:
            guard !ignoresNextContinue else {
                ignoresNextContinue = false
                return
            }
            // Stopped by SIGSTOP: the shell may have changed the terminal modes.
            _ = zksh_el_set_int(editLine, EL_PREP_TERM, 0)
            _ = zksh_el_set_int(editLine, EL_PREP_TERM, 1)
            _ = zksh_el_refresh(editLine)
        case SIGTERM, SIGHUP, SIGQUIT:
            _ = zksh_el_set_int(editLine, EL_PREP_TERM, 0)
            fflush(outputStream)
            signalRelay?.raiseWithPreviousAction(signal)
            // Still alive: the previous action was a handler that returned.
            _ = zksh_el_set_int(editLine, EL_PREP_TERM, 1)
        default:
            break
        }
    }

    private func hasPendingEvent() -> Bool {
        if interruptRequested || resizeRequested { return true }
        return stateLock.withLock { !pendingNotices.isEmpty || pendingPrompt != nil }
    }

    private func isInputReady(timeout: Int32) -> Bool {
        var descriptor = pollfd(fd: inputDescriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, timeout) > 0 else { return false }
        return descriptor.revents & Int16(POLLIN | POLLHUP | POLLERR | POLLNVAL) != 0
    }
}

/// close(2), out of reach inside `LineEditor`, whose `close()` shadows it.
private func closeDescriptor(_ descriptor: Int32) {
    _ = close(descriptor)
}
