import Foundation

/// One head's view of the tokens' queries, keys and values inside the fused QKV buffer.
struct HeadTokens {
    let queries: UnsafePointer<Float>
    let keys: UnsafePointer<Float>
    let values: UnsafePointer<Float>
    /// Distance between consecutive tokens.
    let stride: Int
    let headSize: Int
    /// Additive mask per token: 0 or the float32 minimum.
    let mask: UnsafePointer<Float>
    let count: Int

    func key(_ token: Int) -> UnsafePointer<Float> { keys + token * stride }
    func value(_ token: Int) -> UnsafePointer<Float> { values + token * stride }
    func query(_ token: Int) -> UnsafePointer<Float> { queries + token * stride }
    func isUnmasked(_ token: Int) -> Bool { mask[token] == 0 }
}

/// One head's sparse tokens: `count` keys and values of `headSize`, and their additive mask.
struct HeadSparseTokens {
    let keys: UnsafeMutablePointer<Float>
    let values: UnsafeMutablePointer<Float>
    let mask: UnsafeMutablePointer<Float>
    let count: Int
}

/// What one layer's sparse selection takes besides the tokens, for one sequence.
struct SparseSelectionInputs: Sendable {
    /// The LSH draws of each hashing round (`lsh` only).
    var lshProjections: [[Float]] = []
    /// `norm` only: where the chosen token indices go (this sequence's `heads × count`, from
    /// `normOffset`), and the recorded choices to replay instead of computing them, if any.
    var normChoices: SharedBuffer<Int64>?
    var normOffset = 0
    var recordedNorm: ArraySlice<Int64>?
}

/// Reusable per-worker memory for the selections that need it.
struct SparseScratch {
    var order: [Int] = []
    var norms: [Float] = []
    var weights: [Float] = []
    var bucketIndex: [Int] = []
    var projected: [Float] = []
    var unit: [Float] = []
    var roundKeys: [[Float]] = [[], []]
    var roundValues: [[Float]] = [[], []]
    var roundMask: [[Float]] = [[], []]
}

/// The sparse-token selections of the reference, one head at a time. Each writes exactly
/// `layout.count` tokens.
enum SparseSelection {
    static let maskValue = -Float.greatestFiniteMagnitude

    static func select(
        _ layout: SparseLayout, head: Int, tokens: HeadTokens, into output: HeadSparseTokens,
        inputs: SparseSelectionInputs, scratch: inout SparseScratch
    ) {
        switch layout.selection {
        case .all, .stride, .blockStride:
            gather(tokens, into: output) { layout.sourceTokens(of: $0, head: head).lowerBound }
        case .norm(let chunk, let keep):
            let chosen = inputs.normChoices.map { $0[inputs.normOffset + head * output.count] }
            if let recorded = inputs.recordedNorm {
                let first = recorded.startIndex + head * output.count
                gather(tokens, into: output) { Int(recorded[first + $0]) }
                for index in 0..<output.count { chosen?[index] = recorded[first + index] }
            } else {
                selectByNorm(tokens, chunk: chunk, keep: keep, into: output, chosen: chosen, scratch: &scratch)
            }
        case .pooling:
            pool(tokens, factor: layout.factor, into: output)
        case .bosPooling:
            poolWithFirstQuery(tokens, factor: layout.factor, into: output, scratch: &scratch)
        case .lsh(let chunk, let bucketCounts):
            hash(tokens, head: head, chunk: chunk, bucketCounts: bucketCounts, projections: inputs.lshProjections,
                 into: output, scratch: &scratch)
        }
    }

    /// Copies the tokens `source(i)` for i in 0..<count.
    private static func gather(_ tokens: HeadTokens, into output: HeadSparseTokens, source: (Int) -> Int) {
        let d = tokens.headSize
        for index in 0..<output.count {
            let token = source(index)
            (output.keys + index * d).update(from: tokens.key(token), count: d)
            (output.values + index * d).update(from: tokens.value(token), count: d)
            output.mask[index] = tokens.mask[token]
        }
    }

    /// Per chunk, the `keep` keys of largest norm (masked keys count as norm 0), in ascending
    /// norm order as the reference's argsort leaves them; their indices go to `chosen`.
    private static func selectByNorm(
        _ tokens: HeadTokens, chunk: Int, keep: Int, into output: HeadSparseTokens,
        chosen: UnsafeMutablePointer<Int64>?, scratch: inout SparseScratch
    ) {
        let d = tokens.headSize
        var written = 0
        for start in stride(from: 0, to: tokens.count, by: chunk) {
            scratch.norms.removeAll(keepingCapacity: true)
            for token in start..<(start + chunk) {
                let norm = VectorMath.sumOfSquares(tokens.key(token), count: d).squareRoot()
                scratch.norms.append(tokens.isUnmasked(token) ? norm : 0)
            }
            scratch.order.removeAll(keepingCapacity: true)
            scratch.order.append(contentsOf: 0..<chunk)
            scratch.order.sort { a, b in
                scratch.norms[a] != scratch.norms[b] ? scratch.norms[a] < scratch.norms[b] : a < b
            }
            for position in (chunk - keep)..<chunk {
                let token = start + scratch.order[position]
                chosen?[written] = Int64(token)
                (output.keys + written * d).update(from: tokens.key(token), count: d)
                (output.values + written * d).update(from: tokens.value(token), count: d)
                output.mask[written] = tokens.mask[token]
                written += 1
            }
        }
    }

    /// Masked mean of each group of `factor` tokens; a group without tokens is masked.
    private static func pool(_ tokens: HeadTokens, factor: Int, into output: HeadSparseTokens) {
        let d = tokens.headSize
        for group in 0..<output.count {
            let keys = output.keys + group * d
            let values = output.values + group * d
            keys.update(repeating: 0, count: d)
            values.update(repeating: 0, count: d)
            var present: Float = 0
            for token in (group * factor)..<((group + 1) * factor) where tokens.isUnmasked(token) {
                VectorMath.add(tokens.key(token), to: keys, count: d)
                VectorMath.add(tokens.value(token), to: values, count: d)
                present += 1
            }
            let divisor = present + Float(1e-6)
            for i in 0..<d {
                keys[i] /= divisor
                values[i] /= divisor
            }
            output.mask[group] = (1 - min(max(present, 0), 1)) * maskValue
        }
    }

    /// Each group of `factor` tokens pooled by softmax(q₀·k / √d + mask), q₀ the first token's
    /// query. Quirk kept from the reference: the group's mask is the float32 mean of its mask
    /// values, reset to 0 unless it equals the float32 minimum; the sum of two minimums is -inf,
    /// so in practice every group ends up unmasked, all-padding groups included.
    private static func poolWithFirstQuery(
        _ tokens: HeadTokens, factor: Int, into output: HeadSparseTokens, scratch: inout SparseScratch
    ) {
        let d = tokens.headSize
        let scale = Float(Double(d).squareRoot())
        let query = tokens.query(0)
        if scratch.weights.count < factor { scratch.weights = Array(repeating: 0, count: factor) }
        for group in 0..<output.count {
            let first = group * factor
            scratch.weights.withUnsafeMutableBufferPointer { weights in
                for j in 0..<factor {
                    weights[j] = VectorMath.dot(query, tokens.key(first + j), count: d) / scale + tokens.mask[first + j]
                }
                VectorMath.softmax(weights.baseAddress!, count: factor)
                let keys = output.keys + group * d
                let values = output.values + group * d
                keys.update(repeating: 0, count: d)
                values.update(repeating: 0, count: d)
                for j in 0..<factor {
                    let weight = weights[j]
                    let key = tokens.key(first + j)
                    let value = tokens.value(first + j)
                    for i in 0..<d {
                        keys[i] += weight * key[i]
                        values[i] += weight * value[i]
                    }
                }
            }
            var maskSum: Float = 0
            for j in 0..<factor { maskSum += tokens.mask[first + j] }
            let mean = maskSum / Float(factor)
            output.mask[group] = mean == maskValue ? maskValue : 0
        }
    }

    /// LSH bucketing per chunk: each round hashes every (normalized, unmasked) key with the
    /// round's random projection and sums keys, values and token counts per bucket; after the
    /// last round the sums become means and empty buckets are masked.
    private static func hash(
        _ tokens: HeadTokens, head: Int, chunk: Int, bucketCounts: [Int], projections: [[Float]],
        into output: HeadSparseTokens, scratch: inout SparseScratch
    ) {
        let d = tokens.headSize
        let finalCount = bucketCounts.last!
        var written = 0
        for start in stride(from: 0, to: tokens.count, by: chunk) {
            // Round input: the chunk's keys and values zeroed where masked, mask 1 or 0.
            scratch.roundKeys[0].removeAll(keepingCapacity: true)
            scratch.roundValues[0].removeAll(keepingCapacity: true)
            scratch.roundMask[0].removeAll(keepingCapacity: true)
            for token in start..<(start + chunk) {
                let present: Float = tokens.isUnmasked(token) ? 1 : 0
                for i in 0..<d {
                    scratch.roundKeys[0].append(tokens.key(token)[i] * present)
                    scratch.roundValues[0].append(tokens.value(token)[i] * present)
                }
                scratch.roundMask[0].append(present)
            }
            var inputCount = chunk
            for (round, buckets) in bucketCounts.enumerated() {
                hashRound(
                    inputCount: inputCount, buckets: buckets, headSize: d,
                    projection: projections[round], head: head, scratch: &scratch)
                inputCount = buckets
            }
            let keys = scratch.roundKeys[0]
            let values = scratch.roundValues[0]
            let mask = scratch.roundMask[0]
            for bucket in 0..<finalCount {
                let divisor = mask[bucket] + Float(1e-8)
                for i in 0..<d {
                    output.keys[written * d + i] = keys[bucket * d + i] / divisor
                    output.values[written * d + i] = values[bucket * d + i] / divisor
                }
                output.mask[written] = (1 - min(max(mask[bucket], 0), 1)) * maskValue
                written += 1
            }
        }
    }

    /// `count` zeros, reusing the array's storage.
    private static func reset(_ values: inout [Float], count: Int) {
        values.removeAll(keepingCapacity: true)
        values.append(contentsOf: repeatElement(0, count: count))
    }

    /// One hashing round from `roundKeys[0]` (inputCount rows) into `buckets` rows, left in
    /// `roundKeys[0]` again.
    private static func hashRound(
        inputCount: Int, buckets: Int, headSize d: Int, projection: [Float], head: Int, scratch: inout SparseScratch
    ) {
        let hashes = buckets / 2
        let headProjection = head * d * hashes
        scratch.bucketIndex.removeAll(keepingCapacity: true)
        if scratch.unit.count < d { scratch.unit = Array(repeating: 0, count: d) }
        if scratch.projected.count < hashes { scratch.projected = Array(repeating: 0, count: hashes) }
        for row in 0..<inputCount {
            let present = min(max(scratch.roundMask[0][row], 0), 1)
            let bucket = scratch.roundKeys[0].withUnsafeBufferPointer { keys -> Int in
                let key = keys.baseAddress! + row * d
                let norm = max(VectorMath.sumOfSquares(key, count: d).squareRoot(), 1e-12)
                for i in 0..<d { scratch.unit[i] = key[i] / norm * present }
                var best = 0
                var bestValue = -Float.infinity
                for q in 0..<hashes {
                    var sum: Float = 0
                    for i in 0..<d { sum += scratch.unit[i] * projection[headProjection + i * hashes + q] }
                    scratch.projected[q] = sum
                    if sum > bestValue {
                        bestValue = sum
                        best = q
                    }
                }
                for q in 0..<hashes where -scratch.projected[q] > bestValue {
                    bestValue = -scratch.projected[q]
                    best = hashes + q
                }
                return best
            }
            scratch.bucketIndex.append(bucket)
        }
        reset(&scratch.roundKeys[1], count: buckets * d)
        reset(&scratch.roundValues[1], count: buckets * d)
        reset(&scratch.roundMask[1], count: buckets)
        for row in 0..<inputCount {
            let bucket = scratch.bucketIndex[row]
            for i in 0..<d {
                scratch.roundKeys[1][bucket * d + i] += scratch.roundKeys[0][row * d + i]
                scratch.roundValues[1][bucket * d + i] += scratch.roundValues[0][row * d + i]
            }
            scratch.roundMask[1][bucket] += scratch.roundMask[0][row]
        }
        scratch.roundKeys.swapAt(0, 1)
        scratch.roundValues.swapAt(0, 1)
        scratch.roundMask.swapAt(0, 1)
    }
}
