import ArgumentParser

/// `pwd`: prints the current directory.
struct PwdCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "pwd",
        abstract: "Print the current node.",
        discussion: """
            Examples:
              pwd
            """)

    @OptionGroup var output: OutputOptions

    func run(in context: ShellContext) async throws {
        if output.wantsJSON(context) {
            context.printJSON(["path": .string(context.currentDirectory)])
        } else {
            context.print(context.currentDirectory)
        }
    }
}
