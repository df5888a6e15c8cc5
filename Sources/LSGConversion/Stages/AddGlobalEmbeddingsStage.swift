import Checkpoint
import Foundation
import LSGEncoder
import LSGErrors

/// Fills the 512-row global-token table from the ORIGINAL source positions (before tiling),
/// reordered with `--global-stride`:
/// - deterministic (default): row 0 += word[bos], rows 1... += word[mask];
/// - `--random-global-init`: rows drawn from a normal fitted to the word embeddings, row 0 set
///   to word[bos], then the positions added;
/// - bert and electra add token-type row 0 to every row (the reference's `use_token_ids`);
/// - LSG sources: `--keep-first-global-token` keeps the existing row 0, `--resize-lsg` keeps
///   the whole table.
/// `bos` is the tokenizer's bos id, else its cls id, else `config.bos_token_id`; `mask` is the
/// tokenizer's mask id.
public struct AddGlobalEmbeddingsStage: Stage {
    public static let stageName = "add-global-embeddings"
    public var name: String { Self.stageName }

    public init() {}

    public func run(_ context: ConversionContext) throws {
        let source = try context.requireSource()
        let target = try context.requireArchitecture()
        let options = context.options
        let prefix = target.encoderPrefix
        let names = target.family.encoderTensorNames
        let globalName = prefix + names.globalEmbeddings
        guard var global = context.tensors[globalName] else {
            throw LSGError(.invalidOption, "stage '\(name)': \(globalName) is not in the plan (run map-architecture first)")
        }
        let existingGlobal: String? = if case .source(let name) = global.content { name } else { nil }

        if context.sourceIsLSG && options.resizeLSG {
            guard existingGlobal != nil else {
                throw LSGError(.invalidOption, "\(source.url.path): --resize-lsg needs the source's global_embeddings, which it lacks")
            }
            global.provenance = context.provenance("kept", global.provenance.inputs, "--resize-lsg: global rows unchanged")
            context.tensors.set(global)
            context.report.changes.append("global embeddings: kept from the LSG source (--resize-lsg)")
            return
        }
        if options.resizeLSG {
            context.report.warnings.append("--resize-lsg ignored: the source is not an LSG model")
        }
        let keepFirst = options.keepFirstGlobalToken && context.sourceIsLSG
        if options.keepFirstGlobalToken && !context.sourceIsLSG {
            context.report.warnings.append("--keep-first-global-token ignored: the source is not an LSG model")
        }
        if keepFirst && existingGlobal == nil {
            throw LSGError(.invalidOption, "\(source.url.path): --keep-first-global-token needs the source's global_embeddings, which it lacks")
        }

        let word = try sourceName(of: prefix + names.wordEmbeddings, in: context)
        let positions = try sourceName(of: prefix + names.positionEmbeddings, in: context)
        let tokenType = try names.tokenTypeEmbeddings.flatMap { name in
            target.family.addsTokenTypeToGlobalRows ? try sourceName(of: prefix + name, in: context) : nil
        }
        let store = source.tensors
        guard let positionInfo = store.info(positions), let wordInfo = store.info(word), positionInfo.shape.count == 2,
              wordInfo.shape.count == 2 else {
            throw LSGError(.shapeMismatch, "stage '\(name)': source embeddings are not matrices")
        }
        let offset = target.family.positionOffset
        let width = positionInfo.shape[1]
        let positionRows = positionInfo.shape[0] - offset
        _ = try GlobalInitialization.strideStep(sourceRows: positionRows, stride: options.globalStride)

        let vocabulary = wordInfo.shape[0]
        let bos = source.tokenizer.sequenceStartId(config: source.config)
        let mask = source.tokenizer.maskTokenId
        guard let bos, (0..<vocabulary).contains(bos) else {
            throw LSGError(.malformed, "\(source.url.path): no usable bos/cls token id in the tokenizer files or config.json (got \(bos.map(String.init) ?? "none"))")
        }
        if !options.randomGlobalInit {
            guard let mask, (0..<vocabulary).contains(mask) else {
                throw LSGError(.malformed, "\(source.url.path): no usable mask token id in the tokenizer files (got \(mask.map(String.init) ?? "none"))")
            }
        }
        context.sequenceStartId = bos
        context.maskTokenId = mask
        context.report.changes.append("special ids: \(source.tokenizer.idSummary(config: source.config))")

        let random = options.randomGlobalInit
        let stride = options.globalStride
        let seed = options.seed
        global.content = .computed {
            var normal = SeededNormal(seed: seed, stream: globalName)
            let table = try store.floats(positions)
            var rows = try GlobalInitialization.orderPositions(
                Array(table[(offset * width)...]), rows: positionRows, width: width, stride: stride, normal: &normal).values
            let typeRow = try tokenType.map { try store.floats($0, rows: 0..<1) }
            // Only the fitted normal needs the whole word table; the rule reads two of its rows.
            func wordRow(_ id: Int) throws -> [Float] { try store.floats(word, rows: id..<(id + 1)) }
            if random {
                var sampled = try GlobalInitialization.sampleFittedNormal(
                    try store.floats(word), rows: vocabulary, width: width, count: GlobalInitialization.rows, normal: &normal).values
                sampled.replaceSubrange(0..<width, with: try wordRow(bos))
                if let typeRow {
                    for index in rows.indices { rows[index] += typeRow[index % width] }
                    for column in 0..<width { sampled[column] += typeRow[column] }
                }
                for index in rows.indices { rows[index] = sampled[index] + rows[index] }
            } else {
                let bosRow = try wordRow(bos), maskRow = try wordRow(mask!)
                for column in 0..<width { rows[column] += bosRow[column] }
                for row in 1..<GlobalInitialization.rows {
                    for column in 0..<width { rows[row * width + column] += maskRow[column] }
                }
                if let typeRow {
                    for index in rows.indices { rows[index] += typeRow[index % width] }
                }
            }
            if keepFirst, let existingGlobal {
                let kept = try store.floats(existingGlobal)
                rows.replaceSubrange(0..<width, with: kept[0..<width])
            }
            return rows
        }
        global.shape = [GlobalInitialization.rows, width]
        let inputs = [positions, word] + (tokenType.map { [$0] } ?? []) + (keepFirst ? [existingGlobal!] : [])
        let paddedRows = max(GlobalInitialization.rows - positionRows, 0)
        var detail = random
            ? "normal fitted to the word embeddings (seed \(seed)), row 0 = word[\(bos)], plus positions reordered with stride \(stride)"
            : "positions reordered with stride \(stride), row 0 += word[\(bos)], rows 1... += word[\(mask!)]"
        if tokenType != nil { detail += ", += token_type[0]" }
        if keepFirst { detail += ", row 0 kept from the source" }
        if paddedRows > 0 { detail += ", \(paddedRows) random rows padding \(positionRows) positions" }
        global.provenance = context.provenance(random ? "sampled" : "initialized", inputs, detail)
        context.tensors.set(global)
        context.report.changes.append("global embeddings: 512 rows, \(detail)")
        if paddedRows > 0 {
            context.report.warnings.append("only \(positionRows) source positions: \(paddedRows) global rows are random normal rows (seed \(seed))")
        }
    }

    /// The source tensor a planned tensor is read from (for a table extend-positions computed
    /// again, the source table it replaced).
    private func sourceName(of name: String, in context: ConversionContext) throws -> String {
        switch context.tensors[name] {
        case let tensor? where tensor.provenance.operation == "computed" && tensor.provenance.inputs.count == 1:
            return tensor.provenance.inputs[0]
        case let tensor?:
            switch tensor.content {
            case .source(let source): return source
            case .rows(let source, _): return source
            case .computed: break
            }
        case nil: break
        }
        throw LSGError(.invalidOption, "stage '\(self.name)': \(name) does not come from the source")
    }
}
