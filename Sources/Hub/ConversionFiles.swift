import Checkpoint
import Foundation
import LSGErrors
import SafeTensors

/// The files of a repository that a conversion reads: `config.json`, the weights
/// (`model.safetensors`, or its index and shards; `pytorch_model.bin` or its index and shards
/// when there are no safetensors) and the tokenizer files the repository has.
enum ConversionFiles {
    static let config = "config.json"
    static let safetensors = "model.safetensors"
    static let safetensorsIndex = SafeTensorsIndex.defaultFileName
    static let pytorch = "pytorch_model.bin"
    static let pytorchIndex = "pytorch_model.bin.index.json"
    static var tokenizer: [String] { TokenizerFiles.knownFileNames }

    struct Selection: Equatable {
        /// Files to fetch first, in order (the weight index, if any, is last).
        var files: [String]
        /// The weight index whose shards must follow.
        var index: String?
        /// Files the conversion would read that the repository does not have (recorded in `.no_exist`).
        var absent: [String]
    }

    /// Picks the files from the repository's file list.
    static func select(from siblings: Set<String>, repository: String) throws -> Selection {
        guard siblings.contains(config) else {
            throw LSGError(.missingFile, file: repository, "the repository has no config.json: not a transformers model")
        }
        let weights: [String]
        var absent: [String] = []
        if siblings.contains(safetensors) {
            weights = [safetensors]
        } else if siblings.contains(safetensorsIndex) {
            weights = [safetensorsIndex]
        } else if siblings.contains(pytorch) || siblings.contains(pytorchIndex) {
            weights = [siblings.contains(pytorch) ? pytorch : pytorchIndex]
            absent = [safetensors, safetensorsIndex]
        } else {
            throw LSGError(.missingFile, file: repository, "the repository has no weights (\(safetensors), \(safetensorsIndex), "
                + "\(pytorch) or \(pytorchIndex))")
        }
        let tokenizerFiles = tokenizer.filter(siblings.contains)
        absent += tokenizer.filter { !siblings.contains($0) }
        let index = weights.first { $0.hasSuffix(".index.json") }
        return Selection(files: [config] + tokenizerFiles + weights, index: index, absent: absent)
    }

    /// The shard files a weight index names.
    static func shards(ofIndexAt url: URL) throws -> [String] {
        try SafeTensorsIndex(contentsOf: url).shardFiles
    }

    /// The first file a conversion needs that `snapshot` lacks, or nil when it is complete.
    /// `strict`: a tokenizer file counts as present only when it is there or recorded absent,
    /// and `.bin` weights only when the safetensors files are recorded absent; without it (offline)
    /// whatever the snapshot has is used.
    static func firstMissing(in snapshot: URL, isRecordedAbsent: (String) -> Bool, strict: Bool) -> String? {
        func has(_ file: String) -> Bool { FileManager.default.fileExists(atPath: snapshot.appendingPathComponent(file).path) }
        func missingShard(_ index: String) -> String? {
            guard let shards = try? shards(ofIndexAt: snapshot.appendingPathComponent(index)) else { return index }
            return shards.first { !has($0) }
        }
        guard has(config) else { return config }
        if has(safetensors) {
        } else if has(safetensorsIndex) {
            if let shard = missingShard(safetensorsIndex) { return shard }
        } else if has(pytorch) || has(pytorchIndex) {
            if strict && !(isRecordedAbsent(safetensors) && isRecordedAbsent(safetensorsIndex)) { return safetensors }
            if !has(pytorch), let shard = missingShard(pytorchIndex) { return shard }
        } else {
            return safetensors
        }
        guard strict else { return nil }
        return tokenizer.first { !has($0) && !isRecordedAbsent($0) }
    }
}
