import CVectorKernels

/// Elementwise kernels and row reductions, run by the C kernels of the CPU's vector level
/// (AVX-512, AVX2 or baseline, picked at run time; every level gives bit-identical results).
enum VectorMath {
    // A copy of a constant C table of function pointers: nothing in it is ever written.
    nonisolated(unsafe) static let kernels = lsg_vector_kernels_selected().pointee

    /// The vector level in use: "avx512", "avx2" or "baseline".
    static var level: String { String(cString: kernels.name) }

    static func exp(_ x: Float) -> Float { lsg_exp(x) }
    static func erf(_ x: Float) -> Float { lsg_erf(x) }
    static func tanh(_ x: Float) -> Float { lsg_tanh(x) }

    static func apply(_ activation: Activation, _ values: UnsafeMutablePointer<Float>, count: Int) {
        switch activation {
        case .gelu: kernels.gelu(values, count)
        case .geluNew, .geluPytorchTanh: kernels.gelu_tanh(values, count)
        case .relu:
            for i in 0..<count { values[i] = Swift.max(values[i], 0) }
        case .silu: kernels.silu(values, count)
        }
    }

    static func add(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int) {
        kernels.add(source, destination, count)
    }

    static func scale(_ values: UnsafeMutablePointer<Float>, by factor: Float, count: Int) {
        kernels.scale(values, factor, count)
    }

    static func sum(_ values: UnsafePointer<Float>, count: Int) -> Float { kernels.sum(values, count) }

    static func maximum(_ values: UnsafePointer<Float>, count: Int) -> Float { kernels.maximum(values, count) }

    static func sumOfSquares(_ values: UnsafePointer<Float>, count: Int) -> Float {
        kernels.sum_of_squares(values, count)
    }

    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        kernels.dot(a, b, count)
    }

    /// In-place softmax of one row: exp(x - max) / sum.
    static func softmax(_ row: UnsafeMutablePointer<Float>, count: Int) { kernels.softmax(row, count) }

    /// In-place LayerNorm of one row with biased variance, as PyTorch computes it.
    static func layerNorm(
        _ row: UnsafeMutablePointer<Float>, count: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        eps: Float
    ) {
        kernels.layer_norm(row, count, weight, bias, eps)
    }
}

/// What the encoder runs on this CPU, for reports such as the benchmark's.
public enum EncoderKernels {
    /// The vector level of the elementwise kernels: "avx512", "avx2" or "baseline".
    public static var vectorLevel: String { VectorMath.level }
}
