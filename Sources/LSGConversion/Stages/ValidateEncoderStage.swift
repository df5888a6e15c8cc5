import Checkpoint
import FileIO
import Foundation
import Golden
import LSGEncoder
import LSGErrors

/// Runs the written checkpoint through our LSG encoder. With golden files (the recipe's `golden`
/// parameter, paths relative to the recipe file), each recorded case must reproduce the outputs
/// the reference recorded. Without, the converted model is compared with its source on a probe
/// both can read (`ParityProbe`): the conversion fails when the mean cosine similarity of their
/// hidden states falls below `min_cosine`, the least similar token's below `min_token_cosine`, or
/// the MLM top-1 agreement below `min_top1` (when set), or, for encoder-decoders, the decoders'
/// next-token agreement below `min_decoder_top1`. The defaults (`ParityProbe`) catch a
/// broken conversion and pass a correct one; a recipe can raise them. Skipped in a dry run.
public struct ValidateEncoderStage: Stage, ValidatingStage {
    public static let stageName = "validate-encoder"
    public var name: String { Self.stageName }

    public var goldenFiles: [URL]
    public var minimumMeanCosine: Double
    public var minimumTokenCosine: Double
    public var minimumTop1Agreement: Double?
    public var minimumDecoderAgreement: Double
    /// Probe length; nil for the source's limit.
    public var probeLength: Int?
    /// A UTF-8 text file to probe with instead of the built-in paragraph.
    public var probeText: URL?

    public init(goldenFiles: [URL] = [], minimumMeanCosine: Double = ParityProbe.defaultMinimumMeanCosine,
                minimumTokenCosine: Double = ParityProbe.defaultMinimumTokenCosine, minimumTop1Agreement: Double? = nil,
                minimumDecoderAgreement: Double = ParityProbe.defaultMinimumDecoderAgreement, probeLength: Int? = nil, probeText: URL? = nil) {
        self.goldenFiles = goldenFiles
        self.minimumMeanCosine = minimumMeanCosine
        self.minimumTokenCosine = minimumTokenCosine
        self.minimumTop1Agreement = minimumTop1Agreement
        self.minimumDecoderAgreement = minimumDecoderAgreement
        self.probeLength = probeLength
        self.probeText = probeText
    }

    public func run(_ context: ConversionContext) throws {
        guard let directory = context.stagingDirectory else { return }
        let converted = try ModelDirectory(url: directory)
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount)
        if goldenFiles.isEmpty {
            try compareWithSource(converted, context.requireSource(), threads: threads, context: context)
        } else {
            try checkGoldens(converted, threads: threads, context: context)
        }
    }

    private func checkGoldens(_ converted: ModelDirectory, threads: Int, context: ConversionContext) throws {
        var failures: [String] = []
        for url in goldenFiles {
            let report: ValidationReport
            do {
                report = try GoldenCase(contentsOf: url).validate(model: converted, threads: threads)
            } catch {
                failures.append("\(url.path): \(error)")
                continue
            }
            if report.passed {
                context.report.validation.append("encoder: \(report.summary)")
            } else {
                failures.append(report.summary)
            }
        }
        guard failures.isEmpty else {
            throw LSGError(.parityFailure, "encoder validation failed: " + failures.joined(separator: "; "))
        }
    }

    private func compareWithSource(_ converted: ModelDirectory, _ source: ModelDirectory, threads: Int,
                                   context: ConversionContext) throws {
        let probe: ParityProbe
        do {
            let text = try probeText.map { try RegularFile.text(of: $0, maxBytes: FileLimits.maxJSONFileBytes) }
            probe = try ParityProbe(lsg: converted, source: source, length: probeLength, text: text,
                                    textOrigin: probeText?.lastPathComponent, options: EncodeOptions(threads: threads))
        } catch {
            throw LSGError((error as? LSGError)?.kind ?? .internal, "encoder validation could not run: \(error)")
        }
        let failures = probe.failures(
            minimumMeanCosine: minimumMeanCosine, minimumTokenCosine: minimumTokenCosine, minimumTop1Agreement: minimumTop1Agreement,
            minimumDecoderAgreement: minimumDecoderAgreement)
        guard failures.isEmpty else {
            throw LSGError(.parityFailure, "encoder validation failed: \(probe.summary): " + failures.joined(separator: "; "))
        }
        context.report.validation.append("encoder: \(probe.summary)")
    }
}
