extension SafeTensorsFile {
    /// How many leading bytes `declaredFileSize(prefix:name:)` needs: 8 + the header length
    /// stored in the first 8 bytes. Nil when `first8` is shorter than 8 bytes or the header length
    /// exceeds `SafeTensorsLimits.maxHeaderBytes`.
    public static func prefixLength(first8: UnsafeRawBufferPointer) -> Int? {
        guard first8.count >= 8 else { return nil }
        let headerLength = UInt64(littleEndian: first8.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(SafeTensorsLimits.maxHeaderBytes) else { return nil }
        return 8 + Int(headerLength)
    }

    /// The size of the whole file that a header describes, from the file's first
    /// `prefixLength` bytes: 8 + header length + the largest tensor end offset. Lets a reader
    /// bound a decompression by what the header declares before producing any tensor data; the
    /// header is fully validated when the whole file is read.
    public static func declaredFileSize(prefix: UnsafeRawBufferPointer, name: String) throws -> Int {
        try Header.declaredFileSize(prefix: prefix, file: name)
    }
}
