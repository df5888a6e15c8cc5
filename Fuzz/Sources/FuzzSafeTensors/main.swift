import Foundation
import FuzzerDriver
import LSGErrors
import SafeTensors

exit(FuzzerRunDriver(CommandLine.argc, CommandLine.unsafeArgv) { start, count in
    fuzzSafeTensors(start, count)
})

/// One libFuzzer input: a safetensors image, read the way the tool reads one. Every accepted
/// file must be internally consistent; every refused one must give a one-line error naming it.
/// The size the header declares (what bounds a `.safetensors.zst` decompression) must agree with
/// every accepted file. The same bytes are also tried as a shard index (`model.safetensors.index.json`).
func fuzzSafeTensors(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = count == 0 ? Data() : Data(bytes: start!, count: count)
    readSafeTensors(data)
    readIndex(data)
    return 0
}

private func readSafeTensors(_ data: Data) {
    let declaredSize = declaredFileSize(data)
    let file: SafeTensorsFile
    do {
        file = try SafeTensorsFile(data: data, name: "fuzz.safetensors")
    } catch let error as LSGError {
        requireOneLine(error.description, naming: "fuzz.safetensors")
        return
    } catch {
        fatalError("SafeTensorsFile threw a non-LSGError: \(error)")
    }
    precondition(declaredSize == data.count, "header declares \(declaredSize.map(String.init) ?? "nothing") for a valid \(data.count)-byte file")
    var end = 0
    for info in file.tensors {
        precondition(info.dataOffsets.lowerBound == end, "tensors not contiguous at \(info.name)")
        end = info.dataOffsets.upperBound
        precondition(file.info(info.name) == info, "lookup by name disagrees for \(info.name)")
        let byteCount = try! file.withBytes(of: info.name) { $0.count }
        precondition(byteCount == info.byteCount, "\(info.name): \(byteCount) bytes, expected \(info.byteCount)")
        switch info.dtype {
        case .f32, .f16, .bf16, .f64:
            precondition(try! file.floats(info.name).count == info.elementCount)
        case .i64, .i32, .i16, .i8, .u8, .bool, .u16, .u32:
            precondition(try! file.int64s(info.name).count == info.elementCount)
        case .u64:
            // Values above Int64.max are refused with an error, never a trap.
            if let values = try? file.int64s(info.name) { precondition(values.count == info.elementCount) }
        default:
            break
        }
    }
}

/// The whole-file size the header at the start of `data` declares, when `data` holds the header.
private func declaredFileSize(_ data: Data) -> Int? {
    data.withUnsafeBytes { bytes in
        guard let prefixLength = SafeTensorsFile.prefixLength(first8: bytes), prefixLength <= bytes.count else { return nil }
        do {
            return try SafeTensorsFile.declaredFileSize(prefix: UnsafeRawBufferPointer(rebasing: bytes[..<prefixLength]),
                                                        name: "fuzz.safetensors")
        } catch let error as LSGError {
            requireOneLine(error.description, naming: "fuzz.safetensors")
            return nil
        } catch {
            fatalError("declaredFileSize threw a non-LSGError: \(error)")
        }
    }
}

private func readIndex(_ data: Data) {
    do {
        let index = try SafeTensorsIndex(data: data, name: "fuzz.index.json")
        for shard in index.shardFiles { precondition(SafeTensorsIndex.isPlainFileName(shard)) }
    } catch let error as LSGError {
        requireOneLine(error.description, naming: "fuzz.index.json")
    } catch {
        fatalError("SafeTensorsIndex threw a non-LSGError: \(error)")
    }
}

private func requireOneLine(_ message: String, naming file: String) {
    precondition(message.hasPrefix(file + ": "), "error does not name the file: \(message)")
    precondition(!message.contains("\n"), "error spans lines: \(message)")
}
