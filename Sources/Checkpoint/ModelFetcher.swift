/// Finds a model that is not a local directory in the hub cache, downloading what the cache
/// lacks. The `Hub` target implements it; `ModelLocator` consults it when one is set.
public protocol ModelFetcher: Sendable {
    /// The snapshot directory of `name` at `locator.revision`, in `locator.hubCache`.
    func fetch(_ name: String, locator: ModelLocator) throws -> ResolvedModel
}
