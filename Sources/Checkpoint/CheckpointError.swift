import SafeTensors

/// A problem with a model directory or one of its files, described in one line: "<path>: <problem>".
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let problem: String

    public init(_ path: String, _ problem: String) {
        self.path = path.foldedToOneLine
        self.problem = problem.foldedToOneLine
    }

    public var description: String { "\(path): \(problem)" }
}
