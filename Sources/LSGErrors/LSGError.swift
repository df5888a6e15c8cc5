/// The one error type of the package's libraries: what went wrong (`kind`, for callers and
/// tests to match), the file, path or option concerned (`subject`, when there is one) and the
/// problem. Its description is one line: `<subject>: <problem>`, or the problem alone.
public struct LSGError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, coarsely, so callers can react without reading the message.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Reading, writing, mapping, creating or moving a file or directory failed.
        case io
        /// A file, directory, model or recipe that should exist does not.
        case missingFile
        /// Content that is not valid: a bad header, bad JSON, a wrong JSON type, truncated or corrupt data.
        case malformed
        /// A size, count, depth or length over a limit.
        case limitExceeded
        /// Valid, but not handled: a format, dtype, model family, component or setting we do not support.
        case unsupported
        /// A tensor that is needed is not in the checkpoint.
        case missingTensor
        /// A tensor's shape or element count disagrees with the config or what was expected.
        case shapeMismatch
        /// A bad command-line option, recipe or stage parameter, or LSG setting.
        case invalidOption
        /// A bad input to an operation: token ids, a text, a batch, an encoder input.
        case invalidInput
        /// A pickle that would run code or build objects the restricted unpickler does not allow.
        case refusedCode
        /// A converted model that fails validation against its source or golden outputs.
        case parityFailure
        /// Talking to the Hugging Face hub failed, or it answered something unusable.
        case network
        /// A broken invariant or resource failure inside the tool.
        case `internal`
    }

    public let kind: Kind
    /// The file, path or option concerned, when the message names one.
    public let subject: String?
    public let problem: String

    /// An error whose message names no subject of its own (or names it inside `problem`).
    public init(_ kind: Kind, _ problem: String) {
        self.kind = kind
        self.subject = nil
        self.problem = problem.foldedToOneLine
    }

    /// An error about `file` (a file, directory, URL or option): `<file>: <problem>`.
    public init(_ kind: Kind, file: String, _ problem: String) {
        self.kind = kind
        self.subject = file.foldedToOneLine
        self.problem = problem.foldedToOneLine
    }

    public var description: String {
        guard let subject else { return problem }
        return "\(subject): \(problem)"
    }
}

extension String {
    /// The text with every run of line breaks (LF, CR, NEL, U+2028, ...) replaced by a space, so an error
    /// message quoting a hostile file name or file content stays on one line. Every error of the
    /// tool builds its message through this.
    public var foldedToOneLine: String {
        guard contains(where: \.isNewline) else { return self }
        return split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
