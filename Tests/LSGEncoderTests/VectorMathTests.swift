import Foundation
import Testing
import CVectorKernels
@testable import LSGEncoder

@Suite("Vectorised math kernels")
struct VectorMathTests {
    @Test("exp is within 2 ulp of libm, and exactly 0 far below the normal range")
    func exponential() {
        var worst: Float = 0
        for step in 0...200_000 {
            let x = -87 + Float(step) * (87 + 20) / 200_000
            let expected = Foundation.exp(Double(x))
            let relative = abs(Double(VectorMath.exp(x)) - expected) / expected
            worst = max(worst, Float(relative))
        }
        #expect(worst < 2.4e-7)
        #expect(VectorMath.exp(-Float.greatestFiniteMagnitude) == 0)
        #expect(VectorMath.exp(-100) == 0)
        #expect(VectorMath.exp(0) == 1)
    }

    @Test("erf is within 1.5e-7 of libm everywhere")
    func errorFunction() {
        var worst = 0.0
        for step in 0...400_000 {
            let x = -6 + Float(step) * 12 / 400_000
            worst = max(worst, abs(Double(VectorMath.erf(x)) - Foundation.erf(Double(x))))
        }
        #expect(worst < 1.5e-7)
        #expect(VectorMath.erf(.greatestFiniteMagnitude) == 1)
        #expect(VectorMath.erf(-.greatestFiniteMagnitude) == -1)
    }

    @Test("softmax of a row where every score is masked is uniform, as in PyTorch")
    func maskedSoftmax() {
        var row: [Float] = [1, 2, 3, 4].map { $0 + -Float.greatestFiniteMagnitude }
        row.withUnsafeMutableBufferPointer { VectorMath.softmax($0.baseAddress!, count: 4) }
        #expect(row == [0.25, 0.25, 0.25, 0.25])
        var mixed: [Float] = [0, -Float.greatestFiniteMagnitude, 0]
        mixed.withUnsafeMutableBufferPointer { VectorMath.softmax($0.baseAddress!, count: 3) }
        #expect(mixed == [0.5, 0, 0.5])
    }

    @Test("every vector level this CPU runs gives the baseline's bits, tails included")
    func levelsAgree() throws {
        let baseline = try #require(lsg_vector_kernels_named("baseline")).pointee
        let names: [String] = ["avx2", "avx512"]
        let levels = names.compactMap { lsg_vector_kernels_named($0)?.pointee }
        let requested = ProcessInfo.processInfo.environment["LSG_VECTOR_LEVEL"].flatMap { lsg_vector_kernels_named($0) }
        let expectedLevel = (requested?.pointee ?? levels.last).map { String(cString: $0.name) } ?? "baseline"
        #expect(VectorMath.level == expectedLevel)
        var generator = SeededGenerator(seed: 3)
        for count in [0, 1, 15, 16, 17, 100, 768, 3077] {
            let x = (0..<count).map { _ in Float.random(in: -12...12, using: &generator) }
            let y = (0..<count).map { _ in Float.random(in: -2...2, using: &generator) }
            func run(_ kernels: lsg_vector_kernels) -> [[Float]] {
                var results: [[Float]] = []
                for transform in [kernels.gelu, kernels.gelu_tanh, kernels.silu, kernels.softmax] {
                    var values = x
                    values.withUnsafeMutableBufferPointer { transform!($0.baseAddress, count) }
                    results.append(values)
                }
                var normed = x
                normed.withUnsafeMutableBufferPointer { kernels.layer_norm($0.baseAddress, count, y, y.reversed(), 1e-5) }
                var added = x
                added.withUnsafeMutableBufferPointer { kernels.add(y, $0.baseAddress, count) }
                kernels.scale(&added, 0.3, count)
                let reductions = [kernels.sum(x, count), kernels.maximum(x, count), kernels.sum_of_squares(x, count),
                                  kernels.dot(x, y, count)]
                return results + [normed, added, reductions]
            }
            let expected = run(baseline).map { $0.map(\.bitPattern) }
            for kernels in levels {
                #expect(run(kernels).map { $0.map(\.bitPattern) } == expected, "\(String(cString: kernels.name)), \(count) values")
            }
        }
        #expect(lsg_vector_kernels_named("sse9") == nil)
    }

    @Test("Python slicing and floor division match Python")
    func pythonIndexing() {
        #expect(pythonSlice(-5, 2, length: 10) == 5..<5)
        #expect(pythonSlice(-5, -2, length: 10) == 5..<8)
        #expect(pythonSlice(-12, 3, length: 10) == 0..<3)
        #expect(pythonSlice(4, 0, length: 10) == 4..<4)
        #expect(floorDivide(-7, 2) == -4)
        #expect(floorDivide(7, 2) == 3)
    }
}
