import CZstd
import Foundation
import LSGErrors

extension LSGError {
    /// `code`, or the zstd error it stands for, described after `context`.
    static func checkZstd(_ code: Int, _ context: String) throws -> Int {
        if ZSTD_isError(code) != 0 {
            throw LSGError(.malformed, "\(context): \(String(cString: ZSTD_getErrorName(code)))")
        }
        return code
    }
}

/// Streaming compressor: feed chunks with `compress`, then call `finish` once.
public final class ZstdCompressor {
    private let stream: OpaquePointer
    private var output: [UInt8]

    /// `contentSize`, when known, is written into the frame header (readers may require it to
    /// bound their memory before decompressing); the input must then be exactly that long.
    public init(level: Int32 = 19, contentSize: Int? = nil) throws {
        guard let stream = ZSTD_createCCtx() else { throw LSGError(.internal, "cannot allocate a zstd compression context") }
        self.stream = stream
        self.output = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
        _ = try LSGError.checkZstd(ZSTD_CCtx_setParameter(stream, ZSTD_c_compressionLevel, level), "zstd level \(level)")
        if let contentSize {
            _ = try LSGError.checkZstd(ZSTD_CCtx_setPledgedSrcSize(stream, UInt64(contentSize)), "zstd content size")
        }
        // A fixed single-threaded configuration keeps the compressed bytes identical from run to run.
        _ = try LSGError.checkZstd(ZSTD_CCtx_setParameter(stream, ZSTD_c_checksumFlag, 1), "zstd checksum flag")
    }

    deinit { ZSTD_freeCCtx(stream) }

    /// Compresses `input` and passes every produced byte range to `sink`.
    public func compress(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try run(input, directive: ZSTD_e_continue, sink: sink)
    }

    /// Ends the frame; the compressor cannot be used afterwards.
    public func finish(into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try run(UnsafeRawBufferPointer(start: nil, count: 0), directive: ZSTD_e_end, sink: sink)
    }

    private func run(
        _ input: UnsafeRawBufferPointer,
        directive: ZSTD_EndDirective,
        sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        let capacity = output.count
        while true {
            let (remaining, produced) = try output.withUnsafeMutableBytes { out -> (Int, Int) in
                var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: capacity, pos: 0)
                let remaining = try LSGError.checkZstd(
                    ZSTD_compressStream2(stream, &outBuffer, &inBuffer, directive), "zstd compression")
                return (remaining, outBuffer.pos)
            }
            if produced > 0 {
                try output.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
            }
            let inputDone = inBuffer.pos == inBuffer.size
            if directive == ZSTD_e_end ? remaining == 0 : inputDone && produced < capacity { return }
        }
    }
}

/// Streaming decompressor: feed compressed chunks with `decompress`, then `finish` checks the frame ended.
public final class ZstdDecompressor {
    private let stream: OpaquePointer
    private var output: [UInt8]
    private var frameComplete = true
    private var totalOutput = 0
    private let maxOutputBytes: Int

    /// `maxOutputBytes` bounds the decompressed size, so a hostile file cannot exhaust memory or disk.
    public init(maxOutputBytes: Int = Int.max) throws {
        guard let stream = ZSTD_createDCtx() else { throw LSGError(.internal, "cannot allocate a zstd decompression context") }
        self.stream = stream
        self.output = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
        self.maxOutputBytes = maxOutputBytes
    }

    deinit { ZSTD_freeDCtx(stream) }

    public func decompress(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        let capacity = output.count
        while true {
            let (hint, produced) = try output.withUnsafeMutableBytes { out -> (Int, Int) in
                var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: capacity, pos: 0)
                let hint = try LSGError.checkZstd(ZSTD_decompressStream(stream, &outBuffer, &inBuffer), "corrupt zstd data")
                return (hint, outBuffer.pos)
            }
            frameComplete = hint == 0
            totalOutput += produced
            if totalOutput > maxOutputBytes {
                throw LSGError(.limitExceeded, "decompressed data exceeds the limit of \(maxOutputBytes) bytes")
            }
            if produced > 0 {
                try output.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
            }
            if inBuffer.pos == inBuffer.size && produced < capacity { return }
        }
    }

    /// Throws when the input ended in the middle of a frame (a truncated file).
    public func finish() throws {
        if !frameComplete { throw LSGError(.malformed, "truncated zstd data (the frame does not end)") }
    }
}

/// One-shot and file helpers over the streaming types.
public enum Zstd {
    public static func compress(_ data: Data, level: Int32 = 19) throws -> Data {
        let compressor = try ZstdCompressor(level: level, contentSize: data.count)
        var result = Data()
        let append: (UnsafeRawBufferPointer) -> Void = { result.append(contentsOf: $0) }
        try data.withUnsafeBytes { try compressor.compress($0, into: append) }
        try compressor.finish(into: append)
        return result
    }

    public static func decompress(_ data: Data, maxOutputBytes: Int = Int.max) throws -> Data {
        let decompressor = try ZstdDecompressor(maxOutputBytes: maxOutputBytes)
        var result = Data()
        try data.withUnsafeBytes { bytes in
            if bytes.isEmpty { throw LSGError(.malformed, "empty input is not zstd data") }
            try decompressor.decompress(bytes) { result.append(contentsOf: $0) }
        }
        try decompressor.finish()
        return result
    }

    /// Reads and decompresses a whole `.zst` file; errors name the file.
    public static func decompressFile(at url: URL, maxOutputBytes: Int = Int.max) throws -> Data {
        let compressed: Data
        do {
            compressed = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw LSGError(.io, "\(url.path): cannot read (\(error.localizedDescription))")
        }
        do {
            return try decompress(compressed, maxOutputBytes: maxOutputBytes)
        } catch let error as LSGError {
            throw LSGError(error.kind, "\(url.path): \(error.description)")
        }
    }

    /// Compresses `data` into `url` through a temporary sibling file renamed into place on success.
    public static func compressToFile(_ data: Data, at url: URL, level: Int32 = 19) throws {
        let compressed = try compress(data, level: level)
        do {
            try compressed.write(to: url, options: .atomic)
        } catch {
            throw LSGError(.io, "\(url.path): cannot write (\(error.localizedDescription))")
        }
    }
}
