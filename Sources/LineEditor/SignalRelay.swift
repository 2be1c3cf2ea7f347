#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
internal import CLibEdit

/// Catches, for the duration of one `readLine`, the signals that need the
/// terminal's attention, and turns each into one byte (the signal number) on
/// the editor's wake-up pipe, where the character reader picks it up.
///
/// libedit's own signal handling (`EL_SIGNAL`) is off: it re-sends every
/// caught signal to the whole process group and supports one editor per
/// process. The relayed signals, and what `LineEditor` does with them:
///
/// | signal                     | installed                | effect                                 |
/// |----------------------------|--------------------------|----------------------------------------|
/// | SIGINT                     | always                   | discard the line, `.interrupted`       |
/// | SIGWINCH                   | always                   | re-measure the terminal and redraw     |
/// | SIGTSTP                    | unless ignored           | leave editing mode, stop, redraw       |
/// | SIGCONT                    | always                   | re-enter editing mode, redraw          |
/// | SIGTERM, SIGHUP, SIGQUIT   | unless ignored           | leave editing mode, re-raise           |
///
/// `restore()` puts every previous action back, so the caller's own SIGINT
/// handling (for cancelling commands) applies again once `readLine` returns.
///
/// This is the only file that may call the shim's `zksh_signal_*` functions:
/// the relay's pipe descriptor lives in a static inside them, of which each
/// calling Swift file gets its own copy.
final class SignalRelay {
    /// The relayed signals, and whether an ignored one stays ignored.
    static let relayedSignals: [(signal: Int32, keepsIgnored: Bool)] = [
        (SIGINT, false), (SIGWINCH, false), (SIGTSTP, true), (SIGCONT, false),
        (SIGTERM, true), (SIGHUP, true), (SIGQUIT, true),
    ]

    private var previousActions: [Int32: sigaction] = [:]
    private var isInstalled = false

    /// Installs the relay, writing to `pipeWriteEnd` (which must be non-blocking).
    init(pipeWriteEnd: Int32) {
        zksh_signal_relay_set_fd(pipeWriteEnd)
        for (signal, keepsIgnored) in Self.relayedSignals {
            var previous = sigaction()
            if zksh_signal_relay_install(signal, &previous, keepsIgnored ? 1 : 0) == 1 {
                previousActions[signal] = previous
            }
        }
        isInstalled = true
    }

    deinit {
        restore()
    }

    /// Puts back the actions found at installation. Idempotent.
    func restore() {
        guard isInstalled else { return }
        isInstalled = false
        for (signal, var previous) in previousActions {
            _ = zksh_signal_restore(signal, &previous)
        }
        previousActions = [:]
        zksh_signal_relay_set_fd(-1)
    }

    /// Delivers `signal` to the action that was installed before the relay
    /// (default: stop or terminate the process; or the caller's handler), then
    /// re-installs the relay. Returns once the process continues.
    func raiseWithPreviousAction(_ signal: Int32) {
        guard isInstalled, var previous = previousActions[signal] else { return }
        _ = zksh_signal_restore(signal, &previous)
        _ = zksh_signal_raise_unblocked(signal)
        var replaced = sigaction()
        _ = zksh_signal_relay_install(signal, &replaced, 0)
    }
}
