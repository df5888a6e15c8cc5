import LSGErrors
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

    init(_ dict: RestrictedUnpickler.Dict, file: String, limits: PyTorchCheckpointFile.Limits) throws(LSGError) {
        func fail(_ kind: LSGError.Kind, _ problem: String) -> LSGError { LSGError(kind, file: file, problem) }
        guard dict.entries.count <= limits.maxTensors else {
            throw fail(.limitExceeded, "state dict has \(dict.entries.count) entries (limit \(limits.maxTensors))")
        }
        var tensors: [PyTorchTensor] = []
        var storages: [StorageUse] = []
        var storageByKey: [String: RestrictedUnpickler.StorageReference] = [:]
        var viewByKey: [String: (storage: String, view: RestrictedUnpickler.StorageView)] = [:]
        for (name, value) in dict.entries {
            guard case .tensor(let record) = value else { throw fail(.malformed, "state dict entry '\(name)' is a \(value.typeName), not a tensor") }
            let storage = record.storage
            if let known = storageByKey[storage.key] {
                guard known == storage else {
                    throw fail(.malformed, "storage '\(storage.key)' is used as \(known.storageType.qualifiedName) of \(known.elementCount) and as \(storage.storageType.qualifiedName) of \(storage.elementCount)")
                }
            } else {
                storageByKey[storage.key] = storage
                storages.append((name, storage))
            }
            if let view = record.view {
                if let known = viewByKey[view.key] {
                    guard known.storage == storage.key, known.view == view else {
                        throw fail(.malformed, "storage view '\(view.key)' is \(known.view.elementCount) elements at offset \(known.view.offset) of storage '\(known.storage)' and \(view.elementCount) at offset \(view.offset) of storage '\(storage.key)'")
                    }
                } else {
                    viewByKey[view.key] = (storage.key, view)
                }
            }
            tensors.append(try Self.tensor(name, record, fail: fail))
        }
        // torch keeps views and storages under one set of keys: a view named like a storage
        // would be that storage.
        if let clash = viewByKey.keys.sorted().first(where: { storageByKey[$0] != nil }) {
            throw fail(.malformed, "storage view '\(clash)' has the key of a storage")
        }
        self.tensors = tensors
        self.storages = storages
    }

    /// Checks the view against its storage (or the storage view it is built on) with
    /// overflow-checked arithmetic.
    private static func tensor(_ name: String, _ record: RestrictedUnpickler.TensorRecord,
                               fail: (LSGError.Kind, String) -> LSGError) throws(LSGError) -> PyTorchTensor {
        let shape = record.shape, strides = record.strides
        let dtype = record.storage.storageType.storageDType!
        let describe = "tensor '\(name)' (shape \(shape), strides \(strides), offset \(record.storageOffset))"
        let base = record.view?.offset ?? 0
        guard shape.count == strides.count else { throw fail(.malformed, "\(describe) has \(shape.count) dimensions but \(strides.count) strides") }
        guard shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }), record.storageOffset >= 0 else {
            throw fail(.malformed, "\(describe) has a negative size, stride or offset")
        }
        var elementCount = 1
        var lastIndex = record.storageOffset
        for (size, stride) in zip(shape, strides) {
            let (count, countOverflow) = elementCount.multipliedReportingOverflow(by: size)
            guard !countOverflow else { throw fail(.malformed, "\(describe) has more elements than a 64-bit count holds") }
            elementCount = count
            if size > 0 {
                let (step, stepOverflow) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, sumOverflow) = lastIndex.addingReportingOverflow(step)
                guard !stepOverflow, !sumOverflow else { throw fail(.malformed, "\(describe) reaches past any storage") }
                lastIndex = sum
            }
        }
        guard let byteCount = dtype.byteCount(elements: elementCount) else { throw fail(.malformed, "\(describe) has a byte size that overflows") }
        if elementCount > 0 {
            if let view = record.view {
                guard lastIndex < view.elementCount else {
                    throw fail(.malformed, "\(describe) reaches element \(lastIndex) of storage view '\(view.key)', which holds \(view.elementCount)")
                }
            } else if lastIndex >= record.storage.elementCount {
                throw fail(.malformed, "\(describe) reaches element \(lastIndex) of storage '\(record.storage.key)', which holds \(record.storage.elementCount)")
            }
        }
        // An empty tensor's offset is not bounded by its storage.
        let (storageOffset, offsetOverflow) = base.addingReportingOverflow(record.storageOffset)
        guard !offsetOverflow else { throw fail(.malformed, "\(describe) reaches past any storage") }
        return PyTorchTensor(name: name, dtype: dtype, shape: shape, strides: strides, storageKey: record.storage.key,
                             storageOffset: storageOffset, elementCount: elementCount, byteCount: byteCount)
    }
}
