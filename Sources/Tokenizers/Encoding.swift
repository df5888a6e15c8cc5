/// The result of tokenizing one text (or pair of texts), as transformers' `BatchEncoding` row
/// and `tokenizers`' `Encoding` give it. Offsets are Unicode scalar (Python `str`) indices into
/// the original text; special and padding tokens have the empty range 0..<0.
public struct Encoding: Sendable, Equatable {
    public var ids: [Int] = []
    public var tokens: [String] = []
    public var attentionMask: [Int] = []
    public var typeIDs: [Int] = []
    public var specialTokensMask: [Int] = []
    public var offsets: [Range<Int>] = []

    public init() {}

    public var count: Int { ids.count }

    mutating func append(id: Int, token: String, offsets range: Range<Int>, typeID: Int, special: Bool) {
        ids.append(id)
        tokens.append(token)
        attentionMask.append(1)
        typeIDs.append(typeID)
        specialTokensMask.append(special ? 1 : 0)
        offsets.append(range)
    }

    mutating func append(contentsOf other: Encoding) {
        ids += other.ids
        tokens += other.tokens
        attentionMask += other.attentionMask
        typeIDs += other.typeIDs
        specialTokensMask += other.specialTokensMask
        offsets += other.offsets
    }

    /// Keeps the first `length` tokens (truncation from the right).
    mutating func truncate(to length: Int) {
        guard count > length else { return }
        ids.removeLast(count - length)
        tokens.removeLast(tokens.count - length)
        attentionMask.removeLast(attentionMask.count - length)
        typeIDs.removeLast(typeIDs.count - length)
        specialTokensMask.removeLast(specialTokensMask.count - length)
        offsets.removeLast(offsets.count - length)
    }

    /// Pads to `length` with the pad token, on the left or the right.
    mutating func pad(to length: Int, id: Int, token: String, typeID: Int = 0, left: Bool) {
        let missing = length - count
        guard missing > 0 else { return }
        func padded<Element>(_ values: [Element], _ filler: Element) -> [Element] {
            left ? Array(repeating: filler, count: missing) + values : values + Array(repeating: filler, count: missing)
        }
        ids = padded(ids, id)
        tokens = padded(tokens, token)
        attentionMask = padded(attentionMask, 0)
        typeIDs = padded(typeIDs, typeID)
        specialTokensMask = padded(specialTokensMask, 1)
        offsets = padded(offsets, 0..<0)
    }
}

/// Truncation and padding of `Tokenizer.encode(batch:options:)`, as transformers' `__call__` takes them.
public struct TokenizeOptions: Sendable {
    public enum Padding: Sendable, Equatable {
        case none
        /// To the longest encoding of the batch.
        case longest
        /// To `maxLength` (the model's maximum length when nil).
        case maxLength
    }

    public var maxLength: Int?
    /// Truncate to `maxLength` (longest first for pairs).
    public var truncation: Bool
    public var padding: Padding
    public var padToMultipleOf: Int?
    public var addSpecialTokens = true

    public init(maxLength: Int? = nil, truncation: Bool = false, padding: Padding = .none, padToMultipleOf: Int? = nil,
                addSpecialTokens: Bool = true) {
        self.maxLength = maxLength
        self.truncation = truncation
        self.padding = padding
        self.padToMultipleOf = padToMultipleOf
        self.addSpecialTokens = addSpecialTokens
    }
}
