/// GPT-2's byte-to-character map (`bytes_to_unicode`): printable Latin-1 bytes stand for
/// themselves, the others for the characters from U+0100 up, in byte order.
enum ByteLevelAlphabet {
    static let scalarOfByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    static let byteOfScalar: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (byte, scalar) in scalarOfByte.enumerated() { map[scalar] = UInt8(byte) }
        return map
    }()

    /// Each scalar replaced by the characters of its UTF-8 bytes, all aligned with it.
    static func encode(_ text: inout NormalizedText) {
        if text.scalars.allSatisfy({ $0.isASCII }) {
            text.map { scalarOfByte[Int($0.value)] }
            return
        }
        text.expand { scalar, out in
            for byte in String(scalar).utf8 { out.append(scalarOfByte[Int(byte)]) }
        }
    }

    /// The bytes a token stands for; nil when one of its characters is not in the alphabet.
    static func bytes(of token: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        for scalar in token.unicodeScalars {
            guard let byte = byteOfScalar[scalar] else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
