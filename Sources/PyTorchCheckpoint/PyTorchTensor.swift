import SafeTensors

/// A tensor of a PyTorch state dict: a view (shape, strides, offset) of one of the checkpoint's
/// storages. Validated: its every element lies inside its storage.
public struct PyTorchTensor: Sendable, Hashable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// In elements, one per dimension.
    public let strides: [Int]
    /// The storage's key: the zip archive's entry `<prefix>/data/<key>`, or a key of the legacy
    /// format's storage list. Tied weights share one.
    public let storageKey: String
    /// In elements from the start of the storage.
    public let storageOffset: Int
    /// Product of the dimensions (1 for a scalar); checked not to overflow.
    public let elementCount: Int
    /// Bytes of the tensor once contiguous; checked not to overflow.
    public let byteCount: Int

    /// True when the elements sit in row-major order with no gaps, so the bytes are one slice of
    /// the storage. Dimensions of size 1 may have any stride.
    public var isContiguous: Bool {
        guard elementCount > 0 else { return true }
        var expected = 1
        for (size, stride) in zip(shape, strides).reversed() where size != 1 {
            guard stride == expected else { return false }
            expected *= size
        }
        return true
    }

    /// The info a safetensors header would hold for this tensor at `dataOffsets`.
    public func tensorInfo(dataOffsets: Range<Int>) -> TensorInfo {
        TensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: dataOffsets)
    }
}
