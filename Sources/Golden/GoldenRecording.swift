import Checkpoint
import FileIO
import Foundation
import JSON
import LSGEncoder
import SafeTensors
import Zstd

/// Freezes today's encoder outputs as a golden file (same format as `golden/encoder/`), so a
/// later run of `validate MODEL --golden FILE` proves the checkpoint still computes them.
public enum GoldenRecording {
    /// Runs `encoder` on `input` and writes the case to `url` (`.safetensors.zst`), complete or
    /// not at all. LSH projections drawn during the run are stored for replay.
    public static func record(
        encoder: Encoder, modelName: String, overrides: LSGOverrides, input: EncoderInput, options: EncodeOptions,
        atol: Double, to url: URL
    ) throws {
        let output = try encoder.encode(input, options: options)
        let config = encoder.configuration
        let caseName = url.lastPathComponent.hasSuffix(GoldenCase.suffix)
            ? String(url.lastPathComponent.dropLast(GoldenCase.suffix.count)) : url.lastPathComponent
        var lengths: [Int] = []
        for row in 0..<input.batchSize {
            let mask = input.attentionMask?[(row * input.length)..<((row + 1) * input.length)]
            lengths.append(mask.map { $0.reduce(0) { $0 + Int($1) } } ?? input.length)
        }
        let metadata: [String: String] = [
            "format_version": "1",
            "case": caseName,
            "family": config.family.rawValue,
            "model": modelName,
            "attention": config.lsg == nil ? "full" : "lsg",
            "overrides": JSONValue.object(overrides.json).compactString(),
            "head": encoder.heads.first { $0.taskHead != nil }?.rawValue ?? (encoder.heads.contains(.mlm) ? "mlm" : "base"),
            "lengths": "[" + lengths.map(String.init).joined(separator: ", ") + "]",
            "atol": "\(atol)",
            "compare": "positions where attention_mask is 1",
            "lsh_projections": "\(output.lshProjections.count)",
            "generator": "lsg-convert validate --record",
        ]
        var writer = SafeTensorsWriter(metadata: metadata)
        let shape = input.choices > 1
            ? [input.batchSize / input.choices, input.choices, input.length] : [input.batchSize, input.length]
        try writer.add("input_ids", int64s: input.inputIds, shape: shape)
        try writer.add(
            "attention_mask", int64s: input.attentionMask ?? Array(repeating: 1, count: input.inputIds.count), shape: shape)
        if let types = input.tokenTypeIds { try writer.add("token_type_ids", int64s: types, shape: shape) }
        for item in output.named(batchSize: input.batchSize, length: input.length, configuration: config) {
            try writer.add("expected." + item.name, floats: item.values, shape: item.shape)
        }
        for (index, projection) in output.lshProjections.enumerated() {
            try writer.add(LSHProjectionSource.tensorName(index), floats: projection.values, shape: projection.shape)
        }
        let staging = TemporaryName.file(in: FileManager.default.temporaryDirectory, stem: "lsg-golden", extension: "safetensors")
        defer { try? FileManager.default.removeItem(at: staging) }
        try writer.write(to: staging)
        try Zstd.compressToFile(try Data(contentsOf: staging), at: url)
    }
}

extension SafeTensorsWriter {
    /// Adds an I64 tensor.
    mutating func add(_ name: String, int64s values: [Int64], shape: [Int]) throws {
        try add(name, dtype: .i64, shape: shape) { sink in
            try values.map { $0.littleEndian }.withUnsafeBytes { try sink($0) }
        }
    }
}
