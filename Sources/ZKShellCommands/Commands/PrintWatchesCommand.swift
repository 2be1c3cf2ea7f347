import ArgumentParser

/// `printwatches [on|off]`: whether fired watches are printed.
struct PrintWatchesCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "printwatches",
        abstract: "Turn printing of watch events on or off.",
        discussion: """
            Affects the events of get -w, ls -w, stat -w and addWatch (not the watch command). \
            Without an argument, prints the current setting.

            Examples:
              printwatches off
              printwatches on
              printwatches
            """)

    enum Setting: String, ExpressibleByArgument, CaseIterable {
        case on, off
    }

    @OptionGroup var output: OutputOptions

    @Argument(help: "on or off.")
    var setting: Setting?

    func run(in context: ShellContext) async throws {
        if let setting { context.printsWatchEvents = setting == .on }
        if output.wantsJSON(context) {
            context.printJSON(["printwatches": .bool(context.printsWatchEvents)])
        } else if setting == nil {
            context.print("printwatches is \(context.printsWatchEvents ? "on" : "off")")
        }
    }
}
