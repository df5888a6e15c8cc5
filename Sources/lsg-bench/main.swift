import ArgumentParser
import CBLAS
import Checkpoint
import Foundation
import JSON
import LSGEncoder
import SafeTensors
import Tokenizers

/// Helpers for `scripts/bench`: the machine's sgemm peak with the encoder's own OpenBLAS, a
/// camembert-base-size checkpoint with random weights, random token ids, and tokenizer timings.
struct LSGBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lsg-bench",
        abstract: "Benchmark helpers for lsg-convert (see scripts/bench).",
        subcommands: [MachineDescription.self, SgemmPeak.self, RandomCheckpoint.self, RandomInputs.self, TokenizeTiming.self]
    )
}

/// Prints one JSON object saying what a figure was measured on: the CPU as /proc/cpuinfo names it
/// (vendor, family, model, the vector extensions that matter to sgemm), and the OpenBLAS this
/// binary runs with the environment it was started in (kernel, configuration, default threads,
/// and the OPENBLAS_* variables that can force a kernel).
struct MachineDescription: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "machine", abstract: "Describe the CPU and the OpenBLAS kernel.")

    func run() throws {
        let fields = try Self.firstProcessorFields()
        let flags = Set((fields["flags"] ?? "").split(separator: " ").map(String.init))
        let avx512 = ["avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16"]
            .filter(flags.contains).map { $0.dropFirst(6).trimmingCharacters(in: ["_"]).uppercased() }
        let amx = ["amx_tile", "amx_bf16", "amx_int8"].filter(flags.contains)
        var vector = [flags.contains("avx2") ? "AVX2" : "no AVX2", flags.contains("fma") ? "FMA" : "no FMA"]
        vector.append(avx512.isEmpty ? "no AVX-512" : "AVX-512 (\(avx512.joined(separator: ", ")))")
        vector.append(amx.isEmpty ? "no AMX" : "AMX (\(amx.joined(separator: ", ")))")
        let blas = BLASLibrary.current
        let environment = ProcessInfo.processInfo.environment
        let variables = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS"].map { name -> (String, JSONValue) in
            (name, environment[name].map { .string($0) } ?? .null)
        }
        let description: JSONValue = [
            "cpu": [
                "vendor": .string(fields["vendor_id"] ?? "unknown"),
                "family": .string(fields["cpu family"] ?? "unknown"),
                "model": .string(fields["model"] ?? "unknown"),
                "name": .string(fields["model name"] ?? "unknown"),
                "vector": .string(vector.joined(separator: ", ")),
                "cores": .int(ProcessInfo.processInfo.activeProcessorCount),
            ],
            "openblas": [
                "configuration": .string(blas.configuration),
                "kernel": .string(blas.coreName),
                "default_threads": .int(blas.threads),
            ],
            "encoder_vector_kernels": .string(EncoderKernels.vectorLevel),
            "environment": .object(JSONObject(variables)),
        ]
        print(description.compactString())
    }

    /// The `key: value` lines of the first processor in /proc/cpuinfo.
    static func firstProcessorFields() throws -> [String: String] {
        let text = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty, !fields.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }
}

/// Prints one JSON line: {"threads": T, "shape": [m, n, k], "gflops": best, "runs": [...]}.
struct SgemmPeak: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sgemm", abstract: "Measure sgemm GFLOPS.")

    @Option(help: "OpenBLAS threads.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option var m = 4096
    @Option var n = 3072
    @Option var k = 768
    @Option(help: "Timed runs after one warm-up.") var runs = 5

    func validate() throws {
        guard [threads, m, n, k, runs].allSatisfy({ $0 > 0 }) else { throw ValidationError("all values must be positive") }
    }

    func run() {
        openblas_set_num_threads(Int32(threads))
        var generator = SeededGenerator(seed: 1)
        let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &generator) }
        let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &generator) }
        var c = [Float](repeating: 0, count: m * n)
        var gflops: [Double] = []
        for run in 0...runs {
            let start = DispatchTime.now().uptimeNanoseconds
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(m), blasint(n), blasint(k),
                        1, a, blasint(k), b, blasint(k), 0, &c, blasint(n))
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if run > 0 { gflops.append(2 * Double(m) * Double(n) * Double(k) / seconds / 1e9) }
        }
        let rounded = gflops.map { ($0 * 10).rounded() / 10 }
        print(#"{"threads": \#(threads), "shape": [\#(m), \#(n), \#(k)], "gflops": \#(rounded.max() ?? 0), "runs": \#(rounded)}"#)
    }
}

/// A CamemBERT checkpoint of camembert-base's shape (12 layers, hidden 768, 514 positions) with
/// seeded uniform weights of std 0.02 and LayerNorm weights near 1, written with our own writer.
struct RandomCheckpoint: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "checkpoint", abstract: "Write a random camembert-base-size checkpoint.")

    @Argument(help: "Output directory (created).") var out: String
    @Option(help: "Directory whose tokenizer files are copied.") var tokenizerFrom: String
    @Option var seed: UInt64 = 20261126
    @Option var layers = 12
    @Option var hidden = 768
    @Option var heads = 12
    @Option var intermediate = 3072
    @Option var vocab = 32005

    func run() throws {
        let directory = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let family = ModelFamily.camembert
        let architecture = family.defaultArchitecture
        let positions = 512 + family.positionOffset
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        var tensorIndex: UInt64 = 0
        func add(_ name: String, _ shape: [Int], center: Float = 0) throws {
            tensorIndex += 1
            let count = shape.reduce(1, *)
            let streamSeed = seed &+ tensorIndex &* 0x9E37_79B9
            try writer.add(name, dtype: .f32, shape: shape) { sink in
                var generator = SeededGenerator(seed: streamSeed)
                // Uniform on [-a, a] has std a/sqrt(3): a = 0.02 * sqrt(3) gives std 0.02.
                let bound = Float(0.02 * 3.0.squareRoot())
                var chunk = [Float](repeating: 0, count: 1 << 16)
                var written = 0
                while written < count {
                    let size = min(chunk.count, count - written)
                    for index in 0..<size { chunk[index] = center + Float.random(in: -bound...bound, using: &generator) }
                    try chunk.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<(size * 4)])) }
                    written += size
                }
            }
        }
        func addLinear(_ module: String, outputs: Int, inputs: Int) throws {
            try add(module + ".weight", [outputs, inputs])
            try add(module + ".bias", [outputs])
        }
        func addNorm(_ module: String) throws {
            try add(module + ".weight", [hidden], center: 1)
            try add(module + ".bias", [hidden])
        }
        let prefix = architecture.encoderPrefix
        let names = family.encoderTensorNames
        try add(prefix + names.wordEmbeddings, [vocab, hidden])
        try add(prefix + names.positionEmbeddings, [positions, hidden])
        if let tokenTypes = names.tokenTypeEmbeddings { try add(prefix + tokenTypes, [1, hidden]) }
        guard let embeddingNorm = names.embeddingNorm, let lm = family.facts.maskedLM else {
            preconditionFailure("camembert has an embedding LayerNorm and a masked-LM head")
        }
        try addNorm(prefix + embeddingNorm)
        for index in 0..<layers {
            let layer = names.layer(index)
            for projection in [layer.query, layer.key, layer.value, layer.attentionOutput] {
                try addLinear(prefix + projection, outputs: hidden, inputs: hidden)
            }
            try addNorm(prefix + layer.attentionNorm)
            try addLinear(prefix + layer.intermediate, outputs: intermediate, inputs: hidden)
            try addLinear(prefix + layer.output, outputs: hidden, inputs: intermediate)
            try addNorm(prefix + layer.outputNorm)
        }
        try addLinear(lm.dense, outputs: hidden, inputs: hidden)
        try addNorm(lm.norm)
        try add(lm.bias, [vocab])
        try writer.write(to: directory.appendingPathComponent("model.safetensors"))

        let config: JSONValue = [
            "architectures": [.string(architecture.className)], "attention_probs_dropout_prob": 0.1, "bos_token_id": 5,
            "eos_token_id": 6, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": .int(hidden),
            "initializer_range": 0.02, "intermediate_size": .int(intermediate), "layer_norm_eps": 1e-05,
            "max_position_embeddings": .int(positions), "model_type": .string(family.rawValue), "num_attention_heads": .int(heads),
            "num_hidden_layers": .int(layers), "pad_token_id": 1, "position_embedding_type": "absolute",
            "torch_dtype": "float32", "transformers_version": "4.36.2", "type_vocab_size": 1, "use_cache": true,
            "vocab_size": .int(vocab),
        ]
        try Data((config.pythonJSONString() + "\n").utf8).write(to: directory.appendingPathComponent("config.json"))
        let tokenizer = URL(fileURLWithPath: tokenizerFrom)
        for name in ["sentencepiece.bpe.model", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"] {
            let target = directory.appendingPathComponent(name)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: tokenizer.appendingPathComponent(name), to: target)
        }
    }
}

/// Random token ids (never the special ids 0...6) as `input_ids` and an all-ones `attention_mask`.
struct RandomInputs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inputs", abstract: "Write random input ids.")

    @Argument(help: "Output .safetensors file.") var out: String
    @Option var length: Int
    @Option var batch = 1
    @Option var vocab = 32005
    @Option var seed: UInt64 = 7

    func validate() throws {
        guard length > 0, batch > 0, vocab > 7 else { throw ValidationError("length, batch must be positive and vocab > 7") }
    }

    func run() throws {
        var generator = SeededGenerator(seed: seed)
        let ids = (0..<(batch * length)).map { _ in Int64.random(in: 7..<Int64(vocab), using: &generator) }
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        try writer.add("input_ids", dtype: .i64, shape: [batch, length]) { sink in try ids.withUnsafeBytes(sink) }
        let mask = [Int64](repeating: 1, count: batch * length)
        try writer.add("attention_mask", dtype: .i64, shape: [batch, length]) { sink in try mask.withUnsafeBytes(sink) }
        try writer.write(to: URL(fileURLWithPath: out))
    }
}

LSGBench.main()

/// Times a tokenizer on the lines of a text file, one `encode` call per line and then one batch
/// call over all of them (after one untimed warm-up pass of each, as `bench/reference_tokenize.py`
/// does). Prints one JSON line: {"texts", "characters", "tokens", "ids_checksum", "single_seconds",
/// "batch_seconds"}; the checksum (FNV-1a over every id) lets scripts/bench check that both sides
/// produced the same ids.
struct TokenizeTiming: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "Time a tokenizer on a text file.")

    @Option(help: "Model directory with the tokenizer files.") var tokenizer: String
    @Option(help: "UTF-8 text, one text per line.") var text: String
    @Option(help: "Timed runs (the median is printed).") var runs = 3

    func validate() throws {
        guard runs > 0 else { throw ValidationError("--runs must be positive") }
    }

    func run() throws {
        let tokenizer = try Tokenizer(directory: URL(fileURLWithPath: self.tokenizer))
        let lines = try String(contentsOfFile: text, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let texts = lines.last == "" ? Array(lines.dropLast()) : lines
        let options = TokenizeOptions()
        func single() throws -> [Encoding] { try texts.map { try tokenizer.encode($0) } }
        func batch() throws -> [Encoding] { try tokenizer.encode(batch: texts, options: options) }
        let encodings = try single()
        _ = try batch()
        var singleSeconds: [Double] = []
        var batchSeconds: [Double] = []
        for _ in 0..<runs {
            singleSeconds.append(try Self.seconds { _ = try single() })
            batchSeconds.append(try Self.seconds { _ = try batch() })
        }
        var checksum: UInt64 = 0xcbf2_9ce4_8422_2325
        for encoding in encodings {
            for id in encoding.ids { checksum = (checksum ^ UInt64(id)) &* 0x100_0000_01b3 }
        }
        let result: JSONValue = [
            "texts": .int(texts.count),
            "characters": .int(texts.reduce(0) { $0 + $1.unicodeScalars.count }),
            "tokens": .int(encodings.reduce(0) { $0 + $1.count }),
            "ids_checksum": .string(String(checksum, radix: 16)),
            "single_seconds": .double(Self.median(singleSeconds)),
            "batch_seconds": .double(Self.median(batchSeconds)),
        ]
        print(result.compactString())
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
}
