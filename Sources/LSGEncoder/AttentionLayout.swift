import Checkpoint
import LSGErrors

/// Shapes of one sequence's self-attention: the same for every layer and every sequence of a
/// batch. Rows are the global tokens (LSG only) followed by the tokens, padded to a multiple of
/// the block size when the reference pads.
struct AttentionLayout: Sendable {
    enum Mode: Sendable {
        /// Every query attends to every key: the original model, or an LSG model whose input
        /// fits in two blocks.
        case full
        /// Global queries attend to everything; token blocks attend to the global tokens, their
        /// sparse context and the previous, current and next block.
        case blocks(BlockLayout)
    }

    let heads: Int
    let headSize: Int
    let globalCount: Int
    let tokenCount: Int
    let mode: Mode

    var hiddenSize: Int { heads * headSize }
    var rows: Int { globalCount + tokenCount }
    /// Stride between rows of the fused query/key/value buffer.
    var qkvStride: Int { 3 * hiddenSize }

    /// The layout for `length` input tokens, or the error the reference would hit.
    init(configuration config: EncoderConfiguration, length: Int) throws(LSGError) {
        heads = config.numAttentionHeads
        headSize = config.headSize
        guard let lsg = config.lsg else {
            globalCount = 0
            tokenCount = length
            mode = .full
            return
        }
        globalCount = lsg.numGlobalTokens
        let blockSize = lsg.blockSize
        var tokens = length
        if lsg.adaptive, length > 2 * blockSize, length % blockSize != 0 {
            tokens += blockSize - length % blockSize
        }
        tokenCount = tokens
        if tokens <= 2 * blockSize {
            mode = .full
            return
        }
        guard tokens % blockSize == 0 else {
            throw LSGError(.invalidInput, "with adaptive=false the length (\(length)) must be a multiple of block_size (\(blockSize)) once it exceeds 2 blocks")
        }
        mode = .blocks(try BlockLayout(lsg: lsg, tokenCount: tokens, heads: heads))
    }
}

/// Block geometry of LSG attention.
struct BlockLayout: Sendable {
    let blockSize: Int
    let blockCount: Int
    let sparse: SparseLayout?

    init(lsg: LSGConfig, tokenCount: Int, heads: Int) throws(LSGError) {
        blockSize = lsg.blockSize
        blockCount = tokenCount / lsg.blockSize
        let hasSparse = lsg.sparseBlockSize > 0 && lsg.sparsityFactor > 0 && lsg.sparsityType != .none
        sparse = hasSparse ? try SparseLayout(lsg: lsg, tokenCount: tokenCount, blockCount: blockCount) : nil
    }

    /// The local keys of `block`: the previous, current and next block, clipped to the tokens.
    func localRange(of block: Int) -> Range<Int> {
        max(0, (block - 1) * blockSize)..<min(blockCount * blockSize, (block + 2) * blockSize)
    }
}

/// How the sparse tokens are made, and which of them each block sees.
struct SparseLayout: Sendable {
    enum Selection: Sendable, Equatable {
        /// Every token (sparsity_factor 1).
        case all
        /// The `keep` keys of highest norm in each chunk of `chunk` tokens.
        case norm(chunk: Int, keep: Int)
        /// The masked mean of each group of `factor` tokens.
        case pooling
        /// Every `factor`-th token, shifted by the head index.
        case stride
        /// Within each block, `blockSize / factor` consecutive tokens starting at a head-dependent offset.
        case blockStride
        /// Each group of `factor` tokens pooled with the first token's query as attention.
        case bosPooling
        /// Keys hashed into buckets per chunk of `chunk` tokens, one round per bucket count.
        case lsh(chunk: Int, bucketCounts: [Int])
    }

    let selection: Selection
    let factor: Int
    let blockSize: Int
    /// Sparse tokens per head.
    let count: Int
    /// Per block, the sparse tokens it sees (before and after), already clipped to `0..<count`.
    let windows: [(before: Range<Int>, after: Range<Int>)]

    init(lsg: LSGConfig, tokenCount: Int, blockCount: Int) throws(LSGError) {
        factor = lsg.sparsityFactor
        blockSize = lsg.blockSize
        let chunk = min(lsg.blockSize, lsg.sparseBlockSize)
        func requireChunks() throws(LSGError) {
            guard tokenCount % chunk == 0 else {
                throw LSGError(.invalidInput, "\(lsg.sparsityType.rawValue) sparsity needs the padded length (\(tokenCount)) to be a multiple of min(block_size, sparse_block_size) = \(chunk)")
            }
        }
        if factor == 1 {
            selection = .all
            count = tokenCount
        } else {
            switch lsg.sparsityType {
            case .none:
                throw LSGError(.internal, "internal: no sparse layout for sparsity none")
            case .norm:
                try requireChunks()
                selection = .norm(chunk: chunk, keep: chunk / factor)
                count = tokenCount / chunk * (chunk / factor)
            case .pooling:
                selection = .pooling
                count = tokenCount / factor
            case .stride:
                selection = .stride
                count = tokenCount / factor
            case .blockStride:
                selection = .blockStride
                count = tokenCount / lsg.blockSize * (lsg.blockSize / factor)
            case .bosPooling:
                selection = .bosPooling
                count = tokenCount / factor
            case .lsh where factor == lsg.sparseBlockSize:
                // The reference hands this case to bos_pooling.
                selection = .bosPooling
                count = tokenCount / factor
            case .lsh:
                try requireChunks()
                let rounds = Array(repeating: chunk, count: lsg.lshNumPreRounds) + [chunk / factor]
                guard rounds.allSatisfy({ $0 >= 2 }) else {
                    throw LSGError(.invalidOption, "lsh sparsity needs at least 2 buckets per round (chunk \(chunk), sparsity_factor \(factor))")
                }
                selection = .lsh(chunk: chunk, bucketCounts: rounds)
                count = tokenCount / chunk * (chunk / factor)
            }
        }
        windows = try Self.windows(
            sparseCount: count, blockSize: lsg.blockSize, sparseBlockSize: lsg.sparseBlockSize, factor: factor,
            blockCount: blockCount)
    }

    /// The tokens sparse token `index` of `head` is made from: the one token it copies (all,
    /// stride, block_stride), the group pooled into it (pooling, bos_pooling), or the chunk it is
    /// picked or hashed from (norm, lsh: which tokens of the chunk depends on the data).
    func sourceTokens(of index: Int, head: Int) -> Range<Int> {
        switch selection {
        case .all:
            return index..<(index + 1)
        case .stride:
            let token = index * factor + head % factor
            return token..<(token + 1)
        case .blockStride:
            let perBlock = blockSize / factor
            let token = (index % perBlock + head * perBlock) % blockSize + index / perBlock * blockSize
            return token..<(token + 1)
        case .pooling, .bosPooling:
            return (index * factor)..<((index + 1) * factor)
        case .norm(let chunk, let keep):
            let start = index / keep * chunk
            return start..<(start + chunk)
        case .lsh(let chunk, let bucketCounts):
            let start = index / bucketCounts.last! * chunk
            return start..<(start + chunk)
        }
    }

    /// The reference pads the sparse sequence, cuts it into overlapping windows (one per block)
    /// and keeps two slices of each; this computes which sparse tokens those slices hold,
    /// dropping the padding (always masked, so it adds exactly nothing to the softmax).
    private static func windows(
        sparseCount: Int, blockSize: Int, sparseBlockSize: Int, factor: Int, blockCount: Int
    ) throws(LSGError) -> [(before: Range<Int>, after: Range<Int>)] {
        let step = blockSize / factor
        let odd = step % 2
        let size = 6 * sparseBlockSize
        let padding = floorDivide(size - step, 2) + odd
        let padded = sparseCount + 2 * padding
        var windowCount = padded >= size ? (padded - size) / step + 1 : 0
        if odd == 1 { windowCount -= 1 }
        guard windowCount == blockCount else {
            throw LSGError(.invalidOption, "the reference cannot build sparse windows for block_size \(blockSize), sparse_block_size \(sparseBlockSize), sparsity_factor \(factor) (\(windowCount) windows for \(blockCount) blocks)")
        }
        let edge = floorDivide(size - floorDivide(blockSize * 3, factor), 2) + odd
        let before = pythonSlice(edge - sparseBlockSize, edge, length: size)
        let after = pythonSlice(-(edge + odd), -(edge + odd) + sparseBlockSize, length: size)
        return (0..<blockCount).map { block in
            let origin = block * step - padding
            func clip(_ slice: Range<Int>) -> Range<Int> {
                let lower = min(max(origin + slice.lowerBound, 0), sparseCount)
                let upper = min(max(origin + slice.upperBound, lower), sparseCount)
                return lower..<upper
            }
            return (clip(before), clip(after))
        }
    }
}

/// Python's floor division.
func floorDivide(_ a: Int, _ b: Int) -> Int {
    let quotient = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
}

/// The indices `sequence[start:stop]` selects in Python, for a sequence of `length`.
func pythonSlice(_ start: Int, _ stop: Int, length: Int) -> Range<Int> {
    func normalize(_ index: Int) -> Int {
        index < 0 ? max(index + length, 0) : min(index, length)
    }
    let lower = normalize(start)
    return lower..<max(lower, normalize(stop))
}
