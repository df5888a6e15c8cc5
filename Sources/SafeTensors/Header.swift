import JSON
import LSGErrors
/// The parsed and validated header of a safetensors buffer.
struct Header {
    /// Where the data section starts: 8 + the header length.
    let dataStart: Int
    let metadata: [String: String]?
    /// Sorted by data offset.
    let tensors: [TensorInfo]

    /// Applies every rule of the Rust `safetensors` crate, plus: unique keys, no unknown keys in
    /// a tensor entry, exact integers.
    init(parsing bytes: UnsafeRawBufferPointer, file: String) throws(LSGError) {
        func fail(_ kind: LSGError.Kind, _ problem: String) -> LSGError { LSGError(kind, file: file, problem) }

        guard bytes.count >= 8 else {
            throw fail(.malformed, "file is \(bytes.count) bytes, too short for the 8-byte header length")
        }
        let declared = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard declared <= UInt64(SafeTensorsLimits.maxHeaderBytes) else {
            throw fail(.limitExceeded, "header length \(declared) exceeds the limit of \(SafeTensorsLimits.maxHeaderBytes) bytes")
        }
        let headerLength = Int(declared)
        guard 8 + headerLength <= bytes.count else {
            throw fail(.malformed, "header length \(headerLength) runs past the end of the file (\(bytes.count) bytes)")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLength)])
        let entries = try Header.entries(of: headerBytes, fail: fail)
        var metadata: [String: String]?
        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(entries.count)
        for (name, entry) in entries {
            if name == "__metadata__" {
                // The Rust crate reads a null `__metadata__` as absent.
                if entry != .null { metadata = try Header.metadata(from: entry, fail: fail) }
            } else {
                tensors.append(try Header.tensor(name, from: entry, fail: fail))
            }
        }

        tensors.sort {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound)
                || ($0.dataOffsets == $1.dataOffsets && $0.name.utf8.lexicographicallyPrecedes($1.name.utf8))
        }
        let dataSize = bytes.count - 8 - headerLength
        var previous: TensorInfo?
        for tensor in tensors {
            let range = tensor.dataOffsets
            let offsetsText = "data_offsets [\(range.lowerBound), \(range.upperBound)]"
            if range.upperBound > dataSize {
                throw fail(.malformed, "tensor '\(tensor.name)' \(offsetsText) end past the data section (\(dataSize) bytes)")
            }
            let expectedStart = previous?.dataOffsets.upperBound ?? 0
            if range.lowerBound > expectedStart {
                throw fail(.malformed, "tensor '\(tensor.name)' \(offsetsText) leave a hole: bytes \(expectedStart)..<\(range.lowerBound) belong to no tensor")
            }
            if range.lowerBound < expectedStart, let previous {
                throw fail(.malformed, "tensor '\(tensor.name)' \(offsetsText) overlap tensor '\(previous.name)' data_offsets [\(previous.dataOffsets.lowerBound), \(previous.dataOffsets.upperBound)]")
            }
            // Shape and dtype were checked to give a byte count when the entry was read.
            let needed = tensor.dtype.byteCount(elements: checkedElementCount(tensor.shape)!)!
            if needed != range.count {
                throw fail(.malformed, "tensor '\(tensor.name)' shape \(tensor.shape) of \(tensor.dtype) needs \(needed) bytes but \(offsetsText) hold \(range.count)")
            }
            previous = tensor
        }
        let end = previous?.dataOffsets.upperBound ?? 0
        if end != dataSize {
            throw fail(.malformed, "\(dataSize - end) trailing bytes after the last tensor (data section \(dataSize) bytes, tensors end at \(end))")
        }
        self.dataStart = 8 + headerLength
        self.metadata = metadata
        self.tensors = tensors
    }

    /// The header's top-level object, refused before parsing when it lists more entries than the
    /// tensor limit allows (from a scan that allocates nothing).
    private static func entries(of headerBytes: UnsafeRawBufferPointer, fail: (LSGError.Kind, String) -> LSGError)
        throws(LSGError) -> JSONObject
    {
        let entryCount = JSONValue.topLevelMemberCount(headerBytes)
        guard entryCount <= SafeTensorsLimits.maxTensors + 1 else {  // the tensors and `__metadata__`
            throw fail(.limitExceeded, "header lists \(entryCount) entries, more than the limit of \(SafeTensorsLimits.maxTensors) tensors")
        }
        if let offset = firstInvalidUTF8Offset(headerBytes) {
            throw fail(.malformed, "header is not valid UTF-8 (header byte \(offset))")
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(headerBytes, syntax: .strict)
        } catch {
            throw fail(.malformed, "header is not valid JSON: \(error)")
        }
        guard case .object(let entries) = json else {
            throw fail(.malformed, "header is a JSON \(json.typeName), not an object")
        }
        return entries
    }

    /// The size of the whole file the header in `prefix` (its first 8 + header length bytes)
    /// describes: 8 + header length + the largest tensor end offset. Entries are only skimmed;
    /// full validation happens when the whole file is read.
    static func declaredFileSize(prefix bytes: UnsafeRawBufferPointer, file: String) throws(LSGError) -> Int {
        func fail(_ kind: LSGError.Kind, _ problem: String) -> LSGError { LSGError(kind, file: file, problem) }
        guard bytes.count >= 8 else {
            throw fail(.malformed, "file is \(bytes.count) bytes, too short for the 8-byte header length")
        }
        let declared = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard declared <= UInt64(SafeTensorsLimits.maxHeaderBytes), 8 + Int(declared) <= bytes.count else {
            throw fail(.malformed, "header length \(declared) does not fit the \(bytes.count - 8) header bytes given")
        }
        let headerLength = Int(declared)
        let entries = try entries(of: UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLength)]), fail: fail)
        var dataSize = 0
        for (name, entry) in entries where name != "__metadata__" {
            if case .int(let end)? = entry["data_offsets"]?.arrayValue?.last { dataSize = max(dataSize, end) }
        }
        let (total, overflow) = (8 + headerLength).addingReportingOverflow(dataSize)
        guard !overflow else { throw fail(.malformed, "data_offsets end \(dataSize) overflows the file size") }
        return total
    }

    private static func metadata(from entry: JSONValue, fail: (LSGError.Kind, String) -> LSGError) throws(LSGError)
        -> [String: String]
    {
        guard case .object(let object) = entry else {
            throw fail(.malformed, "__metadata__ is a JSON \(entry.typeName), not an object of strings")
        }
        var metadata: [String: String] = [:]
        for (key, value) in object {
            guard case .string(let string) = value else {
                throw fail(.malformed, "__metadata__ value for \"\(key)\" is a JSON \(value.typeName), not a string")
            }
            metadata[key] = string
        }
        return metadata
    }

    private static func tensor(_ name: String, from entry: JSONValue, fail: (LSGError.Kind, String) -> LSGError)
        throws(LSGError) -> TensorInfo
    {
        guard case .object(let object) = entry else {
            throw fail(.malformed, "tensor '\(name)' entry is a JSON \(entry.typeName), not an object")
        }
        for key in object.keys where !["dtype", "shape", "data_offsets"].contains(key) {
            throw fail(.malformed, "tensor '\(name)' has unknown key \"\(key)\"")
        }
        guard let dtypeValue = object["dtype"] else { throw fail(.malformed, "tensor '\(name)' is missing \"dtype\"") }
        guard let shapeValue = object["shape"] else { throw fail(.malformed, "tensor '\(name)' is missing \"shape\"") }
        guard let offsetsValue = object["data_offsets"] else { throw fail(.malformed, "tensor '\(name)' is missing \"data_offsets\"") }

        guard case .string(let dtypeName) = dtypeValue else {
            throw fail(.malformed, "tensor '\(name)' dtype is a JSON \(dtypeValue.typeName), not a string")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw fail(.unsupported, "tensor '\(name)' has unknown dtype \"\(dtypeName)\"")
        }

        guard case .array(let dimensionValues) = shapeValue else {
            throw fail(.malformed, "tensor '\(name)' shape is a JSON \(shapeValue.typeName), not an array of integers")
        }
        guard dimensionValues.count <= SafeTensorsLimits.maxRank else {
            throw fail(.limitExceeded, "tensor '\(name)' has \(dimensionValues.count) dimensions, more than the limit of \(SafeTensorsLimits.maxRank)")
        }
        var shape: [Int] = []
        shape.reserveCapacity(dimensionValues.count)
        for value in dimensionValues {
            guard case .int(let dimension) = value else {
                throw fail(.malformed, "tensor '\(name)' shape holds a JSON \(value.typeName), not an integer")
            }
            guard dimension >= 0 else {
                throw fail(.malformed, "tensor '\(name)' shape has a negative dimension \(dimension)")
            }
            shape.append(dimension)
        }
        guard let elements = checkedElementCount(shape) else {
            throw fail(.malformed, "tensor '\(name)' shape \(shape) has more elements than a 64-bit count holds")
        }
        guard dtype.byteCount(elements: elements) != nil else {
            if elements.multipliedReportingOverflow(by: dtype.bitWidth).overflow {
                throw fail(.malformed, "tensor '\(name)' shape \(shape) of \(dtype) has a byte size that overflows 64 bits")
            }
            throw fail(.malformed, "tensor '\(name)' shape \(shape) of \(dtype) does not fill whole bytes (\(elements) x \(dtype.bitWidth) bits)")
        }

        guard case .array(let offsetValues) = offsetsValue, offsetValues.count == 2,
            case .int(let begin) = offsetValues[0], case .int(let end) = offsetValues[1]
        else {
            throw fail(.malformed, "tensor '\(name)' data_offsets must be two integers, got \(offsetsValue.compactString())")
        }
        guard begin >= 0, end >= 0 else {
            throw fail(.malformed, "tensor '\(name)' data_offsets [\(begin), \(end)] are negative")
        }
        guard begin <= end else {
            throw fail(.malformed, "tensor '\(name)' data_offsets [\(begin), \(end)] begin after end")
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }
}
