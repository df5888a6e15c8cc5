extension String {
    /// The text with every run of line breaks (LF, CR, NEL, U+2028, ...) replaced by a space, so an error
    /// message quoting a hostile file name or file content stays on one line. Every error type
    /// of the tool builds its message through this.
    public var foldedToOneLine: String {
        guard contains(where: \.isNewline) else { return self }
        return split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
