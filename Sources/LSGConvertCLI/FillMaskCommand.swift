import ArgumentParser
import Checkpoint
import Foundation
import JSON
import TextTasks

/// `lsg-convert fill-mask MODEL TEXT`: the most likely tokens for each mask of a text.
struct FillMaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fill-mask",
        abstract: "Predict the tokens hidden behind the tokenizer's mask token (<mask>, [MASK]) in a text.",
        discussion: """
            Prints, for each mask, the top K tokens with their probabilities and the completed \
            text, as transformers' fill-mask pipeline computes them. --json prints the pipeline's \
            result: a list of {score, token, token_str, sequence} for one mask, a list of such \
            lists for several.
            """
    )

    @Argument(help: "Model directory with a masked-LM head, or a Hugging Face name found in the local cache.")
    var model: String

    @Argument(help: "The text, holding at least one mask token.")
    var text: String

    @Option(help: "Proposals per mask.")
    var topK: Int = 5

    @Option(help: "Truncate the text to this many tokens (by default a longer text than the model takes is an error).")
    var maxLength: Int?

    @Flag(help: "Print the pipeline's JSON.")
    var json = false

    @OptionGroup var lsg: LSGOptions
    @OptionGroup var runOptions: EncoderRunOptions

    func validate() throws {
        if topK < 1 { throw ValidationError("--top-k must be at least 1 (got \(topK))") }
        if let maxLength, maxLength < 1 { throw ValidationError("--max-length must be at least 1 (got \(maxLength))") }
    }

    func run() throws {
        let directory = try ModelDirectory(resolved: ModelLocator().resolve(model))
        let textModel = try TextModel(directory: directory, heads: [.mlm], overrides: lsg.overrides)
        let masks = try FillMask.predict(
            text, model: textModel, topK: topK, maxLength: maxLength, options: runOptions.encodeOptions())
        if json {
            let lists = masks.map { predictions in
                JSONValue.array(predictions.map { prediction in
                    .object(["score": .double(Double(prediction.score)), "token": .int(prediction.token),
                             "token_str": .string(prediction.tokenString), "sequence": .string(prediction.sequence)])
                })
            }
            print((lists.count == 1 ? lists[0] : .array(lists)).compactString())
            return
        }
        for (index, predictions) in masks.enumerated() {
            if masks.count > 1 { print("mask \(index + 1):") }
            for prediction in predictions {
                print("\(formattedScore(prediction.score))  \(jsonQuoted(prediction.tokenString))  \(prediction.sequence)")
            }
        }
    }
}
