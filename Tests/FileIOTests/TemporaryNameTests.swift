import FileIO
import Foundation
import Testing

@Suite struct TemporaryNameTests {
    @Test func besideIsHiddenInTheTargetsDirectoryAndUnique() {
        let target = URL(fileURLWithPath: "/some/dir/model.safetensors")
        let first = TemporaryName.beside(target, suffix: "tmp")
        let second = TemporaryName.beside(target, suffix: "tmp")
        #expect(first.deletingLastPathComponent() == target.deletingLastPathComponent())
        #expect(first.lastPathComponent.hasPrefix(".model.safetensors.\(getpid())."))
        #expect(first.pathExtension == "tmp")
        #expect(first != second)
    }

    @Test func fileNamesTheProcess() {
        let url = TemporaryName.file(in: URL(fileURLWithPath: "/tmp"), stem: "lsg-golden", extension: "safetensors")
        #expect(url.lastPathComponent.hasPrefix("lsg-golden-\(getpid())-"))
        #expect(url.pathExtension == "safetensors")
    }
}
