/// A piece of text as `tokenizers`' `NormalizedString` tracks it: the normalized Unicode scalars
/// and, for each, the range of original scalars it came from (absolute indices into the text the
/// caller passed, so offsets come out as Python `str` indices).
struct NormalizedText: Sendable {
    var scalars: [Unicode.Scalar]
    var alignments: [Range<Int>]
    /// Where an empty piece sits in the original text.
    var originalStart: Int

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
        alignments = scalars.indices.map { $0..<($0 + 1) }
        originalStart = 0
    }

    init(scalars: [Unicode.Scalar], alignments: [Range<Int>], originalStart: Int) {
        self.scalars = scalars
        self.alignments = alignments
        self.originalStart = originalStart
    }

    var isEmpty: Bool { scalars.isEmpty }
    var count: Int { scalars.count }
    var string: String { String(String.UnicodeScalarView(scalars)) }

    /// The original range a range of normalized scalars came from: from the first one's start to
    /// the last one's end, as `NormalizedString::convert_offsets` does.
    func originalRange(of range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty else {
            let at = range.lowerBound < alignments.count ? alignments[range.lowerBound].lowerBound
                : (alignments.last?.upperBound ?? originalStart)
            return at..<at
        }
        let start = alignments[range.lowerBound].lowerBound
        return start..<max(start, alignments[range.upperBound - 1].upperBound)
    }

    /// Visits the text grapheme cluster by grapheme cluster (the range of its scalars, and the
    /// cluster). An ASCII scalar between ASCII scalars (or the ends), and not half of a CR LF, is
    /// always a cluster of its own; those are visited with a nil cluster, without building strings.
    func forEachCluster(_ body: (Range<Int>, Character?) -> Void) {
        func isLoneASCII(_ index: Int) -> Bool {
            let scalar = scalars[index]
            guard scalar.isASCII else { return false }
            if index > 0 && (!scalars[index - 1].isASCII || (scalars[index - 1] == "\r" && scalar == "\n")) { return false }
            if index + 1 < scalars.count && (!scalars[index + 1].isASCII || (scalar == "\r" && scalars[index + 1] == "\n")) { return false }
            return true
        }
        var index = 0
        while index < scalars.count {
            if isLoneASCII(index) {
                body(index..<(index + 1), nil)
                index += 1
                continue
            }
            var end = index + 1
            while end < scalars.count && !isLoneASCII(end) { end += 1 }
            var start = index
            for cluster in String(scalars: scalars[index..<end]) {
                let count = cluster.unicodeScalars.count
                body(start..<(start + count), cluster)
                start += count
            }
            index = end
        }
    }

    func slice(_ range: Range<Int>) -> NormalizedText {
        NormalizedText(scalars: Array(scalars[range]), alignments: Array(alignments[range]),
                       originalStart: originalRange(of: range).lowerBound)
    }

    /// `NormalizedString::transform`: each new scalar with its change (1 inserted, 0 replaces
    /// the next old scalar, -n replaces it and removes the n after it); `initialOffset` old
    /// scalars are removed first. An inserted scalar takes the alignment of the old scalar before it.
    mutating func transform(_ changes: [(Unicode.Scalar, Int)], initialOffset: Int = 0) {
        var offset = initialOffset
        var newScalars: [Unicode.Scalar] = []
        var newAlignments: [Range<Int>] = []
        newScalars.reserveCapacity(changes.count)
        newAlignments.reserveCapacity(changes.count)
        for (scalar, change) in changes {
            let alignment: Range<Int>
            if change > 0 {
                alignment = offset == 0 ? originalStart..<originalStart : alignments[min(offset, alignments.count) - 1]
            } else {
                alignment = offset < alignments.count ? alignments[offset] : (alignments.last ?? originalStart..<originalStart)
                offset += 1 - change
            }
            newScalars.append(scalar)
            newAlignments.append(alignment)
        }
        scalars = newScalars
        alignments = newAlignments
    }

    /// Replaces each scalar by one other scalar: alignments stay.
    mutating func map(_ transform: (Unicode.Scalar) -> Unicode.Scalar) {
        for index in scalars.indices { scalars[index] = transform(scalars[index]) }
    }

    /// Keeps the scalars `keep` accepts, each with its own alignment.
    mutating func filter(_ keep: (Unicode.Scalar) -> Bool) {
        var newScalars: [Unicode.Scalar] = []
        var newAlignments: [Range<Int>] = []
        newScalars.reserveCapacity(scalars.count)
        newAlignments.reserveCapacity(scalars.count)
        for index in scalars.indices where keep(scalars[index]) {
            newScalars.append(scalars[index])
            newAlignments.append(alignments[index])
        }
        scalars = newScalars
        alignments = newAlignments
    }

    /// Each scalar replaced by the scalars `expansion` gives (none removes it); the extra ones
    /// take the alignment of the scalar they came from.
    mutating func expand(_ expansion: (Unicode.Scalar, inout [Unicode.Scalar]) -> Void) {
        var newScalars: [Unicode.Scalar] = []
        var newAlignments: [Range<Int>] = []
        newScalars.reserveCapacity(scalars.count)
        newAlignments.reserveCapacity(scalars.count)
        var buffer: [Unicode.Scalar] = []
        for index in scalars.indices {
            buffer.removeAll(keepingCapacity: true)
            expansion(scalars[index], &buffer)
            for scalar in buffer {
                newScalars.append(scalar)
                newAlignments.append(alignments[index])
            }
        }
        scalars = newScalars
        alignments = newAlignments
    }

    /// `NormalizedString::prepend`: the new scalars take the first scalar's alignment.
    mutating func prepend(_ prefix: [Unicode.Scalar]) {
        guard let first = alignments.first else { return }
        scalars.insert(contentsOf: prefix, at: 0)
        alignments.insert(contentsOf: repeatElement(first, count: prefix.count), at: 0)
    }

    /// Removes whitespace at the start and/or the end.
    mutating func strip(left: Bool, right: Bool) {
        var start = 0
        var end = scalars.count
        if left { while start < end, ScalarClass.isWhitespace(scalars[start]) { start += 1 } }
        if right { while end > start, ScalarClass.isWhitespace(scalars[end - 1]) { end -= 1 } }
        guard start > 0 || end < scalars.count else { return }
        if start == end { originalStart = originalRange(of: start..<end).lowerBound }
        scalars = Array(scalars[start..<end])
        alignments = Array(alignments[start..<end])
    }

    /// `NormalizedString::replace`: every match of `pattern` becomes `content`, whose scalars all
    /// take the alignment of the match's last scalar.
    mutating func replace(_ pattern: TextPattern, with content: [Unicode.Scalar]) {
        let matches = pattern.matches(in: scalars)
        guard matches.contains(where: \.isMatch) else { return }
        var newScalars: [Unicode.Scalar] = []
        var newAlignments: [Range<Int>] = []
        newScalars.reserveCapacity(scalars.count)
        newAlignments.reserveCapacity(scalars.count)
        for match in matches {
            if match.isMatch {
                let alignment = match.range.lowerBound > 0 || !match.range.isEmpty
                    ? alignments[match.range.upperBound - 1] : originalStart..<originalStart
                for scalar in content {
                    newScalars.append(scalar)
                    newAlignments.append(alignment)
                }
            } else {
                newScalars.append(contentsOf: scalars[match.range])
                newAlignments.append(contentsOf: alignments[match.range])
            }
        }
        scalars = newScalars
        alignments = newAlignments
    }

    /// `NormalizedString::split`: the non-empty pieces around the matches of `pattern`.
    func split(_ pattern: TextPattern, behavior: SplitBehavior) -> [NormalizedText] {
        let matches = pattern.matches(in: scalars)
        var pieces: [(range: Range<Int>, removed: Bool)] = []
        switch behavior {
        case .isolated:
            pieces = matches.map { ($0.range, false) }
        case .removed:
            pieces = matches.map { ($0.range, $0.isMatch) }
        case .contiguous:
            var previousMatch = false
            for match in matches {
                if match.isMatch == previousMatch, let last = pieces.last {
                    pieces[pieces.count - 1].range = last.range.lowerBound..<match.range.upperBound
                } else {
                    pieces.append((match.range, false))
                }
                previousMatch = match.isMatch
            }
        case .mergedWithPrevious:
            var previousMatch = false
            for match in matches {
                if match.isMatch && !previousMatch, let last = pieces.last {
                    pieces[pieces.count - 1].range = last.range.lowerBound..<match.range.upperBound
                } else {
                    pieces.append((match.range, false))
                }
                previousMatch = match.isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for match in matches.reversed() {
                if match.isMatch && !previousMatch, let last = pieces.last {
                    pieces[pieces.count - 1].range = match.range.lowerBound..<last.range.upperBound
                } else {
                    pieces.append((match.range, false))
                }
                previousMatch = match.isMatch
            }
            pieces.reverse()
        }
        return pieces.compactMap { $0.removed || $0.range.isEmpty ? nil : slice($0.range) }
    }
}

/// What `split` does with the matches (`SplitDelimiterBehavior`).
enum SplitBehavior: String, Sendable {
    case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious",
         mergedWithNext = "MergedWithNext", contiguous = "Contiguous"
}
