import ArgumentParser
import Checkpoint
import Foundation
import JSON
import LSGEncoder
import TextTasks

/// `lsg-convert classify MODEL TEXT...`: sequence or token classification, by the model's head.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify texts (sequence classification) or their tokens (token classification, e.g. NER).",
        discussion: """
            The head comes from config.json's architectures (*ForSequenceClassification or \
            *ForTokenClassification) and the labels from its id2label. Sequence classification \
            prints every label with its score, best first (transformers' text-classification \
            pipeline with top_k=None); token classification prints the entities (the \
            token-classification pipeline, labels O left out) grouped by --aggregation. --json \
            prints the pipeline's result for each text, one JSON value per line.
            """
    )

    @Argument(help: "Model directory with a classification head, or a Hugging Face name found in the local cache.")
    var model: String

    @Argument(help: "Texts to classify.")
    var texts: [String] = []

    @OptionGroup var textFile: TextFileOption

    @Option(help: "Token classification: simple groups B-/I- runs into entities, none lists tokens.")
    var aggregation: TokenClassification.Aggregation = .simple

    @Option(help: "Truncate each text to this many tokens (by default a longer text than the model takes is an error).")
    var maxLength: Int?

    @Flag(help: "Print the pipeline's JSON, one line per text.")
    var json = false

    @OptionGroup var lsg: LSGOptions
    @OptionGroup var runOptions: EncoderRunOptions

    func validate() throws {
        if let maxLength, maxLength < 1 { throw ValidationError("--max-length must be at least 1 (got \(maxLength))") }
    }

    func run() throws {
        let inputs = texts + (try textFile.lines())
        guard !inputs.isEmpty else { throw ValidationError("give at least one text, or --text-file") }
        let directory = try ModelDirectory(resolved: ModelLocator().resolve(model))
        let head = try Self.head(of: directory)
        let textModel = try TextModel(directory: directory, heads: [head], overrides: lsg.overrides)
        let options = try runOptions.encodeOptions()
        for (index, text) in inputs.enumerated() {
            let result: JSONValue
            var lines: [String] = []
            if head == .sequenceClassification {
                let scores = try TextClassification.classify(text, model: textModel, maxLength: maxLength, options: options)
                result = .array(scores.map { .object(["label": .string($0.label), "score": .double(Double($0.score))]) })
                lines = scores.map { "\(formattedScore($0.score))  \($0.label)" }
            } else {
                switch try TokenClassification.classify(
                    text, model: textModel, aggregation: aggregation, maxLength: maxLength, options: options) {
                case .tokens(let tokens):
                    result = .array(tokens.map { token in
                        .object(["entity": .string(token.entity), "score": .double(Double(token.score)),
                                 "index": .int(token.index), "word": .string(token.word), "start": .int(token.start),
                                 "end": .int(token.end)])
                    })
                    lines = tokens.map { "\(formattedScore($0.score))  \($0.entity)  \(jsonQuoted($0.word)) [\($0.start), \($0.end))" }
                case .groups(let groups):
                    result = .array(groups.map { group in
                        .object(["entity_group": .string(group.entityGroup), "score": .double(Double(group.score)),
                                 "word": .string(group.word), "start": .int(group.start), "end": .int(group.end)])
                    })
                    lines = groups.map { "\(formattedScore($0.score))  \($0.entityGroup)  \(jsonQuoted($0.word)) [\($0.start), \($0.end))" }
                }
            }
            if json {
                print(result.compactString())
            } else {
                if inputs.count > 1 { print("text \(index + 1):") }
                lines.forEach { print($0) }
                if lines.isEmpty { print("  (no entities)") }
            }
        }
    }

    /// The classification head `architectures` names.
    static func head(of directory: ModelDirectory) throws -> EncoderHead {
        let configPath = directory.url.appendingPathComponent("config.json").path
        guard let architecture = directory.config.namedArchitecture else {
            let named = directory.config.architectures?.first.map { "names \($0)" } ?? "names no architecture"
            throw ValidationError("\(configPath): architectures \(named); classify needs a *ForSequenceClassification or *ForTokenClassification model")
        }
        guard let head = EncoderHead(taskHead: architecture.head), head == .sequenceClassification || head == .tokenClassification else {
            let named = directory.config.architectures?.first ?? architecture.className
            throw ValidationError("\(configPath): \(named) has no classification head; classify needs a *ForSequenceClassification or *ForTokenClassification model")
        }
        return head
    }
}

extension TokenClassification.Aggregation: ExpressibleByArgument {}
