import Foundation
import Testing
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
