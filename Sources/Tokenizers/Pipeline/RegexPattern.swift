/// A regular expression of a tokenizer.json (Oniguruma syntax in `tokenizers`). The expressions
/// every common tokenizer runs on each text are matched by hand; any other runs on Swift's `Regex`.
struct RegexPattern: @unchecked Sendable {
    private enum Engine {
        case gpt2
        case wordsOrSymbols
        case repeatedScalar(Unicode.Scalar, minimum: Int)
        case general(Regex<AnyRegexOutput>)
    }

    static let gpt2Source = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let wordsOrSymbolsSource = #"\w+|[^\w\s]+"#

    let source: String
    private let engine: Engine

    /// Nil when Swift's `Regex` cannot compile the expression.
    init?(_ source: String) {
        self.source = source
        if source == Self.gpt2Source {
            engine = .gpt2
        } else if source == Self.wordsOrSymbolsSource {
            engine = .wordsOrSymbols
        } else if let repeated = Self.repeatedScalar(source) {
            engine = .repeatedScalar(repeated.scalar, minimum: repeated.minimum)
        } else if let regex = try? Regex(source) {
            engine = .general(regex.matchingSemantics(.unicodeScalar))
        } else {
            return nil
        }
    }

    /// `X{n,}` or `X+` with X one plain scalar, as the sentencepiece converters' `" {2,}"`.
    private static func repeatedScalar(_ source: String) -> (scalar: Unicode.Scalar, minimum: Int)? {
        let scalars = Array(source.unicodeScalars)
        guard let first = scalars.first, first.properties.isAlphabetic || first == " " else { return nil }
        let rest = String(String.UnicodeScalarView(scalars.dropFirst()))
        if rest == "+" { return (first, 1) }
        guard rest.hasPrefix("{"), rest.hasSuffix(",}"), let minimum = Int(rest.dropFirst().dropLast(2)), minimum > 0 else { return nil }
        return (first, minimum)
    }

    /// The non-overlapping matches, leftmost first.
    func matches(in scalars: [Unicode.Scalar]) -> [Range<Int>] {
        switch engine {
        case .gpt2: return GPT2Splitter.matches(in: scalars)
        case .wordsOrSymbols: return Self.wordsOrSymbols(in: scalars)
        case .repeatedScalar(let target, let minimum):
            var found: [Range<Int>] = []
            var index = 0
            while index < scalars.count {
                guard scalars[index] == target else { index += 1; continue }
                var end = index + 1
                while end < scalars.count && scalars[end] == target { end += 1 }
                if end - index >= minimum { found.append(index..<end) }
                index = end
            }
            return found
        case .general(let regex):
            let text = String(String.UnicodeScalarView(scalars))
            var found: [Range<Int>] = []
            var scalarIndex = 0
            var position = text.unicodeScalars.startIndex
            func offset(of index: String.Index) -> Int {
                scalarIndex += text.unicodeScalars.distance(from: position, to: index)
                position = index
                return scalarIndex
            }
            for match in text.matches(of: regex) {
                let start = offset(of: match.range.lowerBound)
                found.append(start..<offset(of: match.range.upperBound))
            }
            return found
        }
    }

    /// `\w+|[^\w\s]+` (the Whitespace pre-tokenizer).
    private static func wordsOrSymbols(in scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var found: [Range<Int>] = []
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if ScalarClass.isWhitespace(scalar) { index += 1; continue }
            let word = ScalarClass.isWord(scalar)
            var end = index + 1
            while end < scalars.count, !ScalarClass.isWhitespace(scalars[end]), ScalarClass.isWord(scalars[end]) == word { end += 1 }
            found.append(index..<end)
            index = end
        }
        return found
    }
}

/// GPT-2's pre-tokenization expression, matched by hand:
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
enum GPT2Splitter {
    private enum Kind { case letter, number, space, other }

    private static func kind(_ scalar: Unicode.Scalar) -> Kind {
        if ScalarClass.isWhitespace(scalar) { return .space }
        if ScalarClass.isLetter(scalar) { return .letter }
        if ScalarClass.isNumber(scalar) { return .number }
        return .other
    }

    static func matches(in scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var found: [Range<Int>] = []
        found.reserveCapacity(scalars.count / 4 + 1)
        var index = 0
        let count = scalars.count
        while index < count {
            let end = matchEnd(scalars, from: index)
            found.append(index..<end)
            index = end
        }
        return found
    }

    private static func matchEnd(_ scalars: [Unicode.Scalar], from start: Int) -> Int {
        let count = scalars.count
        let first = scalars[start]
        if first == "'" && start + 1 < count {
            let next = scalars[start + 1]
            if next == "s" || next == "t" || next == "m" || next == "d" { return start + 2 }
            if start + 2 < count {
                let third = scalars[start + 2]
                if (next == "r" && third == "e") || (next == "v" && third == "e") || (next == "l" && third == "l") { return start + 3 }
            }
        }
        var body = start
        if first == " " && start + 1 < count && kind(scalars[start + 1]) != .space { body = start + 1 }
        let bodyKind = kind(scalars[body])
        if bodyKind != .space {
            var end = body + 1
            while end < count && kind(scalars[end]) == bodyKind { end += 1 }
            return end
        }
        var end = start + 1
        while end < count && kind(scalars[end]) == .space { end += 1 }
        if end < count && end - start > 1 { return end - 1 }
        return end
    }
}
