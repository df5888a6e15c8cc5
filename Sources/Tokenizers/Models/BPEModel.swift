import LSGErrors

/// `tokenizers`' BPE: a word starts as its characters (the continuing-subword prefix on all but
/// the first, the end-of-word suffix on the last; unknown ones as byte tokens `<0xXX>` with byte
/// fallback, else the unk token, consecutive ones fused with `fuse_unk`), then the pair with the
/// lowest merge rank is merged, leftmost first, until no pair merges.
struct BPEModel: TokenizerModel {
    struct Configuration: Sendable {
        var unkToken: String?
        var continuingSubwordPrefix: String?
        var endOfWordSuffix: String?
        var fuseUnk = false
        var byteFallback = false
        var ignoreMerges = false
    }

    private struct Pair: Hashable { let left: Int32; let right: Int32 }
    private struct Merge { let rank: Int32; let newID: Int32 }

    let vocabulary: Vocabulary
    let tokens: [String?]
    let configuration: Configuration
    private let merges: [Pair: Merge]
    private let byteTokenIDs: [Int?]
    let path: String
    let cache = WordCache()

    init(vocabulary: Vocabulary, merges: [(String, String)], configuration: Configuration, path: String) throws(LSGError) {
        self.vocabulary = vocabulary
        tokens = tokensByID(vocabulary)
        self.configuration = configuration
        self.path = path
        let prefixLength = configuration.continuingSubwordPrefix?.unicodeScalars.count ?? 0
        var table: [Pair: Merge] = [:]
        table.reserveCapacity(merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            let merged = left + String(scalars: right.unicodeScalars.dropFirst(prefixLength))
            guard let leftID = vocabulary[left], let rightID = vocabulary[right], let newID = vocabulary[merged] else {
                throw LSGError(.malformed, file: path, "BPE merge \(rank) (\(left) \(right)) names a token that is not in the vocabulary")
            }
            let pair = Pair(left: Int32(leftID), right: Int32(rightID))
            if table[pair] == nil { table[pair] = Merge(rank: Int32(rank), newID: Int32(newID)) }
        }
        self.merges = table
        byteTokenIDs = (0..<256).map { vocabulary[Self.byteToken(UInt8($0))] }
    }

    static func byteToken(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return "<0x" + (digits.count == 1 ? "0" + digits : digits) + ">"
    }

    var vocabularySize: Int { vocabulary.count }
    func id(of token: String) -> Int? { vocabulary[token] }
    func token(of id: Int) -> String? { tokens.token(id) }

    func tokenize(_ word: [Unicode.Scalar]) throws(LSGError) -> [ModelToken] {
        let key = String(scalars: word)
        if configuration.ignoreMerges, let id = vocabulary[key] { return [ModelToken(id: id, value: key, range: 0..<word.count)] }
        if let cached = cache.tokens(key) { return cached }
        var symbols = try initialSymbols(word)
        mergeAll(&symbols)
        let result = symbols.map { symbol in
            ModelToken(id: Int(symbol.id), value: tokens.token(Int(symbol.id)) ?? "", range: symbol.range)
        }
        cache.store(key, result)
        return result
    }

    private struct Symbol {
        var id: Int32
        var range: Range<Int>
        var previous: Int
        var next: Int
        var removed = false
    }

    private func initialSymbols(_ word: [Unicode.Scalar]) throws(LSGError) -> [Symbol] {
        var symbols: [Symbol] = []
        symbols.reserveCapacity(word.count)
        var unknown: (id: Int, range: Range<Int>)?
        func add(_ id: Int, _ range: Range<Int>) {
            symbols.append(Symbol(id: Int32(id), range: range, previous: symbols.count - 1, next: -1))
        }
        func flushUnknown() {
            if let pending = unknown { add(pending.id, pending.range); unknown = nil }
        }
        for (index, scalar) in word.enumerated() {
            var piece = ""
            if index > 0, let prefix = configuration.continuingSubwordPrefix { piece = prefix }
            piece.unicodeScalars.append(scalar)
            if index == word.count - 1, let suffix = configuration.endOfWordSuffix { piece += suffix }
            if let id = vocabulary[piece] {
                flushUnknown()
                add(id, index..<(index + 1))
                continue
            }
            if configuration.byteFallback {
                let ids = piece.utf8.map { byteTokenIDs[Int($0)] }
                if ids.allSatisfy({ $0 != nil }) {
                    flushUnknown()
                    for id in ids { add(id!, index..<(index + 1)) }
                    continue
                }
            }
            guard let unkToken = configuration.unkToken else { continue }
            guard let unkID = vocabulary[unkToken] else {
                throw LSGError(.malformed, file: path, "BPE unk_token \(unkToken) is not in the vocabulary")
            }
            if let pending = unknown, configuration.fuseUnk {
                unknown = (unkID, pending.range.lowerBound..<(index + 1))
            } else {
                flushUnknown()
                unknown = (unkID, index..<(index + 1))
            }
        }
        flushUnknown()
        for index in symbols.indices { symbols[index].next = index + 1 < symbols.count ? index + 1 : -1 }
        return symbols
    }

    /// `Word::merge_all` without dropout: a min-heap of (rank, position) merges, stale entries skipped.
    private func mergeAll(_ symbols: inout [Symbol]) {
        var heap = MergeHeap()
        for index in symbols.indices.dropLast() {
            if let merge = merges[Pair(left: symbols[index].id, right: symbols[index + 1].id)] {
                heap.push(rank: merge.rank, position: index, newID: merge.newID)
            }
        }
        while let top = heap.pop() {
            let position = top.position
            guard !symbols[position].removed, symbols[position].next != -1 else { continue }
            let nextPosition = symbols[position].next
            let right = symbols[nextPosition]
            guard let merge = merges[Pair(left: symbols[position].id, right: right.id)], merge.newID == top.newID else { continue }
            symbols[position].id = top.newID
            symbols[position].range = symbols[position].range.lowerBound..<right.range.upperBound
            symbols[position].next = right.next
            symbols[nextPosition].removed = true
            if right.next != -1 { symbols[right.next].previous = position }
            let previous = symbols[position].previous
            if previous != -1, let merge = merges[Pair(left: symbols[previous].id, right: top.newID)] {
                heap.push(rank: merge.rank, position: previous, newID: merge.newID)
            }
            let next = symbols[position].next
            if next != -1, let merge = merges[Pair(left: top.newID, right: symbols[next].id)] {
                heap.push(rank: merge.rank, position: position, newID: merge.newID)
            }
        }
        symbols.removeAll { $0.removed }
    }
}

/// A binary min-heap of pending merges ordered by rank, then position.
private struct MergeHeap {
    struct Entry { let rank: Int32; let position: Int; let newID: Int32 }
    private var entries: [Entry] = []

    private static func before(_ a: Entry, _ b: Entry) -> Bool { a.rank != b.rank ? a.rank < b.rank : a.position < b.position }

    mutating func push(rank: Int32, position: Int, newID: Int32) {
        entries.append(Entry(rank: rank, position: position, newID: newID))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(entries[child], entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let top = entries.first else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < entries.count && Self.before(entries[left], entries[smallest]) { smallest = left }
                if right < entries.count && Self.before(entries[right], entries[smallest]) { smallest = right }
                if smallest == parent { break }
                entries.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}
