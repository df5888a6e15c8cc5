import CBLAS

/// Row-major single-precision matrix products through the system OpenBLAS.
///
/// OpenBLAS runs every call on the calling thread (`openblas_set_num_threads(1)`): the encoder
/// splits work over threads itself, in pieces fixed independently of the thread count, so each
/// output element is computed by the same sequence of operations whatever `--threads` says.
enum BLAS {
    private static let singleThreaded: Void = openblas_set_num_threads(1)

    static func useCallerThreadOnly() { _ = singleThreaded }

    /// C[m×n] = alpha · A[m×k] · op(B) + beta · C, where op(B) is B[k×n], or B[n×k] transposed.
    static func gemm(
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// y[rows×n] = x[rows×k] · W^T + bias, for a PyTorch `Linear` weight W[n×k].
    static func linear(
        rows: Int, x: UnsafePointer<Float>, ldx: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        inputSize k: Int, outputSize n: Int, y: UnsafeMutablePointer<Float>, ldy: Int
    ) {
        gemm(m: rows, n: n, k: k, a: x, lda: ldx, b: weight, ldb: k, transposeB: true, beta: 0, c: y, ldc: ldy)
        if let bias {
            for row in 0..<rows { VectorMath.add(bias, to: y + row * ldy, count: n) }
        }
    }
}

/// The OpenBLAS the encoder runs on, as OpenBLAS reports it: the kernel chosen for this
/// processor (`openblas_get_corename`, e.g. `Haswell`) and the library's build configuration
/// (`openblas_get_config`, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64`).
public enum BLASLibrary {
    public static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }
    public static var config: String { openblas_get_config().map { String(cString: $0) } ?? "unknown" }
}
