import SafeTensors

/// A problem with a PyTorch checkpoint (`pytorch_model.bin`, its zip archive, its pickle, or a
/// shard index). Its description is one line: `<file>: <problem>`.
public struct PyTorchCheckpointError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Path or name of the file concerned.
    public let file: String
    public let problem: String

    public init(file: String, problem: String) {
        self.file = file.foldedToOneLine
        self.problem = problem.foldedToOneLine
    }

    public var description: String { "\(file): \(problem)" }
}
