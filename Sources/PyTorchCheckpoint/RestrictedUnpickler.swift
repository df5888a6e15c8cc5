import LSGErrors
import SafeTensors

/// A pickle interpreter that knows only what a tensor state dict needs. It never imports or
/// calls anything: globals resolve to a closed list (`TorchGlobal`), and `REDUCE` on one of them
/// builds a plain description (an ordered dict, a tensor record). Any other opcode or global is
/// refused with an error that names it.
struct RestrictedUnpickler {
    /// Bounds on the work one pickle may cause.
    struct Limits: Sendable {
        /// From the pickle's first byte to its `STOP` (the legacy format's pickles reveal their
        /// length only by being read).
        var maxPickleBytes = 256 << 20
        var maxStackDepth = 1 << 20
        var maxMemoEntries = 1 << 20
        var maxMarkDepth = 64
        /// Lists, dicts and tuples inside one another; a state dict needs 4 (the `_metadata`
        /// dict of dicts in its `BUILD` state, inside the state tuple).
        var maxNestingDepth = 64
    }

    /// How `BINPERSID` names a storage: `('storage', type, key, location, element count)` in the
    /// zip format; the legacy format adds a sixth field, None or a view `(key, offset, size)`.
    enum PersistentIDs {
        case zip
        case legacy
    }

    /// A list, reference-typed so a memoised list sees later `APPENDS` the way Python's shared
    /// objects do. Frozen once it is put inside another value (see `contain`).
    final class List {
        private(set) var items: [Value] = []
        /// 1 when it holds no list, dict or tuple.
        fileprivate(set) var depth = 1
        fileprivate(set) var isFrozen = false

        fileprivate func append(_ newItems: [Value], depth itemsDepth: Int) {
            items += newItems
            depth = max(depth, itemsDepth)
        }
    }

    /// A dict with string keys (all a state dict and its `_metadata` use), in insertion order.
    /// Frozen once it is put inside another value (see `contain`).
    final class Dict {
        private(set) var entries: [(key: String, value: Value)] = []
        private var indexByKey: [String: Int] = [:]
        /// 1 when it holds no list, dict or tuple.
        fileprivate(set) var depth = 1
        fileprivate(set) var isFrozen = false

        var isEmpty: Bool { entries.isEmpty }

        subscript(key: String) -> Value? { indexByKey[key].map { entries[$0].value } }

        fileprivate func set(_ key: String, _ value: Value, depth valueDepth: Int) {
            if let index = indexByKey[key] {
                entries[index].value = value
            } else {
                indexByKey[key] = entries.count
                entries.append((key, value))
            }
            depth = max(depth, valueDepth)
        }
    }

    enum Value {
        case none
        case bool(Bool)
        case int(Int)
        /// An integer wider than 64 bits (`LONG1` of 9 to 255 bytes), as its little-endian two's
        /// complement bytes: torch's legacy magic number is one.
        case wideInt([UInt8])
        case float(Double)
        case string(String)
        /// `depth` is 1 when it holds no list, dict or tuple.
        case tuple([Value], depth: Int)
        case list(List)
        /// A dict or `collections.OrderedDict`, keys in insertion order.
        case dict(Dict)
        case global(TorchGlobal)
        /// What `BINPERSID` produced: a storage of the checkpoint and, in the legacy format, the
        /// view of it that tensors built on it count from, if any.
        case storage(StorageReference, view: StorageView?)
        case tensor(TensorRecord)

        var typeName: String {
            switch self {
            case .none: "None"
            case .bool: "bool"
            case .int, .wideInt: "int"
            case .float: "float"
            case .string: "str"
            case .tuple: "tuple"
            case .list: "list"
            case .dict: "dict"
            case .global(let global): global.qualifiedName
            case .storage: "storage"
            case .tensor: "tensor"
            }
        }
    }

    struct StorageReference: Hashable {
        let key: String
        let storageType: TorchGlobal
        let elementCount: Int
    }

    /// A part of a storage under its own key (legacy format; torch before 1.0 wrote them): a
    /// tensor on it counts its offset from `offset` and may reach only `elementCount` elements.
    struct StorageView: Hashable {
        let key: String
        let offset: Int
        let elementCount: Int
    }

    struct TensorRecord {
        let storage: StorageReference
        let view: StorageView?
        /// In elements from the start of `view`, or of `storage` when there is none.
        let storageOffset: Int
        let shape: [Int]
        let strides: [Int]
    }

    private let bytes: UnsafeRawBufferPointer
    private let file: String
    private let limits: Limits
    private let persistentIDs: PersistentIDs
    private let start: Int
    private var position: Int
    private var stack: [Value] = []
    private var marks: [Int] = []
    private var memo: [Int: Value] = [:]

    private init(bytes: UnsafeRawBufferPointer, start: Int, file: String, limits: Limits, persistentIDs: PersistentIDs) {
        self.bytes = bytes
        self.file = file
        self.limits = limits
        self.persistentIDs = persistentIDs
        self.start = start
        position = start
    }

    /// Runs the pickle that begins at byte `start` of `bytes` to its `STOP`; returns the value it
    /// leaves and the position just after the `STOP`. Byte positions in errors count from the
    /// start of `bytes`.
    static func load(
        _ bytes: UnsafeRawBufferPointer, from start: Int = 0, file: String, limits: Limits = Limits(),
        persistentIDs: PersistentIDs = .zip
    ) throws(LSGError) -> (value: Value, end: Int) {
        var machine = RestrictedUnpickler(bytes: bytes, start: start, file: file, limits: limits, persistentIDs: persistentIDs)
        let value = try machine.run()
        return (value, machine.position)
    }

    private func fail(_ kind: LSGError.Kind, _ problem: String) -> LSGError {
        LSGError(kind, file: file, "pickle: \(problem)")
    }

    // MARK: - Reading operands

    private mutating func take(_ count: Int) throws(LSGError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= bytes.count - position else {
            throw fail(.malformed, "truncated at byte \(position) (needs \(count) more bytes, \(bytes.count - position) left)")
        }
        guard count <= limits.maxPickleBytes - (position - start) else {
            throw fail(.limitExceeded, "runs past byte \(start + limits.maxPickleBytes), longer than the limit of \(limits.maxPickleBytes) bytes")
        }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    private mutating func integer<T: FixedWidthInteger>(_ type: T.Type) throws(LSGError) -> T {
        let raw = try take(MemoryLayout<T>.size)
        return T(littleEndian: raw.loadUnaligned(as: T.self))
    }

    private mutating func line() throws(LSGError) -> String {
        // The whole rest of a legacy file may follow: look no further than the longest operand.
        guard let end = bytes[position..<min(bytes.count, position + 257)].firstIndex(of: UInt8(ascii: "\n")) else {
            throw fail(.malformed, "truncated or overlong GLOBAL operand at byte \(position)")
        }
        let raw = try take(end - position)
        _ = try take(1)  // the newline
        guard let text = String(validatingUTF8Bytes: raw) else { throw fail(.malformed, "GLOBAL operand at byte \(position) is not UTF-8") }
        return text
    }

    private mutating func utf8(length: Int) throws(LSGError) -> String {
        let raw = try take(length)
        guard let text = String(validatingUTF8Bytes: raw) else { throw fail(.malformed, "string at byte \(position - length) is not valid UTF-8") }
        return text
    }

    // MARK: - Stack

    private mutating func push(_ value: Value) throws(LSGError) {
        guard stack.count < limits.maxStackDepth else { throw fail(.limitExceeded, "stack deeper than \(limits.maxStackDepth) values") }
        stack.append(value)
    }

    private mutating func pop() throws(LSGError) -> Value {
        guard let value = stack.popLast(), stack.count >= (marks.last ?? 0) else { throw fail(.malformed, "stack underflow at byte \(position)") }
        return value
    }

    private mutating func popToMark() throws(LSGError) -> [Value] {
        guard let mark = marks.popLast() else { throw fail(.malformed, "no MARK before byte \(position)") }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    private mutating func top() throws(LSGError) -> Value {
        guard let value = stack.last, stack.count > (marks.last ?? 0) else { throw fail(.malformed, "stack underflow at byte \(position)") }
        return value
    }

    private mutating func memoize(_ index: Int) throws(LSGError) {
        guard index >= 0 else { throw fail(.malformed, "negative memo index \(index)") }
        if memo[index] == nil, memo.count >= limits.maxMemoEntries {
            throw fail(.limitExceeded, "memo holds more than \(limits.maxMemoEntries) values")
        }
        memo[index] = try top()
    }

    private mutating func recall(_ index: Int) throws(LSGError) {
        guard let value = memo[index] else { throw fail(.malformed, "memo index \(index) was never stored (byte \(position))") }
        try push(value)
    }

    // MARK: - The machine

    private mutating func run() throws(LSGError) -> Value {
        while true {
            let at = position
            let opcode = try take(1)[0]
            switch opcode {
            case 0x80:  // PROTO
                let version = try take(1)[0]
                guard version <= 5 else { throw fail(.unsupported, "unsupported pickle protocol \(version)") }
            case 0x95:  // FRAME: a length hint only
                _ = try integer(UInt64.self)
            case UInt8(ascii: "."):  // STOP
                guard marks.isEmpty, stack.count == 1 else { throw fail(.malformed, "STOP with \(stack.count) values on the stack") }
                return stack[0]
            case UInt8(ascii: "("):  // MARK
                guard marks.count < limits.maxMarkDepth else { throw fail(.limitExceeded, "MARKs nested deeper than \(limits.maxMarkDepth)") }
                marks.append(stack.count)
            case UInt8(ascii: "N"): try push(.none)
            case 0x88: try push(.bool(true))  // NEWTRUE
            case 0x89: try push(.bool(false))  // NEWFALSE
            case UInt8(ascii: "K"): try push(.int(Int(try integer(UInt8.self))))  // BININT1
            case UInt8(ascii: "M"): try push(.int(Int(try integer(UInt16.self))))  // BININT2
            case UInt8(ascii: "J"): try push(.int(Int(try integer(Int32.self))))  // BININT
            case 0x8A:  // LONG1: little-endian two's complement
                let length = Int(try take(1)[0])
                let raw = try take(length)
                guard length <= 8 else {
                    try push(.wideInt(Array(raw)))
                    continue
                }
                var value: UInt64 = 0
                for (shift, byte) in raw.enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
                if length > 0, length < 8, raw[length - 1] & 0x80 != 0 { value |= ~0 << (8 * UInt64(length)) }
                try push(.int(Int(Int64(bitPattern: value))))
            case UInt8(ascii: "G"):  // BINFLOAT, big-endian
                try push(.float(Double(bitPattern: UInt64(bigEndian: try take(8).loadUnaligned(as: UInt64.self)))))
            case UInt8(ascii: "X"):  // BINUNICODE
                try push(.string(try utf8(length: Int(try integer(UInt32.self)))))
            case 0x8C:  // SHORT_BINUNICODE
                try push(.string(try utf8(length: Int(try take(1)[0]))))
            case 0x8D:  // BINUNICODE8
                let length = try integer(UInt64.self)
                guard let count = Int(exactly: length) else { throw fail(.malformed, "string of \(length) bytes at byte \(at)") }
                try push(.string(try utf8(length: count)))
            case UInt8(ascii: ")"): try push(.tuple([], depth: 1))  // EMPTY_TUPLE
            case 0x85: try push(try tuple([try pop()], at: at))  // TUPLE1
            case 0x86:  // TUPLE2
                let second = try pop(), first = try pop()
                try push(try tuple([first, second], at: at))
            case 0x87:  // TUPLE3
                let third = try pop(), second = try pop(), first = try pop()
                try push(try tuple([first, second, third], at: at))
            case UInt8(ascii: "t"): try push(try tuple(try popToMark(), at: at))  // TUPLE
            case UInt8(ascii: "]"): try push(.list(List()))  // EMPTY_LIST
            case UInt8(ascii: "}"): try push(.dict(Dict()))  // EMPTY_DICT
            case UInt8(ascii: "a"):  // APPEND
                let item = try pop()
                try append([item], at: at)
            case UInt8(ascii: "e"):  // APPENDS
                let items = try popToMark()
                try append(items, at: at)
            case UInt8(ascii: "s"):  // SETITEM
                let value = try pop(), key = try pop()
                try setItems([key, value], at: at)
            case UInt8(ascii: "u"):  // SETITEMS
                let items = try popToMark()
                try setItems(items, at: at)
            case UInt8(ascii: "q"): try memoize(Int(try integer(UInt8.self)))  // BINPUT
            case UInt8(ascii: "r"): try memoize(Int(try integer(UInt32.self)))  // LONG_BINPUT
            case 0x94: try memoize(memo.count)  // MEMOIZE
            case UInt8(ascii: "h"): try recall(Int(try integer(UInt8.self)))  // BINGET
            case UInt8(ascii: "j"): try recall(Int(try integer(UInt32.self)))  // LONG_BINGET
            case UInt8(ascii: "0"): _ = try pop()  // POP
            case UInt8(ascii: "c"):  // GLOBAL "module\nname\n"
                let module = try line(), name = try line()
                try push(.global(try resolve(module: module, name: name)))
            case 0x93:  // STACK_GLOBAL
                let nameValue = try pop(), moduleValue = try pop()
                guard case .string(let module) = moduleValue, case .string(let name) = nameValue else {
                    throw fail(.malformed, "STACK_GLOBAL at byte \(at) without two strings")
                }
                try push(.global(try resolve(module: module, name: name)))
            case UInt8(ascii: "Q"):  // BINPERSID
                try push(try storage(from: try pop()))
            case UInt8(ascii: "R"):  // REDUCE
                let arguments = try pop(), callable = try pop()
                try push(try reduce(callable, arguments, at: at))
            case UInt8(ascii: "b"):  // BUILD
                let state = try pop()
                let target = try top()
                // OrderedDict state dicts carry `_metadata` (module versions) as an attribute; it is not needed.
                guard case .dict = target, case .dict = state else {
                    throw fail(.refusedCode, "BUILD at byte \(at) sets state on a \(target.typeName); only a state dict's attributes are accepted")
                }
            default:
                throw fail(.refusedCode, "opcode \(Self.opcodeName(opcode)) at byte \(at) is not allowed in a tensor state dict")
            }
        }
    }

    private mutating func append(_ items: [Value], at offset: Int) throws(LSGError) {
        guard case .list(let list) = try top() else { throw fail(.malformed, "APPEND(S) at byte \(offset) on a \(try top().typeName), not a list") }
        guard !list.isFrozen else { throw fail(.malformed, "APPEND(S) at byte \(offset) on a list already inside another value") }
        guard !items.contains(where: { if case .list(let item) = $0 { item === list } else { false } }) else {
            throw fail(.malformed, "APPEND(S) at byte \(offset) puts a list inside itself")
        }
        list.append(items, depth: try contain(items, at: offset))
    }

    private mutating func setItems(_ items: [Value], at offset: Int) throws(LSGError) {
        guard items.count % 2 == 0 else { throw fail(.malformed, "SETITEMS at byte \(offset) with an odd number of values") }
        guard case .dict(let dict) = try top() else { throw fail(.malformed, "SETITEM(S) at byte \(offset) on a \(try top().typeName), not a dict") }
        guard !dict.isFrozen else { throw fail(.malformed, "SETITEM(S) at byte \(offset) on a dict already inside another value") }
        for pair in stride(from: 0, to: items.count, by: 2) {
            let key = items[pair], value = items[pair + 1]
            guard case .string(let name) = key else { throw fail(.malformed, "dict key at byte \(offset) is a \(key.typeName), not a string") }
            if case .dict(let item) = value, item === dict { throw fail(.malformed, "SETITEM(S) at byte \(offset) puts a dict inside itself") }
            dict.set(name, value, depth: try contain([value], at: offset))
        }
    }

    private func tuple(_ items: [Value], at offset: Int) throws(LSGError) -> Value {
        .tuple(items, depth: try contain(items, at: offset))
    }

    /// Freezes the lists and dicts among `items`, which are going inside another value, and
    /// returns the depth of a container holding them. A frozen container is never changed
    /// again, so no value can end up inside itself (Swift would never free it) and a depth once
    /// computed stays true: nesting is bounded without walking into values, and freeing a value
    /// never recurses deeper than the limit.
    private func contain(_ items: [Value], at offset: Int) throws(LSGError) -> Int {
        var deepest = 0
        for item in items {
            switch item {
            case .tuple(_, let depth): deepest = max(deepest, depth)
            case .list(let list):
                list.isFrozen = true
                deepest = max(deepest, list.depth)
            case .dict(let dict):
                dict.isFrozen = true
                deepest = max(deepest, dict.depth)
            default: break
            }
        }
        guard deepest < limits.maxNestingDepth else {
            throw fail(.limitExceeded, "values nested deeper than \(limits.maxNestingDepth) at byte \(offset)")
        }
        return deepest + 1
    }

    private func resolve(module: String, name: String) throws(LSGError) -> TorchGlobal {
        guard let global = TorchGlobal(module: module, name: name) else {
            throw fail(.refusedCode, "refuses global '\(module).\(name)': only the globals of a tensor state dict are allowed")
        }
        return global
    }

    /// `('storage', <storage type>, key, location, element count)`, and in the legacy format a
    /// view (see `PersistentIDs`).
    private func storage(from persistentID: Value) throws(LSGError) -> Value {
        let form = persistentIDs == .zip ? "('storage', type, key, location, size)" : "('storage', type, key, location, size, view)"
        guard case .tuple(let fields, _) = persistentID, fields.count == (persistentIDs == .zip ? 5 : 6),
              case .string("storage") = fields[0], case .global(let type) = fields[1], type.storageDType != nil,
              case .string(let key) = fields[2], case .string = fields[3], case .int(let count) = fields[4]
        else { throw fail(.malformed, "persistent id is not a \(form) tuple") }
        guard count >= 0 else { throw fail(.malformed, "storage '\(key)' has a negative size \(count)") }
        let storage = StorageReference(key: key, storageType: type, elementCount: count)
        guard persistentIDs == .legacy else { return .storage(storage, view: nil) }
        switch fields[5] {
        case .none:
            return .storage(storage, view: nil)
        case .tuple(let view, _):
            guard view.count == 3, case .string(let viewKey) = view[0], case .int(let offset) = view[1], case .int(let size) = view[2] else {
                throw fail(.malformed, "storage '\(key)' has a view that is not a (key, offset, size) tuple")
            }
            guard offset >= 0, size >= 0, offset <= count, size <= count - offset else {
                throw fail(.malformed, "storage '\(key)' has a view '\(viewKey)' of \(size) elements at offset \(offset), outside its \(count) elements")
            }
            return .storage(storage, view: StorageView(key: viewKey, offset: offset, elementCount: size))
        default:
            throw fail(.malformed, "storage '\(key)' has a view that is a \(fields[5].typeName), not None or a (key, offset, size) tuple")
        }
    }

    private func reduce(_ callable: Value, _ arguments: Value, at offset: Int) throws(LSGError) -> Value {
        guard case .global(let global) = callable else {
            throw fail(.refusedCode, "REDUCE at byte \(offset) calls a \(callable.typeName), not an allowed global")
        }
        guard case .tuple(let args, _) = arguments else { throw fail(.malformed, "REDUCE at byte \(offset) without an argument tuple") }
        switch global {
        case .orderedDict:
            guard args.isEmpty else { throw fail(.malformed, "collections.OrderedDict called with arguments at byte \(offset)") }
            return .dict(Dict())
        case .rebuildTensorV2:
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            guard args.count == 6 || args.count == 7, case .storage(let storage, let view) = args[0], case .int(let storageOffset) = args[1],
                  let shape = Self.integers(args[2]), let strides = Self.integers(args[3]), case .bool = args[4]
            else { throw fail(.malformed, "torch._utils._rebuild_tensor_v2 at byte \(offset) has unexpected arguments") }
            guard case .dict(let hooks) = args[5], hooks.isEmpty else {
                throw fail(.refusedCode, "tensor at byte \(offset) carries backward hooks")
            }
            if args.count == 7 {
                guard case .none = args[6] else { throw fail(.unsupported, "tensor at byte \(offset) carries metadata (\(args[6].typeName))") }
            }
            return .tensor(TensorRecord(storage: storage, view: view, storageOffset: storageOffset, shape: shape, strides: strides))
        case .rebuildParameter:
            // (data, requires_grad, backward_hooks)
            guard args.count == 3, case .tensor(let tensor) = args[0], case .bool = args[1], case .dict(let hooks) = args[2] else {
                throw fail(.malformed, "torch._utils._rebuild_parameter at byte \(offset) has unexpected arguments")
            }
            guard hooks.isEmpty else { throw fail(.refusedCode, "parameter at byte \(offset) carries backward hooks") }
            return .tensor(tensor)
        default:
            throw fail(.refusedCode, "REDUCE at byte \(offset) calls \(global.qualifiedName), which only names a storage type")
        }
    }

    private static func integers(_ value: Value) -> [Int]? {
        guard case .tuple(let items, _) = value else { return nil }
        var result: [Int] = []
        for item in items {
            guard case .int(let number) = item else { return nil }
            result.append(number)
        }
        return result
    }

    private static let opcodeNames: [UInt8: String] = [
        UInt8(ascii: "I"): "INT", UInt8(ascii: "L"): "LONG", UInt8(ascii: "S"): "STRING", UInt8(ascii: "T"): "BINSTRING",
        UInt8(ascii: "U"): "SHORT_BINSTRING", UInt8(ascii: "V"): "UNICODE", UInt8(ascii: "F"): "FLOAT",
        UInt8(ascii: "l"): "LIST", UInt8(ascii: "d"): "DICT", UInt8(ascii: "i"): "INST", UInt8(ascii: "o"): "OBJ",
        UInt8(ascii: "p"): "PUT", UInt8(ascii: "g"): "GET", UInt8(ascii: "P"): "PERSID", UInt8(ascii: "1"): "POP_MARK",
        UInt8(ascii: "2"): "DUP", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4",
        0x8B: "LONG4", 0x8E: "BINBYTES8", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET",
        UInt8(ascii: "B"): "BINBYTES", UInt8(ascii: "C"): "SHORT_BINBYTES", 0x96: "BYTEARRAY8",
        0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
    ]

    static func opcodeName(_ opcode: UInt8) -> String {
        let hex = "0x" + String(opcode, radix: 16, uppercase: true)
        return opcodeNames[opcode].map { "\($0) (\(hex))" } ?? hex
    }
}

/// The only globals a tensor state dict may name.
enum TorchGlobal: Hashable, Sendable {
    case orderedDict
    case rebuildTensorV2
    case rebuildParameter
    case storage(String)

    private static let storageTypes: [String: DType] = [
        "FloatStorage": .f32, "HalfStorage": .f16, "BFloat16Storage": .bf16, "DoubleStorage": .f64,
        "LongStorage": .i64, "IntStorage": .i32, "ShortStorage": .i16, "CharStorage": .i8,
        "ByteStorage": .u8, "BoolStorage": .bool,
    ]

    init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch", _) where Self.storageTypes[name] != nil: self = .storage(name)
        default: return nil
        }
    }

    var qualifiedName: String {
        switch self {
        case .orderedDict: "collections.OrderedDict"
        case .rebuildTensorV2: "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: "torch._utils._rebuild_parameter"
        case .storage(let name): "torch.\(name)"
        }
    }

    /// The element type of a storage type; nil for the other globals.
    var storageDType: DType? {
        if case .storage(let name) = self { Self.storageTypes[name] } else { nil }
    }
}
