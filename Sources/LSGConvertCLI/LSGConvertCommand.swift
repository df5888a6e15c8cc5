import ArgumentParser

/// The `lsg-convert` root command. Subcommands stay thin: each parses options and calls a library.
public struct LSGConvertCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lsg-convert",
        abstract: "Convert short-context encoder checkpoints into LSG long-context checkpoints, and prove them right.",
        version: LSGConvertVersion.current,
        subcommands: [
            ConvertCommand.self,
            InspectCommand.self,
            EncodeCommand.self,
            ValidateCommand.self,
            DiffCommand.self,
            PatternCommand.self,
        ],
        defaultSubcommand: ConvertCommand.self
    )

    public init() {}
}
