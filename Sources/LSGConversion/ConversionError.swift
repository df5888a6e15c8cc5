import SafeTensors

/// Why a conversion stopped, in one line (naming the file or option concerned).
public struct ConversionError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message.foldedToOneLine
    }

    public var description: String { message }
}
