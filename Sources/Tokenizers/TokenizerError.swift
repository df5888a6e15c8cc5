import SafeTensors

/// A tokenizer file that cannot be read, or one transformers would refuse. Its description is
/// one line: `<file>: <problem>`.
public struct TokenizerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Path of the file concerned (or of the directory, when no single file is at fault).
    public let file: String
    public let problem: String

    public init(_ file: String, _ problem: String) {
        self.file = file.foldedToOneLine
        self.problem = problem.foldedToOneLine
    }

    public var description: String { "\(file): \(problem)" }
}
