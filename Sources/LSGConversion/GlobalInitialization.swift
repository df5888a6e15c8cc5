import Foundation
import LSGEncoder
import LSGErrors

/// The math of the global-token table: 512 rows built from the source position rows, and the
/// normal fitted to the word embeddings for random initialisation. Matrices are row-major.
public enum GlobalInitialization {
    public static let rows = 512

    /// Position rows reordered for the global table, as the reference does: `rows` rows of
    /// `width` values (the positions after the offset).
    /// - Beyond a multiple of 512 rows, the extra rows are dropped; fewer than 512 rows are
    ///   padded with rows drawn from a normal with each column's mean and standard deviation
    ///   (random: the count is returned).
    /// - With `factor = rows / 512`, every `factor`-th row is kept; then, with
    ///   `s = stride / factor`, output row `j * (512 / s) + i` is kept row `i * s + j`.
    public static func orderPositions(_ positions: [Float], rows: Int, width: Int, stride: Int,
                                      normal: inout SeededNormal) throws -> (values: [Float], randomRows: Int) {
        var table = positions
        var count = rows
        var randomRows = 0
        if count % Self.rows != 0 {
            if count > Self.rows {
                count = Self.rows * (count / Self.rows)
                table = Array(table.prefix(count * width))
            } else {
                randomRows = Self.rows - count
                table += paddingRows(table, rows: count, width: width, count: randomRows, normal: &normal)
                count = Self.rows
            }
        }
        let step = try strideStep(sourceRows: rows, stride: stride)
        let factor = count / Self.rows
        let perGroup = Self.rows / step
        var ordered = [Float](repeating: 0, count: Self.rows * width)
        for j in 0..<step {
            for i in 0..<perGroup {
                let source = (i * step + j) * factor
                let target = j * perGroup + i
                ordered.replaceSubrange((target * width)..<((target + 1) * width),
                                        with: table[(source * width)..<((source + 1) * width)])
            }
        }
        return (ordered, randomRows)
    }

    /// `stride / factor` for a table of `sourceRows` position rows, checked as the reference's
    /// reshape would: it must be at least 1 and divide 512.
    public static func strideStep(sourceRows: Int, stride: Int) throws -> Int {
        let factor = max(sourceRows / Self.rows, 1)
        let step = stride / factor
        guard step >= 1, Self.rows % step == 0 else {
            throw LSGError(.invalidOption, "--global-stride \(stride) does not fit \(sourceRows) position rows: stride / \(factor) = \(step) must divide 512")
        }
        return step
    }

    private static func paddingRows(_ table: [Float], rows: Int, width: Int, count: Int,
                                    normal: inout SeededNormal) -> [Float] {
        var mean = [Double](repeating: 0, count: width)
        var deviation = [Double](repeating: 0, count: width)
        for column in 0..<width {
            var sum = 0.0
            for row in 0..<rows { sum += Double(table[row * width + column]) }
            mean[column] = sum / Double(rows)
            var squares = 0.0
            for row in 0..<rows {
                let delta = Double(table[row * width + column]) - mean[column]
                squares += delta * delta
            }
            deviation[column] = rows > 1 ? (squares / Double(rows - 1)).squareRoot() : 0
        }
        var padding: [Float] = []
        padding.reserveCapacity(count * width)
        for _ in 0..<count {
            for column in 0..<width { padding.append(Float(mean[column] + deviation[column] * normal.next())) }
        }
        return padding
    }

    /// Draws `count` rows from the normal with the mean and (unbiased) covariance of the rows of
    /// `matrix` (`rows` x `width`), through a Cholesky factor of the covariance. A covariance
    /// that is not positive definite (fewer rows than columns, repeated rows) gets the smallest
    /// diagonal jitter that makes it so; the jitter is returned.
    public static func sampleFittedNormal(_ matrix: [Float], rows: Int, width: Int, count: Int,
                                          normal: inout SeededNormal) throws -> (values: [Float], jitter: Double) {
        guard rows >= 2 else { throw LSGError(.malformed, "random global init needs at least 2 word embeddings, found \(rows)") }
        var mean = [Double](repeating: 0, count: width)
        for row in 0..<rows {
            for column in 0..<width { mean[column] += Double(matrix[row * width + column]) }
        }
        for column in 0..<width { mean[column] /= Double(rows) }
        var covariance = upperScatter(matrix, rows: rows, width: width, mean: mean)
        for a in 0..<width {
            for b in a..<width {
                let value = covariance[a * width + b] / Double(rows - 1)
                covariance[a * width + b] = value
                covariance[b * width + a] = value
            }
        }
        let trace = (0..<width).reduce(0.0) { $0 + covariance[$1 * width + $1] } / Double(width)
        var jitter = 0.0
        var factor = cholesky(covariance, width: width)
        while factor == nil {
            jitter = jitter == 0 ? max(trace, 1e-12) * 1e-10 : jitter * 10
            guard jitter <= max(trace, 1e-12) else {
                throw LSGError(.malformed, "the word embeddings' covariance is not positive definite, cannot sample random global rows")
            }
            var adjusted = covariance
            for index in 0..<width { adjusted[index * width + index] += jitter }
            factor = cholesky(adjusted, width: width)
        }
        let lower = factor!
        var values = [Float](repeating: 0, count: count * width)
        var draw = [Double](repeating: 0, count: width)
        for sample in 0..<count {
            for column in 0..<width { draw[column] = normal.next() }
            for a in 0..<width {
                var sum = mean[a]
                for b in 0...a { sum += lower[a * width + b] * draw[b] }
                values[sample * width + a] = Float(sum)
            }
        }
        return (values, jitter)
    }

    /// The upper triangle of `sum_r (x_r - mean)(x_r - mean)^T` (row-major, lower triangle zero).
    /// Rows are dealt to a fixed number of partial sums (set by the row count alone, so the
    /// result does not depend on the machine) that run on every core. A 250k x 768 vocabulary
    /// (XLM-R) is about 7e10 multiply-adds.
    static func upperScatter(_ matrix: [Float], rows: Int, width: Int, mean: [Double]) -> [Double] {
        let workers = max(1, min(8, rows / 64))
        let partials = PartialSums(workers: workers, size: width * width)
        matrix.withUnsafeBufferPointer { values in
            nonisolated(unsafe) let values = values
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var centered = [Double](repeating: 0, count: width)
                partials.withBuffer(worker) { sums in
                    centered.withUnsafeMutableBufferPointer { centered in
                        var row = worker
                        while row < rows {
                            for column in 0..<width { centered[column] = Double(values[row * width + column]) - mean[column] }
                            for a in 0..<width {
                                let value = centered[a]
                                if value == 0 { continue }
                                let base = a * width
                                for b in a..<width { sums[base + b] += value * centered[b] }
                            }
                            row += workers
                        }
                    }
                }
            }
        }
        return partials.total()
    }

    /// One accumulation buffer per worker of `concurrentPerform`; each worker touches only its own.
    private final class PartialSums: @unchecked Sendable {
        private var buffers: [UnsafeMutableBufferPointer<Double>]

        init(workers: Int, size: Int) {
            buffers = (0..<workers).map { _ in
                let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: size)
                buffer.initialize(repeating: 0)
                return buffer
            }
        }

        deinit { for buffer in buffers { buffer.deallocate() } }

        func withBuffer(_ worker: Int, _ body: (UnsafeMutableBufferPointer<Double>) -> Void) { body(buffers[worker]) }

        /// The element-wise sum of every worker's buffer, in worker order (deterministic).
        func total() -> [Double] {
            var result = Array(buffers[0])
            for buffer in buffers.dropFirst() {
                for index in result.indices { result[index] += buffer[index] }
            }
            return result
        }
    }

    /// The lower-triangular `L` with `L * L^T = matrix`, or nil when not positive definite.
    static func cholesky(_ matrix: [Double], width: Int) -> [Double]? {
        var lower = [Double](repeating: 0, count: width * width)
        for i in 0..<width {
            for j in 0...i {
                var sum = matrix[i * width + j]
                for k in 0..<j { sum -= lower[i * width + k] * lower[j * width + k] }
                if i == j {
                    guard sum > 0, sum.isFinite else { return nil }
                    lower[i * width + i] = sum.squareRoot()
                } else {
                    lower[i * width + j] = sum / lower[j * width + j]
                }
            }
        }
        return lower
    }
}
