import CBLAS
import Foundation

// Measures the machine's single-precision matrix-multiply peak with the same OpenBLAS the encoder
// links, so encoder throughput can be stated as a fraction of it. Prints one JSON line:
// {"threads": T, "shape": [m, n, k], "gflops": best, "runs": [...]}.
// Usage: lsg-bench [--threads T] [--m M --n N --k K] [--runs R]

func option(_ name: String, default value: Int) -> Int {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name) else { return value }
    guard index + 1 < arguments.count, let parsed = Int(arguments[index + 1]), parsed > 0 else {
        FileHandle.standardError.write(Data("lsg-bench: \(name) needs a positive integer\n".utf8))
        exit(2)
    }
    return parsed
}

let threads = option("--threads", default: ProcessInfo.processInfo.activeProcessorCount)
let (m, n, k) = (option("--m", default: 4096), option("--n", default: 3072), option("--k", default: 768))
let runs = option("--runs", default: 5)
openblas_set_num_threads(Int32(threads))

var a = [Float](repeating: 0, count: m * k)
var b = [Float](repeating: 0, count: k * n)
var c = [Float](repeating: 0, count: m * n)
for index in a.indices { a[index] = Float(index % 17) * 0.01 }
for index in b.indices { b[index] = Float(index % 13) * 0.01 }

var gflops: [Double] = []
for run in 0...runs {
    let start = DispatchTime.now().uptimeNanoseconds
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(m), blasint(n), blasint(k),
                1, a, blasint(k), b, blasint(k), 0, &c, blasint(n))
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    if run > 0 { gflops.append(2 * Double(m) * Double(n) * Double(k) / seconds / 1e9) }
}
let rounded = gflops.map { ($0 * 10).rounded() / 10 }
print(#"{"threads": \#(threads), "shape": [\#(m), \#(n), \#(k)], "gflops": \#(rounded.max() ?? 0), "runs": \#(rounded)}"#)
