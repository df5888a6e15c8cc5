import Foundation
import LSGErrors
import SafeTensors

/// What `diff A B` reports: tensors only in B (added), only in A (removed), changed in dtype or
/// shape, and changed in value. Float tensors (F16, BF16, F32, F64) are compared as numbers, so
/// `-0.0` equals `0.0` and NaN equals NaN; integer and BOOL tensors are compared exactly; other
/// types element by element on their bits. Tensors go by the names transformers loads them
/// under (`StateDictRule.legacyNormNames`), so a TF-era checkpoint and its re-save compare equal.
public struct CheckpointDiff: Sendable {
    public struct Tensor: Sendable, Hashable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
    }

    /// A tensor in both whose dtype or shape differs (its values are not compared).
    public struct LayoutChange: Sendable, Hashable {
        public let a: Tensor
        public let b: Tensor
        public var name: String { a.name }
    }

    /// A tensor in both with the same dtype and shape and some differing elements.
    public struct ValueChange: Sendable, Hashable {
        public let tensor: Tensor
        public let elementCount: Int
        public let differingElements: Int
        /// Largest |a - b| over the differing elements; nil for types without numeric values
        /// (F8, F6, F4, C64); NaN when an element is NaN on one side only.
        public let maxAbsDifference: Double?
    }

    public let a: String
    public let b: String
    /// Sorted by name, as are the other lists.
    public let added: [Tensor]
    public let removed: [Tensor]
    public let layoutChanges: [LayoutChange]
    public let valueChanges: [ValueChange]
    /// Tensors in both with equal dtype, shape and values.
    public let unchangedCount: Int

    public var isIdentical: Bool { added.isEmpty && removed.isEmpty && layoutChanges.isEmpty && valueChanges.isEmpty }

    /// Compares two model directories or weights files (`.safetensors`, `.safetensors.zst`, `.bin`).
    public init(_ a: URL, _ b: URL) throws {
        let left = try Self.tensors(WeightFiles.open(a), path: a)
        let right = try Self.tensors(WeightFiles.open(b), path: b)
        self.a = a.path
        self.b = b.path
        added = right.keys.filter { left[$0] == nil }.sorted().map { Self.describe(right[$0]!.info) }
        removed = left.keys.filter { right[$0] == nil }.sorted().map { Self.describe(left[$0]!.info) }
        var layoutChanges: [LayoutChange] = []
        var valueChanges: [ValueChange] = []
        var unchanged = 0
        for name in left.keys.filter({ right[$0] != nil }).sorted() {
            let (one, other) = (left[name]!, right[name]!)
            let tensor = Self.describe(one.info)
            guard one.info.dtype == other.info.dtype, one.info.shape == other.info.shape else {
                layoutChanges.append(LayoutChange(a: tensor, b: Self.describe(other.info)))
                continue
            }
            let (differing, maxDifference) = try Self.compare(one, other, dtype: tensor.dtype, count: one.info.elementCount)
            if differing == 0 {
                unchanged += 1
            } else {
                valueChanges.append(ValueChange(tensor: tensor, elementCount: one.info.elementCount,
                                                differingElements: differing, maxAbsDifference: maxDifference))
            }
        }
        self.layoutChanges = layoutChanges
        self.valueChanges = valueChanges
        unchangedCount = unchanged
    }

    /// A tensor of one side: its file and its entry there (whose name is the stored one).
    private typealias Entry = (file: SafeTensorsFile, info: TensorInfo)

    private static func describe(_ info: TensorInfo) -> Tensor { Tensor(name: StateDictRule.modernName(info.name) ?? info.name, dtype: info.dtype, shape: info.shape) }

    /// The tensors by loaded name; a renamed tensor replaces one that already had its new name.
    private static func tensors(_ files: [SafeTensorsFile], path: URL) throws -> [String: Entry] {
        var result: [String: Entry] = [:]
        for file in files {
            for info in file.tensors {
                let name = StateDictRule.modernName(info.name) ?? info.name
                if let existing = result[name] {
                    guard existing.info.name == name else { continue }
                    guard info.name != name else { throw LSGError(.malformed, file: path.path, "tensor '\(info.name)' appears twice") }
                }
                result[name] = (file, info)
            }
        }
        return result
    }

    /// Number of differing elements and the largest absolute difference among them.
    private static func compare(_ a: Entry, _ b: Entry, dtype: DType, count: Int) throws -> (Int, Double?) {
        let (x, y) = (a.info.name, b.info.name)
        let same = try a.file.withBytes(of: x) { left in try b.file.withBytes(of: y) { right in left.elementsEqual(right) } }
        if same { return (0, 0) }
        switch dtype {
        case .f32, .f16, .bf16:
            return numericDifference(try a.file.floats(x), try b.file.floats(y)) { Double($0) }
        case .f64:
            return numericDifference(try doubles(x, a.file), try doubles(y, b.file)) { $0 }
        case .i64, .i32, .i16, .i8, .u8, .u16, .u32, .bool:
            return numericDifference(try a.file.int64s(x), try b.file.int64s(y)) { Double($0) }
        default:
            return (try bitDifference(a, b, width: dtype.bitWidth, count: count), nil)
        }
    }

    private static func numericDifference<T: Equatable>(_ a: [T], _ b: [T], _ value: (T) -> Double) -> (Int, Double?) {
        var differing = 0
        var largest = 0.0
        for (x, y) in zip(a, b) where x != y {
            let (left, right) = (value(x), value(y))
            if left == right || (left.isNaN && right.isNaN) { continue }
            differing += 1
            let difference = abs(left - right)  // NaN when one side is NaN
            largest = largest.isNaN || difference.isNaN ? .nan : max(largest, difference)
        }
        return (differing, largest)
    }

    private static func doubles(_ name: String, _ file: SafeTensorsFile) throws -> [Double] {
        try file.withBytes(of: name) { bytes in
            (0..<(bytes.count / 8)).map { Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
        }
    }

    /// Counts elements whose bits differ, for types compared without a numeric value.
    private static func bitDifference(_ a: Entry, _ b: Entry, width: Int, count: Int) throws -> Int {
        try a.file.withBytes(of: a.info.name) { left in
            try b.file.withBytes(of: b.info.name) { right in
                func bit(_ bytes: UnsafeRawBufferPointer, _ index: Int) -> UInt8 { bytes[index / 8] >> UInt8(index % 8) & 1 }
                return (0..<count).filter { element in
                    (element * width..<(element + 1) * width).contains { bit(left, $0) != bit(right, $0) }
                }.count
            }
        }
    }
}
