import CZstd
import Foundation
import LSGErrors

extension Zstd {
    /// The decompressed size that `data` declares: it must be exactly one zstd frame whose header
    /// states its content size (what `compress` writes). A reader checks it against its limits
    /// before decompressing anything, so a small hostile file cannot make it allocate gigabytes.
    public static func declaredContentSize(of data: Data) throws -> Int {
        try data.withUnsafeBytes { bytes in
            let size = ZSTD_getFrameContentSize(bytes.baseAddress, bytes.count)
            if size == ZSTD_CONTENTSIZE_ERROR { throw LSGError(.malformed, "not zstd data (no valid frame header)") }
            if size == ZSTD_CONTENTSIZE_UNKNOWN {
                throw LSGError(.malformed, "the zstd frame does not declare its content size")
            }
            let frameBytes = ZSTD_findFrameCompressedSize(bytes.baseAddress, bytes.count)
            if ZSTD_isError(frameBytes) != 0 {
                throw LSGError(.malformed, "corrupt zstd data: \(String(cString: ZSTD_getErrorName(frameBytes)))")
            }
            guard frameBytes == bytes.count else {
                throw LSGError(.malformed, "\(bytes.count - frameBytes) bytes follow the zstd frame (only one frame is read)")
            }
            guard let exact = Int(exactly: size) else {
                throw LSGError(.limitExceeded, "the zstd frame declares \(size) bytes, more than this machine can address")
            }
            return exact
        }
    }

    /// The first `count` decompressed bytes of `data` (fewer when the content is shorter), without
    /// decompressing the rest.
    public static func decompressPrefix(_ data: Data, count: Int) throws -> Data {
        guard let stream = ZSTD_createDCtx() else { throw LSGError(.internal, "cannot allocate a zstd decompression context") }
        defer { ZSTD_freeDCtx(stream) }
        var prefix = Data(count: count)
        let produced = try data.withUnsafeBytes { input in
            try prefix.withUnsafeMutableBytes { output in
                var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
                var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: count, pos: 0)
                while outBuffer.pos < count && inBuffer.pos < inBuffer.size {
                    let hint = try LSGError.checkZstd(ZSTD_decompressStream(stream, &outBuffer, &inBuffer), "corrupt zstd data")
                    if hint == 0 { break }  // the frame ended
                }
                return outBuffer.pos
            }
        }
        return prefix.prefix(produced)
    }
}
