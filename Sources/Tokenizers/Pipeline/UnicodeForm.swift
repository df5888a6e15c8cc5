import Foundation

/// Unicode normalization forms, applied with alignment tracking: each grapheme cluster is
/// normalized on its own (normalization never crosses one), and its new scalars replace its old
/// ones in order, extra new ones aligned with the last old one, as `tokenizers` aligns them.
enum UnicodeForm: String, Sendable {
    case nfc = "NFC", nfd = "NFD", nfkc = "NFKC", nfkd = "NFKD"

    func normalize(_ string: String) -> String {
        switch self {
        case .nfc: string.precomposedStringWithCanonicalMapping
        case .nfd: string.decomposedStringWithCanonicalMapping
        case .nfkc: string.precomposedStringWithCompatibilityMapping
        case .nfkd: string.decomposedStringWithCompatibilityMapping
        }
    }

    func apply(to text: inout NormalizedText) {
        guard text.scalars.contains(where: { !$0.isASCII }) else { return }
        var changes: [(Unicode.Scalar, Int)] = []
        changes.reserveCapacity(text.count)
        let scalars = text.scalars
        text.forEachCluster { range, cluster in
            guard let cluster, !cluster.unicodeScalars.allSatisfy(\.isASCII) else {
                for scalar in scalars[range] { changes.append((scalar, 0)) }
                return
            }
            appendReplacement(old: range.count, new: Array(normalize(String(cluster)).unicodeScalars), to: &changes)
        }
        text.transform(changes)
    }
}

/// The changes replacing `old` scalars by `new` ones, as `tokenizers`' `replace` helper of the
/// Precompiled normalizer makes them: one for one, then extra new ones inserted, or the
/// remaining old ones removed with the last new one.
func appendReplacement(old: Int, new: [Unicode.Scalar], to changes: inout [(Unicode.Scalar, Int)]) {
    for scalar in new { changes.append((scalar, 0)) }
    let difference = new.count - old
    if difference > 0 {
        for index in (changes.count - difference)..<changes.count { changes[index].1 = 1 }
    } else if difference < 0, let last = changes.indices.last {
        // With nothing before (the first scalars mapped to nothing) `tokenizers` drops the removal too.
        changes[last].1 += difference
    }
}
