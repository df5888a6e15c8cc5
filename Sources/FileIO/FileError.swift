/// A problem with a file: reading, mapping, writing it, or its content. Its description is one
/// line: `<file>: <problem>`.
public struct FileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Path or name of the file concerned.
    public let file: String
    public let problem: String

    public init(file: String, problem: String) {
        self.file = file.foldedToOneLine
        self.problem = problem.foldedToOneLine
    }

    public var description: String { "\(file): \(problem)" }
}
