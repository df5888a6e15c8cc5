import Checkpoint
import Parallel

/// The buffers one sequence's attention reads and writes.
struct AttentionBuffers: Sendable {
    /// `[rows, 3·hidden]`: queries, keys, values of every row.
    let qkv: FloatBuffer
    /// Additive key mask per row: 0 or the float32 minimum.
    let keyMask: FloatBuffer
    /// `[rows, hidden]` output.
    let context: FloatBuffer
    /// `[heads, sparseCount, headSize]` sparse keys and values, `[heads, sparseCount]` mask.
    let sparseKeys: FloatBuffer
    let sparseValues: FloatBuffer
    let sparseMask: FloatBuffer

    init(layout: AttentionLayout) {
        qkv = FloatBuffer(count: layout.rows * layout.qkvStride)
        keyMask = FloatBuffer(count: layout.rows)
        context = FloatBuffer(count: layout.rows * layout.hiddenSize)
        var sparseCount = 0
        if case .blocks(let blocks) = layout.mode, let sparse = blocks.sparse { sparseCount = sparse.count }
        sparseKeys = FloatBuffer(count: layout.heads * sparseCount * layout.headSize)
        sparseValues = FloatBuffer(count: layout.heads * sparseCount * layout.headSize)
        sparseMask = FloatBuffer(count: layout.heads * sparseCount)
    }
}

/// Scaled dot-product attention over a list of key segments, as the reference computes it:
/// scores / √d + mask, softmax, weights · values.
struct SelfAttention: Sendable {
    let layout: AttentionLayout
    let parallel: Parallel
    /// Queries per work item of full attention.
    static let queryTile = 64

    /// Runs one layer's attention for one sequence.
    func run(_ buffers: AttentionBuffers, selection: SparseSelectionInputs) {
        switch layout.mode {
        case .full:
            fullAttention(queries: 0..<layout.rows, buffers)
        case .blocks(let blocks):
            if let sparse = blocks.sparse { selectSparseTokens(sparse, buffers, selection) }
            fullAttention(queries: 0..<layout.globalCount, buffers)
            blockAttention(blocks, buffers)
        }
    }

    private var inverseScale: Float { 1 / Float(Double(layout.headSize).squareRoot()) }

    private func headTokens(_ head: Int, _ buffers: AttentionBuffers) -> HeadTokens {
        let h = layout.hiddenSize
        let first = buffers.qkv[layout.globalCount * layout.qkvStride + head * layout.headSize]
        return HeadTokens(
            queries: first, keys: first + h, values: first + 2 * h, stride: layout.qkvStride,
            headSize: layout.headSize, mask: buffers.keyMask[layout.globalCount], count: layout.tokenCount)
    }

    private func selectSparseTokens(
        _ sparse: SparseLayout, _ buffers: AttentionBuffers, _ inputs: SparseSelectionInputs
    ) {
        let layout = self.layout
        parallel.forEach(layout.heads, scratch: { SparseScratch() }) { head, scratch in
            let tokenView = headTokens(head, buffers)
            let output = HeadSparseTokens(
                keys: buffers.sparseKeys[head * sparse.count * layout.headSize],
                values: buffers.sparseValues[head * sparse.count * layout.headSize],
                mask: buffers.sparseMask[head * sparse.count], count: sparse.count)
            SparseSelection.select(
                sparse, head: head, tokens: tokenView, into: output, inputs: inputs, scratch: &scratch)
        }
    }

    /// Every query row in `queries` attends to every row.
    private func fullAttention(queries: Range<Int>, _ buffers: AttentionBuffers) {
        guard !queries.isEmpty else { return }
        let layout = self.layout
        let tiles = (queries.count + Self.queryTile - 1) / Self.queryTile
        let rows = layout.rows
        parallel.forEach(layout.heads * tiles, scratch: { FloatBuffer(count: Self.queryTile * rows) }) { item, scores in
            let head = item / tiles
            let first = queries.lowerBound + (item % tiles) * Self.queryTile
            let count = min(Self.queryTile, queries.upperBound - first)
            let column = head * layout.headSize
            let keys = Segment(
                keys: buffers.qkv[layout.hiddenSize + column], values: buffers.qkv[2 * layout.hiddenSize + column],
                stride: layout.qkvStride, count: rows, mask: buffers.keyMask.base)
            attend(
                queries: buffers.qkv[first * layout.qkvStride + column], count: count, segments: [keys],
                scores: scores.base, output: buffers.context[first * layout.hiddenSize + column])
        }
    }

    /// Each block of queries attends to the global tokens, its sparse context and its local window.
    private func blockAttention(_ blocks: BlockLayout, _ buffers: AttentionBuffers) {
        let layout = self.layout
        var maxKeys = layout.globalCount + 3 * blocks.blockSize
        if let sparse = blocks.sparse {
            maxKeys += sparse.windows.map { $0.before.count + $0.after.count }.max() ?? 0
        }
        let scoreCount = blocks.blockSize * maxKeys
        parallel.forEach(layout.heads * blocks.blockCount, scratch: { FloatBuffer(count: scoreCount) }) { item, scores in
            let head = item / blocks.blockCount
            let block = item % blocks.blockCount
            let column = head * layout.headSize
            let h = layout.hiddenSize
            let global = Segment(
                keys: buffers.qkv[h + column], values: buffers.qkv[2 * h + column], stride: layout.qkvStride,
                count: layout.globalCount, mask: buffers.keyMask.base)
            let local = blocks.localRange(of: block)
            let localRow = (layout.globalCount + local.lowerBound) * layout.qkvStride
            let localSegment = Segment(
                keys: buffers.qkv[localRow + h + column], values: buffers.qkv[localRow + 2 * h + column],
                stride: layout.qkvStride, count: local.count,
                mask: buffers.keyMask[layout.globalCount + local.lowerBound])
            var segments = [global]
            if let sparse = blocks.sparse {
                let window = sparse.windows[block]
                for range in [window.before, window.after] where !range.isEmpty {
                    let offset = head * sparse.count + range.lowerBound
                    segments.append(Segment(
                        keys: buffers.sparseKeys[offset * layout.headSize],
                        values: buffers.sparseValues[offset * layout.headSize], stride: layout.headSize,
                        count: range.count, mask: buffers.sparseMask[offset]))
                }
            }
            segments.append(localSegment)
            let firstQuery = layout.globalCount + block * blocks.blockSize
            attend(
                queries: buffers.qkv[firstQuery * layout.qkvStride + column], count: blocks.blockSize,
                segments: segments, scores: scores.base,
                output: buffers.context[firstQuery * layout.hiddenSize + column])
        }
    }

    /// A run of keys and values (`count` rows `stride` apart) with their additive mask.
    struct Segment {
        let keys: UnsafePointer<Float>
        let values: UnsafePointer<Float>
        let stride: Int
        let count: Int
        let mask: UnsafePointer<Float>

        init(keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>, stride: Int, count: Int, mask: UnsafeMutablePointer<Float>) {
            self.keys = UnsafePointer(keys)
            self.values = UnsafePointer(values)
            self.stride = stride
            self.count = count
            self.mask = UnsafePointer(mask)
        }
    }

    /// softmax(Q·Kᵀ / √d + mask) · V for `count` queries (rows `qkvStride` apart) over the
    /// concatenated segments; writes `count` rows of `headSize` into `output` (rows `hidden` apart).
    private func attend(
        queries: UnsafeMutablePointer<Float>, count: Int, segments: [Segment], scores: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>
    ) {
        let d = layout.headSize
        let width = segments.reduce(0) { $0 + $1.count }
        var column = 0
        for segment in segments {
            // Scaling by 1/√d inside the product rounds like the reference's division when √d is
            // a power of two (head sizes 64, 16, 4, ...) and within an ulp otherwise.
            BLAS.gemm(
                m: count, n: segment.count, k: d, alpha: inverseScale, a: queries, lda: layout.qkvStride, b: segment.keys,
                ldb: segment.stride, transposeB: true, beta: 0, c: scores + column, ldc: width)
            column += segment.count
        }
        for row in 0..<count {
            let scoreRow = scores + row * width
            var column = 0
            for segment in segments {
                VectorMath.add(segment.mask, to: scoreRow + column, count: segment.count)
                column += segment.count
            }
            VectorMath.softmax(scoreRow, count: width)
        }
        column = 0
        for (index, segment) in segments.enumerated() {
            BLAS.gemm(
                m: count, n: d, k: segment.count, a: scores + column, lda: width, b: segment.values,
                ldb: segment.stride, transposeB: false, beta: index == 0 ? 0 : 1, c: output, ldc: layout.hiddenSize)
            column += segment.count
        }
    }
}
