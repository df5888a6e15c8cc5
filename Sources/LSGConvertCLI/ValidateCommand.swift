import ArgumentParser
import Checkpoint
import FileIO
import Foundation
import Golden
import LSGEncoder
import SafeTensors

/// `lsg-convert validate MODEL`: checks a checkpoint against golden files or its source model,
/// or records a golden file for later checks.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a checkpoint against golden outputs or its source model, or record a golden file.",
        discussion: """
            --golden FILE runs each recorded case (inputs, LSG settings and LSH draws come from the \
            file) and reports every output: shape, all values close or the max difference, NMSE. \
            Every failure is reported before exiting 1. --against SOURCE runs the short source model \
            and MODEL on a probe both can read and reports the hidden states' cosine similarity and \
            MLM top-1 agreement on masked words (or the classifier's logits); the probe is a built-in \
            multilingual paragraph, or --probe-text, tokenized by the source's tokenizer. \
            --record OUT.safetensors.zst --input IN freezes MODEL's outputs on IN as a golden file.
            """
    )

    @Argument(help: "Model directory, or a Hugging Face name found in the local cache.")
    var model: String

    @Option(help: "Golden file (.safetensors.zst) to check; repeatable.")
    var golden: [String] = []

    @Option(help: "The short model MODEL was converted from, to compare against.")
    var against: String?

    @Option(help: "Absolute tolerance (default: each golden file's own, 1e-4).")
    var atol: Double?

    @Option(help: "Relative tolerance.")
    var rtol: Double = 0

    @Option(help: "With --against: fail when the mean cosine similarity is below this (default \(ParityProbe.defaultMinimumMeanCosine)).")
    var minCosine: Double?

    @Option(help: "With --against: fail when the least similar token's cosine similarity is below this (default \(ParityProbe.defaultMinimumTokenCosine)).")
    var minTokenCosine: Double?

    @Option(help: "With --against: fail when the MLM top-1 agreement (0 to 1) is below this.")
    var minTop1: Double?

    @Option(help: "With --against, encoder-decoders: fail when the decoders' next-token agreement (0 to 1) is below this (default \(ParityProbe.defaultMinimumDecoderAgreement)).")
    var minDecoderTop1: Double?

    @Option(help: "With --against: probe length in tokens (default: the source's limit).")
    var probeLength: Int?

    @Option(help: "With --against: a UTF-8 text file to probe with instead of the built-in multilingual paragraph.")
    var probeText: String?

    @Option(help: "Record a golden file here (.safetensors.zst) instead of checking.")
    var record: String?

    @Option(help: "With --record: safetensors file with input_ids (and attention_mask, token_type_ids).")
    var input: String?

    @Option(help: "With --record: extra output to record, repeatable: \(EncoderHead.allValueStrings.joined(separator: ", ")).")
    var head: [EncoderHead] = []

    @OptionGroup var lsg: LSGOptions
    @OptionGroup var runOptions: EncoderRunOptions

    func validate() throws {
        let modes = [!golden.isEmpty, against != nil, record != nil].filter { $0 }.count
        guard modes == 1 else { throw ValidationError("give exactly one of --golden, --against or --record") }
        if record != nil, input == nil { throw ValidationError("--record needs --input") }
        if record == nil, input != nil { throw ValidationError("--input goes with --record") }
        if record == nil, !head.isEmpty { throw ValidationError("--head goes with --record") }
        if against == nil, probeLength != nil || probeText != nil || minCosine != nil || minTokenCosine != nil || minTop1 != nil || minDecoderTop1 != nil {
            throw ValidationError("--probe-length, --probe-text, --min-cosine, --min-token-cosine, --min-top1 and --min-decoder-top1 go with --against")
        }
        if !golden.isEmpty, !lsg.overrides.isEmpty {
            throw ValidationError("LSG options do not apply to --golden: each file carries its own settings")
        }
        if let atol, atol < 0 { throw ValidationError("--atol must not be negative") }
        if rtol < 0 { throw ValidationError("--rtol must not be negative") }
    }

    func run() throws {
        // Only the probe tokenizes; golden files and recordings hold token ids.
        let directory = try ModelDirectory(resolved: ModelLocator().resolve(model), readingTokenizer: against != nil)
        let options = try runOptions.encodeOptions()
        if let record, let input {
            let encoder = try Encoder(model: directory, overrides: lsg.overrides, heads: Set(head))
            let encoderInput = try EncoderInput(file: SafeTensorsFile(contentsOf: URL(fileURLWithPath: input)))
            try GoldenRecording.record(
                encoder: encoder, modelName: model, overrides: lsg.overrides, input: encoderInput, options: options,
                atol: atol ?? 1e-4, to: URL(fileURLWithPath: record))
            print("recorded \(record) (\(encoderInput.batchSize) × \(encoderInput.length) tokens)")
            return
        }
        if let against {
            let source = try ModelDirectory(resolved: ModelLocator().resolve(against))
            let text = try probeText.map { try RegularFile.text(of: URL(fileURLWithPath: $0), maxBytes: FileLimits.maxJSONFileBytes) }
            let probe = try ParityProbe(
                lsg: directory, source: source, overrides: lsg.overrides, length: probeLength, text: text,
                textOrigin: probeText.map { URL(fileURLWithPath: $0).lastPathComponent }, options: options)
            print(probe.text)
            let failures = probe.failures(
                minimumMeanCosine: minCosine ?? ParityProbe.defaultMinimumMeanCosine,
                minimumTokenCosine: minTokenCosine ?? ParityProbe.defaultMinimumTokenCosine, minimumTop1Agreement: minTop1,
                minimumDecoderAgreement: minDecoderTop1 ?? ParityProbe.defaultMinimumDecoderAgreement)
            for failure in failures { print("\t-[x] \(failure)") }
            if !failures.isEmpty { throw ExitCode(1) }
            return
        }
        var failed = 0
        for path in golden {
            let report: ValidationReport
            do {
                let golden = try GoldenCase(contentsOf: URL(fileURLWithPath: path))
                report = golden.validate(model: directory, threads: options.threads, atol: atol, rtol: rtol)
            } catch {
                report = ValidationReport(title: path, comparisons: [], errors: ["\(error)"])
            }
            print(report.text)
            if !report.passed { failed += 1 }
        }
        if failed > 0 {
            print("\(failed) of \(golden.count) golden files failed")
            throw ExitCode(1)
        }
        print("all \(golden.count) golden files passed")
    }
}
