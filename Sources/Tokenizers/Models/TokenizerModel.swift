import Foundation
import LSGErrors

/// A token the model cut out of one word: its id, its text, and the range of the word's
/// scalars it covers.
struct ModelToken: Sendable, Equatable {
    var id: Int
    var value: String
    var range: Range<Int>
}

/// A `tokenizers` model: turns one pre-tokenized word into tokens.
protocol TokenizerModel: Sendable {
    func tokenize(_ word: [Unicode.Scalar]) throws(LSGError) -> [ModelToken]
    func id(of token: String) -> Int?
    func token(of id: Int) -> String?
    /// `get_vocab_size()`: the number the first added token past the vocabulary gets.
    var vocabularySize: Int { get }
}

/// A string compared and hashed by its UTF-8 bytes, as Rust compares strings: Swift's `String`
/// equality is canonical equivalence, which would take a decomposed "é" for a composed one.
struct ExactString: Hashable, Sendable {
    let value: String

    init(_ value: String) { self.value = value }

    static func == (lhs: ExactString, rhs: ExactString) -> Bool { lhs.value.utf8.elementsEqual(rhs.value.utf8) }

    func hash(into hasher: inout Hasher) {
        var value = value
        value.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

/// Token to id, exact.
typealias Vocabulary = [ExactString: Int]

extension Dictionary where Key == ExactString {
    subscript(_ string: String) -> Value? { self[ExactString(string)] }
}

/// The last results of a model per word (`tokenizers` keeps 10,000 words the same way), shared
/// by the threads of a batch.
final class WordCache: @unchecked Sendable {
    static let capacity = 10_000
    private let lock = NSLock()
    private var entries: [ExactString: [ModelToken]] = [:]

    func tokens(_ word: String) -> [ModelToken]? {
        let key = ExactString(word)
        lock.lock()
        defer { lock.unlock() }
        return entries[key]
    }

    func store(_ word: String, _ tokens: [ModelToken]) {
        let key = ExactString(word)
        lock.lock()
        defer { lock.unlock() }
        if entries.count < Self.capacity { entries[key] = tokens }
    }
}

/// The id-to-token side of a token-to-id map, indexed by id.
func tokensByID(_ vocabulary: Vocabulary) -> [String?] {
    var tokens = [String?](repeating: nil, count: (vocabulary.values.max() ?? -1) + 1)
    for (token, id) in vocabulary { tokens[id] = token.value }
    return tokens
}

extension Array where Element == String? {
    /// The token of `id`, nil when out of range.
    func token(_ id: Int) -> String? { indices.contains(id) ? self[id] : nil }
}

extension String {
    init(scalars: some Sequence<Unicode.Scalar>) {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        self = String(view)
    }

    /// Every occurrence of `old` replaced, compared byte for byte as Rust's `str::replace` does
    /// (Swift's own comparisons are by grapheme cluster).
    func replacingBytes(of old: String, with new: String) -> String {
        let bytes = Array(utf8)
        let target = Array(old.utf8)
        guard !target.isEmpty, bytes.count >= target.count else { return self }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        var replaced = false
        while index < bytes.count {
            if bytes[index] == target[0], index + target.count <= bytes.count, bytes[index..<(index + target.count)].elementsEqual(target) {
                result.append(contentsOf: new.utf8)
                index += target.count
                replaced = true
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return replaced ? String(decoding: result, as: UTF8.self) : self
    }
}
