import ArgumentParser
import ZooKeeperClient

/// When the shell colours its output (`--color`).
public enum ColorMode: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// On a terminal, unless `NO_COLOR` is set (to any value).
    case auto
    /// Always, even into a pipe or file.
    case always
    /// Never.
    case never
}

/// `--color WHEN` and `--no-color`, for `zksh`'s own command line.
public struct ColorOptions: ParsableArguments, Sendable {
    @Option(help: ArgumentHelp("Colour the output: auto (on a terminal, unless $NO_COLOR is set), always, never.", valueName: "when"))
    public var color: ColorMode = .auto

    @Flag(name: .customLong("no-color"), help: "Never colour the output (the same as --color never).")
    public var noColor = false

    public init() {}

    /// The chosen mode: `--no-color` wins over `--color`.
    public var mode: ColorMode { noColor ? .never : color }
}

/// ANSI colours for terminal output, by meaning rather than by colour, or nothing at all.
///
/// The shell holds one `Style` per output stream (``ShellContext/style`` for standard output,
/// ``ShellContext/errorStyle`` for standard error), decided once at start by
/// ``resolve(_:isTerminal:environment:)``. Every coloured piece of text goes through
/// ``paint(_:_:)``, so a disabled style returns text unchanged. JSON is never painted.
public struct Style: Equatable, Sendable {
    /// What a piece of text is; each role has one colour.
    public enum Role: Sendable, CaseIterable {
        /// `zksh:` before an error.
        case error
        /// A session state that works (CONNECTED, CONNECTEDREADONLY).
        case stateGood
        /// A session state on its way (CONNECTING, DISCONNECTED).
        case stateTransient
        /// A session state that ended (EXPIRED, CLOSED, AUTH_FAILED).
        case stateEnded
        /// A node with children (as a directory in `ls`).
        case nodeWithChildren
        /// An ephemeral node.
        case ephemeralNode
        /// `├── │ └──` in `tree`.
        case treeLines
        /// NodeCreated.
        case eventCreated
        /// NodeDeleted.
        case eventDeleted
        /// NodeDataChanged.
        case eventDataChanged
        /// NodeChildrenChanged and other events.
        case eventOther
        /// Times and other secondary text.
        case secondary
    }

    /// Whether text is painted at all.
    public var isEnabled: Bool

    public init(isEnabled: Bool) {
        self.isEnabled = isEnabled
    }

    /// No colours.
    public static let plain = Style(isEnabled: false)
    /// Colours.
    public static let colored = Style(isEnabled: true)

    /// The style for a stream: `always` and `never` as they say; `auto` colours a terminal
    /// unless `NO_COLOR` is set to anything (https://no-color.org).
    public static func resolve(_ mode: ColorMode, isTerminal: Bool, environment: [String: String]) -> Style {
        switch mode {
        case .always: return .colored
        case .never: return .plain
        case .auto: return Style(isEnabled: isTerminal && environment["NO_COLOR"] == nil)
        }
    }

    /// The SGR parameters of a role (`ESC [ <this> m`).
    static func parameters(of role: Role) -> String {
        switch role {
        case .error: return "1;31"
        case .stateGood: return "32"
        case .stateTransient: return "33"
        case .stateEnded: return "31"
        case .nodeWithChildren: return "1;34"
        case .ephemeralNode: return "35"
        case .treeLines: return "2"
        case .eventCreated: return "32"
        case .eventDeleted: return "31"
        case .eventDataChanged: return "33"
        case .eventOther: return "36"
        case .secondary: return "2"
        }
    }

    /// `text` wrapped in the role's colour and a reset, or unchanged when disabled (or empty).
    public func paint(_ text: String, _ role: Role) -> String {
        guard isEnabled, !text.isEmpty else { return text }
        return "\u{1B}[\(Self.parameters(of: role))m\(text)\u{1B}[0m"
    }

    /// The role of a session state in the prompt.
    public static func role(of state: SessionState?) -> Role {
        switch state {
        case .connected?, .connectedReadOnly?: return .stateGood
        case .connecting?, .disconnected?: return .stateTransient
        case .expired?, .closed?, .authFailed?, nil: return .stateEnded
        }
    }

    /// The role of a watch event type.
    public static func role(of type: EventType) -> Role {
        // EventType is an open set of raw values, so this cannot be an exhaustive switch.
        if type == .nodeCreated { return .eventCreated }
        if type == .nodeDeleted { return .eventDeleted }
        if type == .nodeDataChanged { return .eventDataChanged }
        return .eventOther
    }

    /// The role of a node's name from its stat: ephemeral, with children, or none (a leaf).
    public static func role(of stat: Stat) -> Role? {
        if stat.ephemeralOwner != 0 { return .ephemeralNode }
        if stat.numChildren > 0 { return .nodeWithChildren }
        return nil
    }

    /// `text` painted for a node with this stat (leaves stay plain).
    public func paintNode(_ text: String, stat: Stat) -> String {
        guard let role = Self.role(of: stat) else { return text }
        return paint(text, role)
    }
}
