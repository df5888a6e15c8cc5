import Foundation

/// Elementwise kernels and row reductions. Elementwise loops are written so the compiler
/// vectorises them (no calls, no traps); reductions use explicit SIMD accumulators because
/// the compiler may not reorder Float additions on its own.
enum VectorMath {
    typealias Lanes = SIMD16<Float>
    static let lanes = Lanes.scalarCount

    // MARK: exp

    /// e^x to within about 1 ulp, 0 below -87.3 (where e^x leaves the normal range), and
    /// saturating at e^88. Range reduction x = n·ln2 + r with |r| <= ln2/2, then a degree-7
    /// Taylor polynomial (truncation error < 6e-9 relative) scaled by 2^n built from bits.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let clamped = Swift.min(x, 88)
        let roundingShift: Float = 12_582_912  // 1.5 * 2^23: adding it rounds to an integer in the low bits
        let shifted = clamped * 1.442_695_04 + roundingShift
        let n = shifted - roundingShift
        let r = (clamped - n * 0.693_145_75) - n * 1.428_606_8e-6
        var p: Float = 1.0 / 5040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let exponent = Int32(bitPattern: shifted.bitPattern) &- 0x4B40_0000 &+ 127
        let scale = Float(bitPattern: UInt32(bitPattern: Swift.max(exponent, 1) &<< 23))
        return x < -87.33 ? 0 : p * scale
    }

    // MARK: erf and activations

    /// erf(x) to within 1.3e-7 absolute. |x| <= 1: x·P(x²); 1 < |x|: 1 - e^(-x²)·Q(|x|), where Q
    /// fits erfc(x)·e^(x²) on [1, 4] (erf is 1 in Float beyond 4). Least-squares fits on
    /// Chebyshev nodes, made for this file.
    @inline(__always)
    static func erf(_ x: Float) -> Float {
        let a = Swift.min(abs(x), 4)
        let a2 = a * a
        var small: Float = 7.882_497_198e-05
        small = small * a2 - 8.018_855_019e-04
        small = small * a2 + 5.189_311_946e-03
        small = small * a2 - 2.685_432_880e-02
        small = small * a2 + 1.128_359_746e-01
        small = small * a2 - 3.761_262_690e-01
        small = small * a2 + 1.128_379_166
        small *= a
        let t = a - 2.5
        var q: Float = 1.671_801_785e-06
        q = q * t - 6.386_085_704e-06
        q = q * t + 1.435_366_257e-05
        q = q * t - 5.358_580_906e-05
        q = q * t + 2.129_720_802e-04
        q = q * t - 7.389_975_677e-04
        q = q * t + 2.465_982_358e-03
        q = q * t - 7.999_345_595e-03
        q = q * t + 2.493_820_374e-02
        q = q * t - 7.434_760_093e-02
        q = q * t + 2.108_063_575e-01
        let large = 1 - exp(-a2) * q
        let magnitude = a <= 1 ? small : large
        return x < 0 ? -magnitude : magnitude
    }

    @inline(__always)
    static func tanh(_ x: Float) -> Float {
        // tanh(x) = 1 - 2 / (e^(2x) + 1), with the sign restored for accuracy on both sides.
        let a = Swift.min(abs(x), 10)
        let e = exp(2 * a)
        let magnitude = 1 - 2 / (e + 1)
        return x < 0 ? -magnitude : magnitude
    }

    static func apply(_ activation: Activation, _ values: UnsafeMutablePointer<Float>, count: Int) {
        switch activation {
        case .gelu:
            for i in 0..<count {
                let x = values[i]
                values[i] = x * 0.5 * (1 + erf(x * 0.707_106_781))
            }
        case .geluNew, .geluPytorchTanh:
            for i in 0..<count {
                let x = values[i]
                values[i] = 0.5 * x * (1 + tanh(0.797_884_56 * (x + 0.044_715 * x * x * x)))
            }
        case .relu:
            for i in 0..<count { values[i] = Swift.max(values[i], 0) }
        case .silu:
            for i in 0..<count {
                let x = values[i]
                values[i] = x / (1 + exp(-x))
            }
        }
    }

    // MARK: elementwise

    static func add(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { destination[i] += source[i] }
    }

    static func scale(_ values: UnsafeMutablePointer<Float>, by factor: Float, count: Int) {
        for i in 0..<count { values[i] *= factor }
    }

    // MARK: reductions

    @inline(__always)
    private static func load(_ pointer: UnsafePointer<Float>) -> Lanes {
        UnsafeRawPointer(pointer).loadUnaligned(as: Lanes.self)
    }

    static func sum(_ values: UnsafePointer<Float>, count: Int) -> Float {
        var accumulator = Lanes(repeating: 0)
        var i = 0
        while i + lanes <= count {
            accumulator += load(values + i)
            i += lanes
        }
        var total = accumulator.sum()
        while i < count {
            total += values[i]
            i += 1
        }
        return total
    }

    static func maximum(_ values: UnsafePointer<Float>, count: Int) -> Float {
        var accumulator = Lanes(repeating: -.infinity)
        var i = 0
        while i + lanes <= count {
            let next = load(values + i)
            accumulator.replace(with: next, where: next .> accumulator)
            i += lanes
        }
        var result = accumulator.max()
        while i < count {
            result = Swift.max(result, values[i])
            i += 1
        }
        return result
    }

    static func sumOfSquares(_ values: UnsafePointer<Float>, count: Int) -> Float {
        var accumulator = Lanes(repeating: 0)
        var i = 0
        while i + lanes <= count {
            let v = load(values + i)
            accumulator += v * v
            i += lanes
        }
        var total = accumulator.sum()
        while i < count {
            total += values[i] * values[i]
            i += 1
        }
        return total
    }

    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var accumulator = Lanes(repeating: 0)
        var i = 0
        while i + lanes <= count {
            accumulator += load(a + i) * load(b + i)
            i += lanes
        }
        var total = accumulator.sum()
        while i < count {
            total += a[i] * b[i]
            i += 1
        }
        return total
    }

    // MARK: row operations

    /// In-place softmax of one row: exp(x - max) / sum.
    static func softmax(_ row: UnsafeMutablePointer<Float>, count: Int) {
        let top = maximum(row, count: count)
        for i in 0..<count { row[i] = exp(row[i] - top) }
        let total = sum(row, count: count)
        scale(row, by: 1 / total, count: count)
    }

    /// In-place LayerNorm of one row with biased variance, as PyTorch computes it.
    static func layerNorm(
        _ row: UnsafeMutablePointer<Float>, count: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        eps: Float
    ) {
        let mean = sum(row, count: count) / Float(count)
        for i in 0..<count { row[i] -= mean }
        let variance = sumOfSquares(row, count: count) / Float(count)
        let inverseDeviation = 1 / (variance + eps).squareRoot()
        for i in 0..<count { row[i] = row[i] * inverseDeviation * weight[i] + bias[i] }
    }
}
