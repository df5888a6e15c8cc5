import LSGErrors

/// `tokenizers`' Unigram (`encode_optimized`): the best-scoring segmentation of the word's UTF-8
/// bytes into pieces (Viterbi over every vocabulary piece, special ones included), a character
/// no piece starts with scored as unk (the lowest score minus 10); consecutive unk pieces are
/// fused; with byte fallback an unknown piece becomes its `<0xXX>` byte tokens.
struct UnigramModel: TokenizerModel {
    static let unkPenalty = 10.0

    let pieces: [(token: String, score: Double)]
    let vocabulary: Vocabulary
    let unkID: Int?
    let byteFallback: Bool
    private let trie: ByteTrie
    private let minimumScore: Double
    let path: String
    let cache = WordCache()

    init(pieces: [(String, Double)], unkID: Int?, byteFallback: Bool, path: String) throws(LSGError) {
        if let unkID, !pieces.indices.contains(unkID) {
            throw LSGError(.malformed, file: path, "Unigram unk_id \(unkID) is past the \(pieces.count) pieces")
        }
        self.pieces = pieces.map { (token: $0.0, score: $0.1) }
        var vocabulary: Vocabulary = [:]
        var trie = ByteTrie()
        for (id, piece) in pieces.enumerated() {
            vocabulary[ExactString(piece.0)] = id
            trie.insert(Array(piece.0.utf8), id: id)
        }
        self.vocabulary = vocabulary
        self.trie = trie
        self.unkID = unkID
        self.byteFallback = byteFallback
        self.path = path
        minimumScore = pieces.map(\.1).min() ?? 0
    }

    var vocabularySize: Int { pieces.count }
    func id(of token: String) -> Int? { vocabulary[token] }
    func token(of id: Int) -> String? { pieces.indices.contains(id) ? pieces[id].token : nil }

    func tokenize(_ word: [Unicode.Scalar]) throws(LSGError) -> [ModelToken] {
        let key = String(scalars: word)
        if let cached = cache.tokens(key) { return cached }
        let result = try segment(key, scalarCount: word.count)
        cache.store(key, result)
        return result
    }

    private struct Node {
        var id = -1
        var score = 0.0
        var start = -1
    }

    private func segment(_ word: String, scalarCount: Int) throws(LSGError) -> [ModelToken] {
        let bytes = Array(word.utf8)
        guard !bytes.isEmpty else { return [] }
        // The scalar index at each byte offset (and the count at the end).
        var scalarAt = [Int](repeating: 0, count: bytes.count + 1)
        var scalarIndex = 0
        for (offset, byte) in bytes.enumerated() {
            if offset > 0 && byte & 0xC0 != 0x80 { scalarIndex += 1 }
            scalarAt[offset] = scalarIndex
        }
        scalarAt[bytes.count] = scalarCount
        let unkScore = minimumScore - Self.unkPenalty
        var best = [Node](repeating: Node(), count: bytes.count + 1)
        var start = 0
        while start < bytes.count {
            let scoreHere = best[start].score
            let characterLength = Self.utf8Length(bytes[start])
            var hasSingleCharacter = false
            trie.forEachPrefix(of: bytes, from: start) { end, id in
                let candidate = scoreHere + pieces[id].score
                if best[end].start == -1 || candidate > best[end].score {
                    best[end] = Node(id: id, score: candidate, start: start)
                }
                if end - start == characterLength { hasSingleCharacter = true }
            }
            if !hasSingleCharacter {
                guard let unkID else { throw LSGError(.malformed, file: path, "Unigram model has no unk_id, and a character is not in it") }
                let end = min(start + characterLength, bytes.count)
                let candidate = scoreHere + unkScore
                if best[end].start == -1 || candidate > best[end].score {
                    best[end] = Node(id: unkID, score: candidate, start: start)
                }
            }
            start += characterLength
        }
        // Walk back, fusing consecutive unk pieces.
        var spans: [(range: Range<Int>, isUnknown: Bool)] = []
        var end = bytes.count
        while end > 0 {
            let node = best[end]
            let isUnknown = unkID != nil && node.id == unkID
            if isUnknown, let last = spans.last, last.isUnknown {
                spans[spans.count - 1].range = node.start..<last.range.upperBound
            } else {
                spans.append((node.start..<end, isUnknown))
            }
            end = node.start
        }
        var tokens: [ModelToken] = []
        tokens.reserveCapacity(spans.count)
        for span in spans.reversed() {
            let value = String(decoding: bytes[span.range], as: UTF8.self)
            let range = scalarAt[span.range.lowerBound]..<scalarAt[span.range.upperBound]
            if let id = vocabulary[value] {
                tokens.append(ModelToken(id: id, value: value, range: range))
                continue
            }
            if byteFallback {
                let ids = bytes[span.range].map { vocabulary[BPEModel.byteToken($0)] }
                if ids.allSatisfy({ $0 != nil }) {
                    for (byte, id) in zip(bytes[span.range], ids) { tokens.append(ModelToken(id: id!, value: BPEModel.byteToken(byte), range: range)) }
                    continue
                }
            }
            guard let unkID else { throw LSGError(.malformed, file: path, "Unigram model has no unk_id, and \(value) is not in it") }
            tokens.append(ModelToken(id: unkID, value: value, range: range))
        }
        return tokens
    }

    private static func utf8Length(_ lead: UInt8) -> Int {
        if lead < 0x80 { return 1 }
        if lead >> 5 == 0b110 { return 2 }
        if lead >> 4 == 0b1110 { return 3 }
        return 4
    }
}

/// A trie over byte strings, for common-prefix searches.
struct ByteTrie: Sendable {
    private var children: [Int: Int32] = [:]
    /// The id of the key ending at each node (the last one inserted), or -1.
    private var ids: [Int32] = [-1]

    mutating func insert(_ key: [UInt8], id: Int) {
        var node = 0
        for byte in key {
            let slot = node << 8 | Int(byte)
            if let child = children[slot] {
                node = Int(child)
            } else {
                ids.append(-1)
                children[slot] = Int32(ids.count - 1)
                node = ids.count - 1
            }
        }
        ids[node] = Int32(id)
    }

    /// Calls `body(end, id)` for every key equal to `bytes[start..<end]`, shortest first.
    func forEachPrefix(of bytes: [UInt8], from start: Int, _ body: (Int, Int) -> Void) {
        var node = 0
        var index = start
        while index < bytes.count, let child = children[node << 8 | Int(bytes[index])] {
            node = Int(child)
            index += 1
            if ids[node] >= 0 { body(index, Int(ids[node])) }
        }
    }
}
