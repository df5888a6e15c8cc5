import Checkpoint
import LSGEncoder
import LSGErrors
import Tokenizers

/// Token classification as transformers' `TokenClassificationPipeline`: per-token labels
/// (`none`) or B-/I- runs grouped into entities (`simple`); tokens labelled `O` are left out.
public enum TokenClassification {
    public enum Aggregation: String, Sendable, CaseIterable {
        case none, simple
    }

    /// One token's best label (`aggregation_strategy="none"`).
    public struct TokenLabel: Sendable, Equatable {
        public let entity: String
        public let score: Float
        /// The token's position in the encoding.
        public let index: Int
        public let word: String
        /// Character offsets (Unicode scalars, as Python counts them) into the text.
        public let start: Int
        public let end: Int
    }

    /// A run of tokens with one entity type (`aggregation_strategy="simple"`).
    public struct EntityGroup: Sendable, Equatable {
        public let entityGroup: String
        /// The mean of the tokens' scores.
        public let score: Float
        public let word: String
        public let start: Int
        public let end: Int
    }

    public enum Result: Sendable, Equatable {
        case tokens([TokenLabel])
        case groups([EntityGroup])
    }

    public static let ignoredLabels: Set = ["O"]

    public static func classify(
        _ text: String, model: TextModel, aggregation: Aggregation = .simple, maxLength: Int? = nil,
        options: EncodeOptions = EncodeOptions()
    ) throws -> Result {
        let encoding = try model.tokenize(text, maxLength: maxLength)
        let output = try model.run(encoding, options: options)
        guard let logits = output.taskOutputs.first(where: { $0.name == "logits" })?.values else {
            throw LSGError(.internal, "the encoder computed no token logits")
        }
        let count = encoding.ids.count
        let width = logits.count / max(count, 1)
        let labels = model.directory.config.labels
        let tokenizer = model.tokenizer
        let unknownID = tokenizer.specialTokens.id(.unk)
        let scalars = Array(text.unicodeScalars)
        var tokens: [TokenLabel] = []
        for index in 0..<count where encoding.specialTokensMask[index] == 0 {
            let scores = Scores.softmax(logits[(index * width)..<((index + 1) * width)])
            let best = Scores.top(1, of: scores)[0]
            let (start, end) = (encoding.offsets[index].lowerBound, encoding.offsets[index].upperBound)
            var word = tokenizer.token(forID: encoding.ids[index]) ?? ""
            if encoding.ids[index] == unknownID {
                word = String(String.UnicodeScalarView(scalars[max(0, min(start, scalars.count))..<max(0, min(end, scalars.count))]))
            }
            tokens.append(TokenLabel(
                entity: labels[best] ?? "LABEL_\(best)", score: scores[best], index: index, word: word, start: start, end: end))
        }
        switch aggregation {
        case .none:
            return .tokens(tokens.filter { !ignoredLabels.contains($0.entity) })
        case .simple:
            return .groups(group(tokens, tokenizer: tokenizer).filter { !ignoredLabels.contains($0.entityGroup) })
        }
    }

    /// "B-PER" → ("B", "PER"); "I-PER" → ("I", "PER"); anything else continues: ("I", label).
    static func tag(_ label: String) -> (bi: String, tag: String) {
        if label.hasPrefix("B-") { return ("B", String(label.dropFirst(2))) }
        if label.hasPrefix("I-") { return ("I", String(label.dropFirst(2))) }
        return ("I", label)
    }

    /// Consecutive tokens of one tag form a group until a B- token starts the next.
    static func group(_ tokens: [TokenLabel], tokenizer: Tokenizer) -> [EntityGroup] {
        var groups: [EntityGroup] = []
        var current: [TokenLabel] = []
        func close() {
            guard let first = current.first, let last = current.last else { return }
            // The label after its first "-" (transformers' split("-", 1)[-1]).
            let label = first.entity.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).last.map(String.init) ?? first.entity
            let mean = current.reduce(Float(0)) { $0 + $1.score } / Float(current.count)
            groups.append(EntityGroup(
                entityGroup: label, score: mean, word: tokenizer.convertTokensToString(current.map(\.word)),
                start: first.start, end: last.end))
        }
        for token in tokens {
            if let last = current.last {
                let this = Self.tag(token.entity)
                if this.tag == Self.tag(last.entity).tag && this.bi != "B" {
                    current.append(token)
                    continue
                }
                close()
            }
            current = [token]
        }
        close()
        return groups
    }
}
