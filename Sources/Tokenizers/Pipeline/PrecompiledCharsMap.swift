import Foundation
import LSGErrors

/// sentencepiece's precompiled normalization map (`normalizer_spec.precompiled_charsmap`, the
/// `Precompiled` normalizer of tokenizer.json): a little-endian u32 trie size in bytes, a
/// double-array trie (darts-clone units) over UTF-8 strings whose values are offsets into the
/// blob of NUL-terminated replacements that follows it.
struct PrecompiledCharsMap: Sendable {
    private let units: [UInt32]
    private let replacements: [UInt8]

    init(_ data: [UInt8], path: String) throws(LSGError) {
        guard data.count >= 4 else { throw LSGError(.malformed, file: path, "precompiled_charsmap is \(data.count) bytes, too short for its trie size") }
        let trieBytes = Int(UInt32(data[0]) | UInt32(data[1]) << 8 | UInt32(data[2]) << 16 | UInt32(data[3]) << 24)
        guard trieBytes % 4 == 0, trieBytes <= data.count - 4, trieBytes > 0 else {
            throw LSGError(.malformed, file: path, "precompiled_charsmap declares a trie of \(trieBytes) bytes in \(data.count - 4)")
        }
        var units: [UInt32] = []
        units.reserveCapacity(trieBytes / 4)
        for offset in stride(from: 4, to: 4 + trieBytes, by: 4) {
            units.append(UInt32(data[offset]) | UInt32(data[offset + 1]) << 8 | UInt32(data[offset + 2]) << 16 | UInt32(data[offset + 3]) << 24)
        }
        self.units = units
        replacements = Array(data[(4 + trieBytes)...])
    }

    /// The replacement of the shortest key that is a prefix of `key` (spm_precompiled's
    /// `transform`, which takes the first result of a common prefix search).
    func replacement(forPrefixOf key: some Sequence<UInt8>) -> [Unicode.Scalar]? {
        var position = 0
        guard !units.isEmpty else { return nil }
        var unit = units[0]
        position ^= Self.offset(unit)
        for byte in key {
            if byte == 0 { break }
            position ^= Int(byte)
            guard position < units.count else { return nil }
            unit = units[position]
            guard Self.label(unit) == UInt32(byte) else { return nil }
            position ^= Self.offset(unit)
            if Self.hasLeaf(unit) {
                guard position < units.count else { return nil }
                return replacement(at: Int(units[position] & 0x7FFF_FFFF))
            }
        }
        return nil
    }

    private func replacement(at start: Int) -> [Unicode.Scalar]? {
        guard start < replacements.count else { return nil }
        var end = start
        while end < replacements.count && replacements[end] != 0 { end += 1 }
        return String(decoding: replacements[start..<end], as: UTF8.self).unicodeScalars.map { $0 }
    }

    private static func hasLeaf(_ unit: UInt32) -> Bool { (unit >> 8) & 1 == 1 }
    private static func label(_ unit: UInt32) -> UInt32 { unit & ((1 << 31) | 0xFF) }
    private static func offset(_ unit: UInt32) -> Int { Int((unit >> 10) << ((unit & (1 << 9)) >> 6)) }

    /// The Precompiled normalizer: each grapheme cluster shorter than 6 UTF-8 bytes is looked up
    /// whole; otherwise (or when that finds nothing) each of its scalars is looked up alone.
    func apply(to text: inout NormalizedText) {
        var changes: [(Unicode.Scalar, Int)] = []
        changes.reserveCapacity(text.count)
        var modified = false
        let scalars = text.scalars
        text.forEachCluster { range, cluster in
            guard let cluster else {
                // A lone ASCII scalar: the cluster and scalar lookups are the same one-byte lookup.
                let scalar = scalars[range.lowerBound]
                if let new = replacement(forPrefixOf: CollectionOfOne(UInt8(scalar.value))) {
                    appendReplacement(old: 1, new: new, to: &changes)
                    modified = true
                } else {
                    changes.append((scalar, 0))
                }
                return
            }
            let utf8 = cluster.utf8
            if utf8.count < 6, let new = replacement(forPrefixOf: utf8) {
                appendReplacement(old: range.count, new: new, to: &changes)
                modified = true
                return
            }
            for scalar in cluster.unicodeScalars {
                if let new = replacement(forPrefixOf: String(scalar).utf8) {
                    appendReplacement(old: 1, new: new, to: &changes)
                    modified = true
                } else {
                    changes.append((scalar, 0))
                }
            }
        }
        if modified { text.transform(changes) }
    }
}
