import Foundation
import FuzzerDriver
import PyTorchCheckpoint

// One libFuzzer input: a `torch.save` file (zip archive or legacy layout), read as
// `pytorch_model.bin`. Refusals must be one-line errors naming the file; an accepted file must
// give every tensor's bytes.
exit(FuzzerRunDriver(CommandLine.argc, CommandLine.unsafeArgv) { start, count in
    let data = count == 0 ? Data() : Data(bytes: start!, count: count)
    let file: PyTorchCheckpointFile
    do {
        file = try PyTorchCheckpointFile(data: data, name: "fuzz.bin")
    } catch {
        let message = "\(error)"
        precondition(message.hasPrefix("fuzz.bin: ") && !message.contains("\n"), "bad error: \(message)")
        return 0
    }
    for tensor in file.tensors {
        precondition(file.info(tensor.name) == tensor, "lookup by name disagrees for \(tensor.name)")
        do {
            let count = try file.withBytes(of: tensor.name) { $0.count }
            precondition(count == tensor.byteCount, "\(tensor.name): \(count) bytes, expected \(tensor.byteCount)")
        } catch {
            let message = "\(error)"
            precondition(message.hasPrefix("fuzz.bin: ") && !message.contains("\n"), "bad error: \(message)")
        }
    }
    return 0
})
