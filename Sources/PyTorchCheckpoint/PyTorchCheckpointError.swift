import FileIO

/// A problem with a PyTorch checkpoint (`pytorch_model.bin`, its zip archive, its pickle, or a
/// shard index): a file error, `<file>: <problem>` on one line.
public typealias PyTorchCheckpointError = FileError
