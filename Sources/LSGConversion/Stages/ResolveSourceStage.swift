import Checkpoint
import Foundation

/// Finds the source (local directory, then the Hugging Face cache) and opens it: config,
/// weights (memory-mapped) and tokenizer files.
public struct ResolveSourceStage: Stage {
    public static let stageName = "resolve-source"
    public var name: String { Self.stageName }
    public let locator: ModelLocator

    public init(locator: ModelLocator = ModelLocator()) {
        self.locator = locator
    }

    public func run(_ context: ConversionContext) throws {
        let resolved = try context.resolved ?? locator.resolve(context.options.source)
        context.resolved = resolved
        context.source = try ModelDirectory(resolved: resolved)
        let revision = resolved.revision.map { " at \($0)" } ?? ""
        context.report.changes.append("source: \(resolved.directory.path) (\(resolved.origin.rawValue)\(revision))")
    }
}
