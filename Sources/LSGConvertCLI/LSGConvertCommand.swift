import ArgumentParser
import Foundation
import LSGEncoder
import LSGErrors
import SafeTensors

/// The `lsg-convert` root command. Subcommands stay thin: each parses options and calls a library.
public struct LSGConvertCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lsg-convert",
        abstract: "Convert short-context checkpoints (encoders and encoder-decoders) into LSG long-context checkpoints, and prove them right.",
        version: LSGConvertVersion.text,
        subcommands: [
            ConvertCommand.self,
            InspectCommand.self,
            EncodeCommand.self,
            GenerateCommand.self,
            ValidateCommand.self,
            DiffCommand.self,
            PatternCommand.self,
            TokenizeCommand.self,
            FillMaskCommand.self,
            ClassifyCommand.self,
        ],
        defaultSubcommand: ConvertCommand.self
    )

    public init() {}

    /// Like ArgumentParser's `main`, except that an error is one line on stderr (`Error: ...`),
    /// without the usage block ArgumentParser adds to usage errors; help and version print as usual.
    public static func main() {
        // Most commands do no linear algebra, and the encoder never uses OpenBLAS's own threads.
        BLASLibrary.stopWorkerThreads()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(code.rawValue)
            }
            let message = message(for: error).foldedToOneLine
            if !message.isEmpty {
                FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }
}
