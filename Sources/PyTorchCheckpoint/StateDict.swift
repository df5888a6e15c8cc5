import SafeTensors

/// The tensors of a state dict pickle, each checked against the storage it names as the pickle
/// declares it (element type and count). Whether the storages' bytes are there is the layout's
/// business (`CheckpointLayout.storageRanges`).
struct StateDict {
    typealias StorageUse = (tensor: String, storage: RestrictedUnpickler.StorageReference)

    /// In state-dict order.
    let tensors: [PyTorchTensor]
    /// Each storage once, with the first tensor that uses it, in order of first use.
    let storages: [StorageUse]

    init(_ dict: RestrictedUnpickler.Dict, file: String, limits: PyTorchCheckpointFile.Limits) throws(PyTorchCheckpointError) {
        func fail(_ problem: String) -> PyTorchCheckpointError { PyTorchCheckpointError(file: file, problem: problem) }
        guard dict.entries.count <= limits.maxTensors else {
            throw fail("state dict has \(dict.entries.count) entries (limit \(limits.maxTensors))")
        }
        var tensors: [PyTorchTensor] = []
        var storages: [StorageUse] = []
        var storageByKey: [String: RestrictedUnpickler.StorageReference] = [:]
        for (name, value) in dict.entries {
            guard case .tensor(let record) = value else { throw fail("state dict entry '\(name)' is a \(value.typeName), not a tensor") }
            let storage = record.storage
            if let known = storageByKey[storage.key] {
                guard known == storage else {
                    throw fail("storage '\(storage.key)' is used as \(known.storageType.qualifiedName) of \(known.elementCount) and as \(storage.storageType.qualifiedName) of \(storage.elementCount)")
                }
            } else {
                storageByKey[storage.key] = storage
                storages.append((name, storage))
            }
            tensors.append(try Self.tensor(name, record, fail: fail))
        }
        self.tensors = tensors
        self.storages = storages
    }

    /// Checks the view against its storage with overflow-checked arithmetic.
    private static func tensor(_ name: String, _ record: RestrictedUnpickler.TensorRecord,
                               fail: (String) -> PyTorchCheckpointError) throws(PyTorchCheckpointError) -> PyTorchTensor {
        let shape = record.shape, strides = record.strides
        let dtype = record.storage.storageType.storageDType!
        let describe = "tensor '\(name)' (shape \(shape), strides \(strides), offset \(record.storageOffset))"
        guard shape.count == strides.count else { throw fail("\(describe) has \(shape.count) dimensions but \(strides.count) strides") }
        guard shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }), record.storageOffset >= 0 else {
            throw fail("\(describe) has a negative size, stride or offset")
        }
        var elementCount = 1
        var lastIndex = record.storageOffset
        for (size, stride) in zip(shape, strides) {
            let (count, countOverflow) = elementCount.multipliedReportingOverflow(by: size)
            guard !countOverflow else { throw fail("\(describe) has more elements than a 64-bit count holds") }
            elementCount = count
            if size > 0 {
                let (step, stepOverflow) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, sumOverflow) = lastIndex.addingReportingOverflow(step)
                guard !stepOverflow, !sumOverflow else { throw fail("\(describe) reaches past any storage") }
                lastIndex = sum
            }
        }
        guard let byteCount = dtype.byteCount(elements: elementCount) else { throw fail("\(describe) has a byte size that overflows") }
        if elementCount > 0, lastIndex >= record.storage.elementCount {
            throw fail("\(describe) reaches element \(lastIndex) of storage '\(record.storage.key)', which holds \(record.storage.elementCount)")
        }
        return PyTorchTensor(name: name, dtype: dtype, shape: shape, strides: strides, storageKey: record.storage.key,
                             storageOffset: record.storageOffset, elementCount: elementCount, byteCount: byteCount)
    }
}
