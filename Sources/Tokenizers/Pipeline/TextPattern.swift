/// What `tokenizers` splits or replaces on (its `Pattern` trait): one scalar, a literal string, a
/// scalar class (each matching scalar is its own match), a regular expression, or the inverse
/// of one of these.
indirect enum TextPattern: Sendable {
    case scalar(Unicode.Scalar)
    case literal([Unicode.Scalar])
    case scalarClass(@Sendable (Unicode.Scalar) -> Bool)
    case regex(RegexPattern)
    case inverted(TextPattern)

    /// The whole text cut into consecutive ranges, each a match or not (`find_matches`). An
    /// empty text is one empty non-match.
    func matches(in scalars: [Unicode.Scalar]) -> [(range: Range<Int>, isMatch: Bool)] {
        guard !scalars.isEmpty else { return [(0..<0, false)] }
        switch self {
        case .scalar(let target):
            return Self.around(scalars.indices.lazy.filter { scalars[$0] == target }.map { $0..<($0 + 1) }, count: scalars.count)
        case .scalarClass(let isMember):
            return Self.around(scalars.indices.lazy.filter { isMember(scalars[$0]) }.map { $0..<($0 + 1) }, count: scalars.count)
        case .literal(let literal):
            guard !literal.isEmpty else { return [(0..<scalars.count, false)] }
            var found: [Range<Int>] = []
            var index = 0
            while index + literal.count <= scalars.count {
                if scalars[index] == literal[0] && scalars[index..<(index + literal.count)].elementsEqual(literal) {
                    found.append(index..<(index + literal.count))
                    index += literal.count
                } else {
                    index += 1
                }
            }
            return Self.around(found, count: scalars.count)
        case .regex(let regex):
            return Self.around(regex.matches(in: scalars), count: scalars.count)
        case .inverted(let pattern):
            return pattern.matches(in: scalars).map { ($0.range, !$0.isMatch) }
        }
    }

    /// The matches with the gaps between them.
    private static func around<Found: Sequence<Range<Int>>>(_ found: Found, count: Int) -> [(range: Range<Int>, isMatch: Bool)] {
        var result: [(range: Range<Int>, isMatch: Bool)] = []
        var previous = 0
        for match in found {
            if previous != match.lowerBound { result.append((previous..<match.lowerBound, false)) }
            result.append((match, true))
            previous = match.upperBound
        }
        if previous != count { result.append((previous..<count, false)) }
        return result
    }
}
