import Checkpoint
import Foundation
import Golden
import Testing
import TestSupport

/// The read-back goldens (`golden/readback/`): the reference loaded checkpoints written by
/// `lsg-convert` and recorded its outputs. Each group converts again with the recorded arguments,
/// checks that the files the reference loaded are byte-identical to today's output, and runs every
/// recorded case on it with our encoder.
@Suite struct ReadbackGoldenTests {
    struct Group: Sendable, CustomTestStringConvertible {
        let conversion: [String]
        let modelFiles: [String: String]
        let family: ModelFamily
        let cases: [URL]

        var testDescription: String { conversion.joined(separator: " ") }
    }

    /// Stands for the reference's modeling file in the recorded arguments (golden/tools/readback.py).
    static let modelingFilePlaceholder = "{modeling_file}"

    static let groups: [Group] = {
        guard let manifest = try? GoldenManifest.load(goldenDirectory: goldenDirectory) else { return [] }
        var groups: [String: Group] = [:]
        for entry in manifest.readbackCases {
            let url = goldenDirectory.appendingPathComponent(entry.path)
            guard let golden = try? GoldenCase(contentsOf: url),
                  let conversion = try? JSONDecoder().decode([String].self, from: Data((golden.metadata["conversion"] ?? "").utf8)),
                  let files = try? JSONDecoder().decode([String: String].self, from: Data((golden.metadata["model_files"] ?? "").utf8)),
                  let family = ModelFamily(rawValue: entry.family)
            else {
                groups["unreadable \(entry.path)"] = Group(conversion: [], modelFiles: [:], family: .bert, cases: [url])
                continue
            }
            let key = conversion.joined(separator: "\u{0}")
            let cases = (groups[key]?.cases ?? []) + [url]
            groups[key] = Group(conversion: conversion, modelFiles: files, family: family, cases: cases)
        }
        return groups.values.sorted { $0.testDescription < $1.testDescription }
    }()

    @Test func everyFamilyAndLoaderIsRecorded() throws {
        let manifest = try GoldenManifest.load(goldenDirectory: goldenDirectory)
        let recorded = Set(manifest.readbackCases.map { "\($0.family)/\($0.loader)" })
        let encoderDecoders = ModelFamily.allCases.filter { $0.facts.encoderDecoder != nil }.map(\.rawValue)
        for family in Set(manifest.encoderCases.map(\.family) + encoderDecoders) {
            #expect(recorded.contains("\(family)/reference"), "no read-back case of \(family) with the reference classes")
            #expect(recorded.contains("\(family)/auto"), "no read-back case of \(family) with the Auto classes")
        }
        #expect(manifest.readbackCases.contains { $0.name == "bundled-camembert-tiny-4096" })
    }

    @Test(arguments: groups)
    func convertedCheckpointMatchesWhatTheReferenceReadBack(_ group: Group) throws {
        try #require(!group.conversion.isEmpty, "unreadable read-back golden \(group.cases[0].path)")
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let output = scratch.file("converted")
        let standIn = scratch.file(group.family.lsgModule + ".py")
        try Data(group.family.autoMap.map { "class \($0.lsgClass.split(separator: ".").last!):\n    pass\n" }.joined().utf8)
            .write(to: standIn)
        let arguments = group.conversion.map { $0 == Self.modelingFilePlaceholder ? standIn.path : $0 }
        let result = try runTool(arguments + ["--out", output.path, "--no-validate"], in: goldenDirectory)
        try #require(result.status == 0, "\(result.standardError)")

        for (name, expected) in group.modelFiles.sorted(by: { $0.key < $1.key }) {
            let data = try Data(contentsOf: output.appendingPathComponent(name))
            #expect(data.withUnsafeBytes(TensorHashing.sha256Hex) == expected, "\(name) differs from the file the reference read back")
        }
        let model = try ModelDirectory(url: output)
        for url in group.cases {
            let report = try GoldenCase(contentsOf: url).validate(model: model, threads: 2)
            #expect(report.passed, "\(report.text)")
        }
    }
}
