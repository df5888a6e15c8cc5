import Checkpoint
import LSGErrors

/// Which keys each query of one head attends to, for a configuration and an input length: the
/// picture of LSG attention, read from the same `AttentionLayout` and `SparseLayout` the encoder
/// runs on. Rows and columns are the global tokens followed by the tokens (padded to a block
/// multiple when the reference pads).
public struct AttentionPattern: Sendable {
    /// Why a query sees a key. Raw values order the kinds by how they are drawn over each other.
    public enum Kind: Int, Sendable, CaseIterable, Comparable {
        /// Not attended.
        case none = 0
        /// In the attended set, but masked: padding, or the first token with `mask_first_token`.
        case masked
        /// Sparse context. For norm, lsh, pooling and bos_pooling the whole group or chunk a
        /// sparse token is chosen or pooled from (which tokens win depends on the data).
        case sparse
        /// The previous, current and next block.
        case local
        /// Full attention: the sequence fits in two blocks (or the model is not LSG).
        case full
        /// A global query (sees everything) or a global key (seen by everyone).
        case global

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// A run of keys `keys` of one kind, within a query's row.
    public struct Run: Sendable, Hashable {
        public var keys: Range<Int>
        public var kind: Kind

        public init(keys: Range<Int>, kind: Kind) {
            self.keys = keys
            self.kind = kind
        }
    }

    /// The input length the pattern is drawn for (without padding or globals).
    public let length: Int
    public let globalCount: Int
    /// Tokens after padding to a block multiple (equals `length` when nothing is padded).
    public let tokenCount: Int
    /// The head drawn: stride and block_stride pick different tokens per head.
    public let head: Int
    /// The LSG settings, nil for a plain model.
    public let lsg: LSGConfig?
    /// Whether every query attends to every key (short input or plain model).
    public let isFull: Bool
    /// Whether the sparse kind shows candidates (the selection depends on the data) rather than
    /// the exact keys.
    public let sparseIsCandidateSet: Bool
    /// Sparse tokens per head (0 without sparse attention).
    public let sparseCount: Int

    private let blocks: BlockLayout?

    /// The pattern of `head` for `length` tokens with `lsg` as the encoder would run it (nil: a
    /// plain full-attention model), or the encoder's error for an impossible configuration.
    public init(lsg: LSGConfig?, length: Int, head: Int = 0) throws(LSGError) {
        guard length > 0 else { throw LSGError(.invalidOption, "the length must be positive (got \(length))") }
        guard head >= 0 else { throw LSGError(.invalidOption, "the head must not be negative (got \(head))") }
        // The layout reads only the heads and the LSG settings; the other sizes are placeholders.
        let configuration = try EncoderConfiguration(
            family: .roberta, hiddenSize: 1, numAttentionHeads: 1, numHiddenLayers: 0, intermediateSize: 1,
            layerNormEps: 1e-5, vocabSize: 1, typeVocabSize: 1, padTokenId: 0, maxPositionEmbeddings: length + 2,
            hiddenAct: .gelu, lsg: lsg)
        let layout = try AttentionLayout(configuration: configuration, length: length)
        self.length = length
        self.head = head
        self.lsg = lsg
        globalCount = layout.globalCount
        tokenCount = layout.tokenCount
        switch layout.mode {
        case .full:
            isFull = true
            blocks = nil
            sparseCount = 0
            sparseIsCandidateSet = false
        case .blocks(let blockLayout):
            isFull = false
            blocks = blockLayout
            sparseCount = blockLayout.sparse?.count ?? 0
            switch blockLayout.sparse?.selection {
            case .norm?, .lsh?, .pooling?, .bosPooling?: sparseIsCandidateSet = true
            default: sparseIsCandidateSet = false
            }
        }
    }

    /// Rows (and columns): global tokens, then tokens.
    public var size: Int { globalCount + tokenCount }

    /// Whether key column `key` is masked for every query: padding, or the first token when
    /// `mask_first_token` is set.
    public func isMaskedKey(_ key: Int) -> Bool {
        guard key >= globalCount else { return false }
        let token = key - globalCount
        return token >= length || (lsg?.maskFirstToken == true && token == 0)
    }

    /// The keys query row `query` attends to, as runs of one kind in key order, not
    /// overlapping; keys in no run are not attended.
    public func runs(ofQuery query: Int) -> [Run] {
        precondition((0..<size).contains(query), "query \(query) outside 0..<\(size)")
        if query < globalCount { return splitMasked(Run(keys: 0..<size, kind: .global)) }
        var runs = globalCount > 0 ? [Run(keys: 0..<globalCount, kind: .global)] : []
        guard let blocks else {
            runs.append(Run(keys: globalCount..<size, kind: .full))
            return runs.flatMap(splitMasked)
        }
        let block = (query - globalCount) / blocks.blockSize
        let local = blocks.localRange(of: block)
        let localKeys = (local.lowerBound + globalCount)..<(local.upperBound + globalCount)
        var sparseKeys: [Range<Int>] = []
        if let sparse = blocks.sparse {
            let window = sparse.windows[block]
            sparseKeys = (Array(window.before) + Array(window.after)).map { index in
                let tokens = sparse.sourceTokens(of: index, head: head)
                return (tokens.lowerBound + globalCount)..<(tokens.upperBound + globalCount)
            }
        }
        // Local wins where a sparse token's group or chunk reaches into the local window.
        for keys in Self.merged(sparseKeys) {
            runs += Self.subtract(localKeys, from: keys).map { Run(keys: $0, kind: .sparse) }
        }
        runs.append(Run(keys: localKeys, kind: .local))
        runs.sort { $0.keys.lowerBound < $1.keys.lowerBound }
        return runs.flatMap(splitMasked)
    }

    /// The kind of one query/key pair.
    public func kind(query: Int, key: Int) -> Kind {
        runs(ofQuery: query).first { $0.keys.contains(key) }?.kind ?? .none
    }

    /// `run` with its masked keys (padding, a masked first token) split off as `.masked`.
    private func splitMasked(_ run: Run) -> [Run] {
        var pieces: [Run] = []
        var start = run.keys.lowerBound
        for masked in maskedKeys {
            let lower = max(masked.lowerBound, start), upper = min(masked.upperBound, run.keys.upperBound)
            guard lower < upper else { continue }
            let cut = lower..<upper
            if start < cut.lowerBound { pieces.append(Run(keys: start..<cut.lowerBound, kind: run.kind)) }
            pieces.append(Run(keys: cut, kind: .masked))
            start = cut.upperBound
        }
        if start < run.keys.upperBound { pieces.append(Run(keys: start..<run.keys.upperBound, kind: run.kind)) }
        return pieces
    }

    /// Key columns masked for every query, in order.
    private var maskedKeys: [Range<Int>] {
        var ranges: [Range<Int>] = []
        if lsg?.maskFirstToken == true { ranges.append(globalCount..<(globalCount + 1)) }
        if tokenCount > length { ranges.append((globalCount + length)..<size) }
        return ranges
    }

    /// Sorted, with overlapping or touching ranges joined.
    private static func merged(_ ranges: [Range<Int>]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) where !range.isEmpty {
            if let last = result.last, range.lowerBound <= last.upperBound {
                result[result.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        return result
    }

    private static func subtract(_ hole: Range<Int>, from range: Range<Int>) -> [Range<Int>] {
        guard range.overlaps(hole) else { return range.isEmpty ? [] : [range] }
        var pieces: [Range<Int>] = []
        if range.lowerBound < hole.lowerBound { pieces.append(range.lowerBound..<hole.lowerBound) }
        if hole.upperBound < range.upperBound { pieces.append(hole.upperBound..<range.upperBound) }
        return pieces
    }
}
