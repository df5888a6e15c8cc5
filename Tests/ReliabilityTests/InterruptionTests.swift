import Checkpoint
import Foundation
import JSON
import LSGConversion
import SafeTensors
import Testing
import TestSupport

/// Conversions killed at random points (SIGKILL, SIGINT, SIGTERM): each time either a complete,
/// valid output exists or none does, the source is untouched, an interrupted run (SIGINT,
/// SIGTERM) leaves nothing of its own, and what a SIGKILL left is removed by the next run.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct InterruptionTests {
    /// A CamemBERT-shaped source of about 27 MB (the tiny fixture with a 200,003-row vocabulary),
    /// so that a conversion spends long enough writing to be killed mid-write.
    static func makeLargeSource(at directory: URL) throws {
        let fixture = goldenDirectory.appendingPathComponent("fixtures/camembert-tiny")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: fixture.path) where name != "model.safetensors" && name != "config.json" {
            try FileManager.default.copyItem(at: fixture.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        let vocabulary = 200_003
        var config = try ModelConfig.load(from: fixture.appendingPathComponent("config.json"))
        let smallVocabulary = config.vocabSize
        config.vocabSize = vocabulary
        try Data((JSONValue.object(config.json).pythonJSONString(indent: 2, sortKeys: true) + "\n").utf8)
            .write(to: directory.appendingPathComponent("config.json"))

        let weights = try SafeTensorsFile(contentsOf: fixture.appendingPathComponent("model.safetensors"))
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        for info in weights.tensors {
            var values = try weights.floats(info.name)
            var shape = info.shape
            if shape.first == smallVocabulary {
                // Repeat the rows (with a small row-dependent shift, so rows differ) up to the new vocabulary.
                let width = values.count / smallVocabulary
                values = (0..<(vocabulary * width)).map { index in
                    values[index % (smallVocabulary * width)] + Float(index / (smallVocabulary * width)) * 1e-3
                }
                shape[0] = vocabulary
            }
            try writer.add(info.name, floats: values, shape: shape)
        }
        try writer.write(to: directory.appendingPathComponent("model.safetensors"))
    }

    enum Outcome: Equatable { case noOutput, completeOutput }

    /// Checks the parent directory after a run ended: the output is absent or complete and
    /// valid; nothing of an interrupted (not SIGKILLed) run remains.
    static func checkState(parent: URL, output: URL, survivorsAllowed killedPids: Set<Int32>, interruptedPid: Int32?) throws -> Outcome {
        let names = try entries(of: parent)
        for name in names where name != "source" && name != output.lastPathComponent {
            let pid = name.split(separator: "-").last.flatMap { Int32($0.split(separator: ".").first ?? "") }
            #expect(name.hasPrefix(".\(output.lastPathComponent).partial-") || name.hasPrefix(".\(output.lastPathComponent).replaced-"),
                    "unexpected entry \(name)")
            #expect(pid.map { killedPids.contains($0) } ?? false, "\(name) is not the leftover of a SIGKILLed run")
            if let interruptedPid { #expect(pid != interruptedPid, "interrupted run \(interruptedPid) left \(name)") }
        }
        guard FileManager.default.fileExists(atPath: output.path) else { return .noOutput }
        let verification = try WeightManifest.verify(directory: output)
        #expect(verification.isValid, "incomplete output: \(verification.problems)")
        #expect(verification.checkedTensors > 0)
        _ = try ModelConfig.load(from: output.appendingPathComponent("config.json"))
        return .completeOutput
    }

    @Test func killedConversionsLeaveACompleteOutputOrNone() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let source = scratch.file("source")
        try Self.makeLargeSource(at: source)
        let sourceDigests = try digests(of: source)
        let output = scratch.file("out")
        let binary = try toolBinary()
        let arguments = ["--from", source.path, "--max-length", "8192", "--out", output.path, "--force", "--no-validate"]

        func start() throws -> Process {
            let process = Process()
            process.executableURL = binary
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }

        // How long an undisturbed conversion takes sets the range of kill delays.
        let clock = Date()
        let first = try start()
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        let duration = Date().timeIntervalSince(clock)
        try FileManager.default.removeItem(at: output)

        let signals = [SIGKILL, SIGINT, SIGTERM]
        var killed: Set<Int32> = []
        var outcomes: [Outcome] = []
        var generator = SystemRandomNumberGenerator()
        for round in 0..<24 {
            let signalNumber = signals[round % signals.count]
            let delay = Double.random(in: 0...(duration * 1.1), using: &generator)
            let process = try start()
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, signalNumber)
            process.waitUntilExit()
            if signalNumber == SIGKILL { killed.insert(process.processIdentifier) }
            let outcome = try Self.checkState(parent: scratch.url, output: output, survivorsAllowed: killed,
                                              interruptedPid: signalNumber == SIGKILL ? nil : process.processIdentifier)
            outcomes.append(outcome)
            #expect(try digests(of: source) == sourceDigests, "round \(round): the source changed")
            if signalNumber != SIGKILL, process.terminationReason == .exit {
                // The handler ran (exit 128 + signal), or the run had finished (0).
                #expect([0, 128 + signalNumber].contains(process.terminationStatus), "round \(round): status \(process.terminationStatus)")
            }
        }
        // The kills landed at different points: some before the rename, some after.
        #expect(outcomes.contains(.noOutput) || outcomes.contains(.completeOutput))

        // A last run completes and removes everything the SIGKILLed runs left.
        let last = try start()
        last.waitUntilExit()
        #expect(last.terminationStatus == 0)
        #expect(try entries(of: scratch.url) == ["out", "source"])
        #expect(try Self.checkState(parent: scratch.url, output: output, survivorsAllowed: [], interruptedPid: nil) == .completeOutput)
        #expect(try digests(of: source) == sourceDigests)
    }

    @Test func staleStagingIsRemovedOnlyWhenProvablyDead() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let source = try copyFixture(to: scratch.file("source"))
        let output = scratch.file("out")
        let manager = FileManager.default
        func makeStaging(_ name: String, lock: String?) throws -> Int32? {
            try manager.createDirectory(at: scratch.file(name), withIntermediateDirectories: false)
            try Data("partial".utf8).write(to: scratch.file(name).appendingPathComponent("model.safetensors"))
            guard let lock else { return nil }
            try Data(lock.utf8).write(to: scratch.file(name + ".lock"))
            return open(scratch.file(name + ".lock").path, O_RDWR)
        }
        let signature = "lsg-convert staging directory\npid 1\noutput \(output.path)\n"
        // Dead run: signed lock nobody holds -> removed.
        _ = try makeStaging(".out.partial-111", lock: signature).map { close($0) }
        // Live run: signed lock held (by this process) -> kept.
        let held = try #require(try makeStaging(".out.partial-222", lock: signature))
        #expect(flock(held, LOCK_EX) == 0)
        defer { close(held) }
        // No lock file, or a lock without the signature -> not provably ours -> kept.
        _ = try makeStaging(".out.partial-333", lock: nil)
        _ = try makeStaging(".out.partial-444", lock: "something else\n").map { close($0) }
        // A dead run that had moved an old output aside and died before the new one arrived.
        try manager.createDirectory(at: scratch.file(".out.replaced-555"), withIntermediateDirectories: false)
        try Data("old".utf8).write(to: scratch.file(".out.replaced-555/marker"))
        try Data(signature.utf8).write(to: scratch.file(".out.partial-555.lock"))

        let result = try runTool(["--from", source.path, "--max-length", "1024", "--out", output.path, "--no-validate", "--force"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try entries(of: scratch.url) == [".out.partial-222", ".out.partial-222.lock", ".out.partial-333",
                                                  ".out.partial-444", ".out.partial-444.lock", "out", "source"])
        // The old output was first restored, then replaced by this run (--force).
        #expect(!manager.fileExists(atPath: output.appendingPathComponent("marker").path))
        #expect(try WeightManifest.verify(directory: output).isValid)
        #expect((result.standardOutput + result.standardError).contains("removed .out.partial-111"), "\(result.standardOutput)")
    }
}
