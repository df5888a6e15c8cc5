import CBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Row-major single-precision matrix products through the system OpenBLAS.
///
/// OpenBLAS runs every call on the calling thread (`openblas_set_num_threads(1)`): the encoder
/// splits work over threads itself, in pieces fixed independently of the thread count, so each
/// output element is computed by the same sequence of operations whatever `--threads` says.
enum BLAS {
    private static let singleThreaded: Void = {
        openblas_set_num_threads(1)
        BLASLibrary.stopWorkerThreads()
    }()

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

/// The OpenBLAS the encoder is linked with, as benchmarks and `--version` report it: the build
/// configuration (`OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64`), the kernel it
/// chose for this CPU (`openblas_get_corename`, which OPENBLAS_CORETYPE can force) and its
/// thread count at the time of the call.
public struct BLASLibrary: Sendable, Equatable {
    public let configuration: String
    public let coreName: String
    public let threads: Int

    public static var current: BLASLibrary {
        BLASLibrary(
            configuration: openblas_get_config().map { String(cString: $0).split(separator: " ").joined(separator: " ") }
                ?? "unknown",
            coreName: openblas_get_corename().map { String(cString: $0) } ?? "unknown",
            threads: Int(openblas_get_num_threads()))
    }

    /// Ends the worker threads the pthreads OpenBLAS starts when it is loaded: the encoder never
    /// hands them work, and each spins on a core for about 0.1 s before it sleeps. They come
    /// back by themselves if a later call asks OpenBLAS for threads. Found at run time because
    /// only the pthreads build has `blas_thread_shutdown_`.
    public static func stopWorkerThreads() {
        guard let symbol = dlsym(nil, "blas_thread_shutdown_") else { return }
        typealias Shutdown = @convention(c) () -> Int32
        _ = unsafeBitCast(symbol, to: Shutdown.self)()
    }

    /// `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64, kernel Zen`.
    public var summary: String { "\(configuration), kernel \(coreName)" }
}
