/// Multi-head scaled dot-product attention of every query row over every key row with an
/// additive mask, as transformers' `BartAttention` computes it: the decoder's causal
/// self-attention and its cross-attention over the encoder's output.
enum DenseAttention {
    /// `context[queryRows, heads·headSize]` from row-major queries `[queryRows, hidden]`, keys
    /// and values `[keyRows, hidden]`, and `mask` `[queryRows, keyRows]` (0 or the float32 minimum).
    static func run(
        queries: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        queryRows: Int, keyRows: Int, heads: Int, headSize: Int, mask: [Float],
        into context: UnsafeMutablePointer<Float>
    ) {
        let hidden = heads * headSize
        let scale = 1 / Float(Double(headSize).squareRoot())
        var scores = [Float](repeating: 0, count: queryRows * keyRows)
        scores.withUnsafeMutableBufferPointer { scores in
            let p = scores.baseAddress!
            for head in 0..<heads {
                let offset = head * headSize
                BLAS.gemm(m: queryRows, n: keyRows, k: headSize, alpha: scale, a: queries + offset, lda: hidden,
                          b: keys + offset, ldb: hidden, transposeB: true, beta: 0, c: p, ldc: keyRows)
                mask.withUnsafeBufferPointer { VectorMath.add($0.baseAddress!, to: p, count: queryRows * keyRows) }
                for row in 0..<queryRows { VectorMath.softmax(p + row * keyRows, count: keyRows) }
                BLAS.gemm(m: queryRows, n: headSize, k: keyRows, a: p, lda: keyRows, b: values + offset, ldb: hidden,
                          transposeB: false, beta: 0, c: context + offset, ldc: hidden)
            }
        }
    }
}
