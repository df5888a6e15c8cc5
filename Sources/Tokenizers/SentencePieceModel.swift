import Foundation
import LSGErrors

/// The few fields of a sentencepiece `ModelProto` (sentencepiece_model.proto) that transformers'
/// converters read: the pieces in order and the trainer's model type. Read with a small
/// protobuf reader that refuses anything malformed (truncated fields, lengths past the end,
/// overlong varints, groups, pieces that are not UTF-8).
struct SentencePieceModel: Sendable {
    enum ModelType: Int, Sendable {
        case unigram = 1, bpe = 2, word = 3, char = 4
    }

    let pieces: [String]
    /// Each piece's log probability (the Unigram score).
    let scores: [Float]
    let modelType: ModelType
    /// `normalizer_spec.precompiled_charsmap`: empty when the model was trained without normalization.
    let precompiledCharsMap: [UInt8]
    /// `trainer_spec.unk_id` (default 0).
    let unknownID: Int

    init(_ data: Data, path: String) throws(LSGError) {
        let result: Result<(pieces: [String], scores: [Float], type: Int, charsMap: [UInt8], unknownID: Int), LSGError> = data.withUnsafeBytes { bytes in
            Result { () throws(LSGError) in
                var reader = ProtobufReader(bytes: bytes, path: path)
                var pieces: [String] = []
                var scores: [Float] = []
                var charsMap: [UInt8] = []
                var type = ModelType.unigram.rawValue
                var unknownID = 0
                while let field = try reader.nextField() {
                    switch (field.number, field.value) {
                    case (1, .bytes(let piece)):
                        var inner = ProtobufReader(bytes: piece, path: path)
                        var text = ""
                        var score: Float = 0
                        while let pieceField = try inner.nextField() {
                            if pieceField.number == 1, case .bytes(let raw) = pieceField.value {
                                guard let decoded = String(validating: raw, as: UTF8.self) else {
                                    throw LSGError(.malformed, file: path, "piece \(pieces.count) is not UTF-8")
                                }
                                text = decoded
                            } else if pieceField.number == 2, case .fixed32(let bits) = pieceField.value {
                                score = Float(bitPattern: bits)
                            }
                        }
                        pieces.append(text)
                        scores.append(score)
                    case (2, .bytes(let trainer)):
                        var inner = ProtobufReader(bytes: trainer, path: path)
                        while let trainerField = try inner.nextField() {
                            if trainerField.number == 3, case .varint(let value) = trainerField.value { type = Int(truncatingIfNeeded: value) }
                            if trainerField.number == 40, case .varint(let value) = trainerField.value { unknownID = Int(truncatingIfNeeded: value) }
                        }
                    case (3, .bytes(let normalizerSpec)):
                        var inner = ProtobufReader(bytes: normalizerSpec, path: path)
                        while let specField = try inner.nextField() {
                            if specField.number == 2, case .bytes(let map) = specField.value { charsMap = Array(map) }
                        }
                    default:
                        continue
                    }
                }
                return (pieces, scores, type, charsMap, unknownID)
            }
        }
        let (pieces, scores, type, charsMap, unknownID) = try result.get()
        guard !pieces.isEmpty else { throw LSGError(.malformed, file: path, "holds no pieces: not a sentencepiece model") }
        guard let modelType = ModelType(rawValue: type) else {
            throw LSGError(.unsupported, file: path, "has an unknown sentencepiece model type \(type)")
        }
        self.pieces = pieces
        self.scores = scores
        self.modelType = modelType
        precompiledCharsMap = charsMap
        guard pieces.indices.contains(unknownID) else { throw LSGError(.malformed, file: path, "unk_id \(unknownID) is not a piece") }
        self.unknownID = unknownID
    }
}

/// Protobuf wire format: a sequence of (field number, wire type) keys and values.
private struct ProtobufReader {
    enum Value {
        case varint(UInt64)
        case bytes(UnsafeRawBufferPointer)
        case fixed32(UInt32)
        case fixed64
    }

    let bytes: UnsafeRawBufferPointer
    let path: String
    var position = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    func fail(_ kind: LSGError.Kind, _ problem: String) -> LSGError {
        LSGError(kind, file: path, "is not a valid sentencepiece model: \(problem)")
    }

    mutating func varint() throws(LSGError) -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            guard position < bytes.count else { throw fail(.malformed, "truncated varint at byte \(position)") }
            let byte = bytes[position]
            position += 1
            guard shift < 64, shift != 63 || byte <= 1 else { throw fail(.malformed, "varint longer than 64 bits at byte \(position - 1)") }
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte & 0x80 == 0 { return value }
        }
        throw fail(.malformed, "varint longer than 64 bits")
    }

    mutating func take(_ count: Int) throws(LSGError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= bytes.count - position else {
            throw fail(.malformed, "a field of \(count) bytes at byte \(position) runs past the end")
        }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    mutating func nextField() throws(LSGError) -> (number: UInt64, value: Value)? {
        guard position < bytes.count else { return nil }
        let key = try varint()
        let number = key >> 3
        guard number > 0 else { throw fail(.malformed, "field number 0 at byte \(position)") }
        switch key & 7 {
        case 0: return (number, .varint(try varint()))
        case 1: _ = try take(8); return (number, .fixed64)
        case 2:
            let length = try varint()
            guard length <= UInt64(Int.max) else { throw fail(.malformed, "a length of \(length) bytes") }
            return (number, .bytes(try take(Int(length))))
        case 5:
            let raw = try take(4)
            return (number, .fixed32(UInt32(raw[0]) | UInt32(raw[1]) << 8 | UInt32(raw[2]) << 16 | UInt32(raw[3]) << 24))
        default: throw fail(.malformed, "wire type \(key & 7) at byte \(position)")
        }
    }
}
