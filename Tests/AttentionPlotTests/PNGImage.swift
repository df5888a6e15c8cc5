import Foundation

/// Just enough PNG reading to check a screenshot's pixels: 8-bit RGB or RGBA, not interlaced.
/// Inflates with the system zlib, loaded at run time (the rendering test needs Chromium anyway,
/// so the package does not link zlib for it).
struct PNGImage {
    let width: Int
    let height: Int
    /// RGBA, row-major.
    let pixels: [UInt8]

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func rgb(x: Int, y: Int) -> (r: Int, g: Int, b: Int) {
        let at = (y * width + x) * 4
        return (Int(pixels[at]), Int(pixels[at + 1]), Int(pixels[at + 2]))
    }

    init(contentsOf url: URL) throws {
        let data = [UInt8](try Data(contentsOf: url))
        guard data.count > 8, data.prefix(8).elementsEqual([137, 80, 78, 71, 13, 10, 26, 10]) else {
            throw Failure(description: "\(url.path): not a PNG")
        }
        func be32(_ at: Int) -> Int { data[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        var offset = 8
        var width = 0, height = 0, colourType = 0
        var compressed: [UInt8] = []
        while offset + 8 <= data.count {
            let length = be32(offset)
            let type = String(decoding: data[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let body = data[(offset + 8)..<(offset + 8 + length)]
            switch type {
            case "IHDR":
                width = be32(offset + 8)
                height = be32(offset + 12)
                colourType = Int(body[body.startIndex + 9])
                guard body[body.startIndex + 8] == 8, [2, 6].contains(colourType), body[body.startIndex + 12] == 0 else {
                    throw Failure(description: "\(url.path): only 8-bit RGB/RGBA non-interlaced PNGs are read")
                }
            case "IDAT":
                compressed += body
            default:
                break
            }
            offset += 12 + length
        }
        let channels = colourType == 6 ? 4 : 3
        let stride = width * channels
        let raw = try Self.inflate(compressed, expected: height * (stride + 1))
        var rows = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            for i in 0..<stride {
                let x = raw[y * (stride + 1) + 1 + i]
                let a = i >= channels ? Int(rows[y * stride + i - channels]) : 0
                let b = y > 0 ? Int(rows[(y - 1) * stride + i]) : 0
                let c = y > 0 && i >= channels ? Int(rows[(y - 1) * stride + i - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
                    predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw Failure(description: "\(url.path): bad filter \(filter) in row \(y)")
                }
                rows[y * stride + i] = UInt8((Int(x) + predictor) & 0xff)
            }
        }
        var rgba = [UInt8](repeating: 255, count: width * height * 4)
        for pixel in 0..<(width * height) {
            for channel in 0..<channels { rgba[pixel * 4 + channel] = rows[pixel * channels + channel] }
        }
        self.width = width
        self.height = height
        pixels = rgba
    }

    private typealias Uncompress = @convention(c) (
        UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt>, UnsafePointer<UInt8>, UInt
    ) -> Int32

    private static func inflate(_ input: [UInt8], expected: Int) throws -> [UInt8] {
        guard let library = dlopen("libz.so.1", RTLD_NOW) ?? dlopen("libz.dylib", RTLD_NOW),
              let symbol = dlsym(library, "uncompress") else {
            throw Failure(description: "zlib not found")
        }
        let uncompress = unsafeBitCast(symbol, to: Uncompress.self)
        var output = [UInt8](repeating: 0, count: expected)
        var size = UInt(expected)
        let status = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { uncompress(out.baseAddress!, &size, $0.baseAddress!, UInt($0.count)) }
        }
        guard status == 0, size == UInt(expected) else { throw Failure(description: "zlib uncompress failed (\(status))") }
        return output
    }
}
