/// A problem with a safetensors file, index or write. Its description is one line:
/// `<file>: <problem>`.
public struct SafeTensorsError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Path or name of the file concerned.
    public let file: String
    public let problem: String

    public init(file: String, problem: String) {
        self.file = file.foldedToOneLine
        self.problem = problem.foldedToOneLine
    }

    public var description: String { "\(file): \(problem)" }
}
