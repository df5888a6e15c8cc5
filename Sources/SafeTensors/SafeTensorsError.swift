import FileIO

/// A problem with a safetensors file, index or write: a file error, `<file>: <problem>` on one
/// line, like those of reading the file.
public typealias SafeTensorsError = FileError
