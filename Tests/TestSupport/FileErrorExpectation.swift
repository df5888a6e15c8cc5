import FileIO
import LSGErrors
import Testing

/// Runs `body`, requires an LSGError, and checks it is one line naming `file`.
@discardableResult
public func expectFileError(naming file: String, containing fragment: String, sourceLocation: SourceLocation = #_sourceLocation,
                     _ body: () throws -> Void) -> LSGError? {
    do {
        try body()
        Issue.record("expected an LSGError containing \"\(fragment)\"", sourceLocation: sourceLocation)
        return nil
    } catch let error as LSGError {
        let text = error.description
        #expect(!text.contains("\n"), "error spans lines: \(text)", sourceLocation: sourceLocation)
        #expect(text.hasPrefix(file + ": "), "error does not start with the file name: \(text)", sourceLocation: sourceLocation)
        #expect(text.contains(fragment), "error \"\(text)\" lacks \"\(fragment)\"", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected an LSGError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
