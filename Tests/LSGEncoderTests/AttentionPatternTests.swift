import Checkpoint
import Foundation
import LSGEncoder
import LSGErrors
import Testing

/// `AttentionPattern` against hand-counted layouts and against the encoder itself: with one
/// layer, a query's output changes when a token's input changes exactly when the query attends
/// to that token.
@Suite("Attention pattern")
struct AttentionPatternTests {
    static func lsg(block: Int, sparseBlock: Int, factor: Int, type: SparsityType, globals: Int = 1) -> LSGConfig {
        var config = LSGConfig()
        config.blockSize = block
        config.sparseBlockSize = sparseBlock
        config.sparsityFactor = factor
        config.sparsityType = type
        config.numGlobalTokens = globals
        config.poolWithGlobal = false
        return config
    }

    @Test("short inputs use full attention; global rows and columns stay global")
    func shortInputIsFull() throws {
        let pattern = try AttentionPattern(lsg: Self.lsg(block: 8, sparseBlock: 8, factor: 2, type: .norm, globals: 2), length: 16)
        #expect(pattern.isFull && pattern.size == 18)
        #expect(pattern.kind(query: 0, key: 17) == .global)
        #expect(pattern.kind(query: 5, key: 1) == .global)
        #expect(pattern.kind(query: 5, key: 17) == .full)
        let plain = try AttentionPattern(lsg: nil, length: 5)
        #expect(plain.size == 5 && plain.runs(ofQuery: 3) == [.init(keys: 0..<5, kind: .full)])
    }

    @Test("local only: globals, then the previous, current and next block")
    func localWindows() throws {
        // 4 blocks of 4 tokens after 1 global: block 1 (tokens 4..<8) sees tokens 0..<12.
        let pattern = try AttentionPattern(lsg: Self.lsg(block: 4, sparseBlock: 4, factor: 2, type: .none), length: 16)
        #expect(!pattern.isFull && pattern.sparseCount == 0)
        #expect(pattern.runs(ofQuery: 1 + 5) == [.init(keys: 0..<1, kind: .global), .init(keys: 1..<13, kind: .local)])
        #expect(pattern.runs(ofQuery: 1 + 0) == [.init(keys: 0..<1, kind: .global), .init(keys: 1..<9, kind: .local)])
        #expect(pattern.runs(ofQuery: 0) == [.init(keys: 0..<17, kind: .global)])
    }

    @Test("adaptive padding and mask_first_token show as masked keys")
    func maskedKeys() throws {
        var config = Self.lsg(block: 4, sparseBlock: 4, factor: 2, type: .none)
        config.maskFirstToken = true
        let pattern = try AttentionPattern(lsg: config, length: 14)
        #expect(pattern.tokenCount == 16 && pattern.length == 14)
        #expect(pattern.kind(query: 1 + 1, key: 1) == .masked)
        #expect(pattern.kind(query: 1 + 13, key: 1 + 14) == .masked)
        #expect(pattern.kind(query: 1 + 13, key: 1 + 13) == .local)
        #expect(pattern.kind(query: 0, key: 1 + 15) == .masked)
        #expect(pattern.isMaskedKey(1) && pattern.isMaskedKey(16) && !pattern.isMaskedKey(0))
    }

    @Test("stride: the sparse keys are single tokens a factor apart, shifted by the head")
    func strideIsExact() throws {
        let config = Self.lsg(block: 8, sparseBlock: 8, factor: 2, type: .stride)
        let head0 = try AttentionPattern(lsg: config, length: 64, head: 0)
        let head1 = try AttentionPattern(lsg: config, length: 64, head: 1)
        #expect(!head0.sparseIsCandidateSet)
        // The last block (tokens 56..<64) sees sparse tokens before its local window only.
        let sparse0 = head0.runs(ofQuery: 1 + 60).filter { $0.kind == .sparse }.flatMap { Array($0.keys) }
        let sparse1 = head1.runs(ofQuery: 1 + 60).filter { $0.kind == .sparse }.flatMap { Array($0.keys) }
        #expect(!sparse0.isEmpty && sparse0.allSatisfy { ($0 - 1) % 2 == 0 && $0 - 1 < 48 })
        #expect(sparse1 == sparse0.map { $0 + 1 })
    }

    @Test("impossible configurations give the encoder's error")
    func errors() {
        #expect(throws: LSGError.self) { try AttentionPattern(lsg: Self.lsg(block: 6, sparseBlock: 6, factor: 4, type: .norm), length: 64) }
        #expect(throws: LSGError.self) { try AttentionPattern(lsg: LSGConfig(), length: 0) }
        #expect(throws: LSGError.self) { try AttentionPattern(lsg: Self.lsg(block: 8, sparseBlock: 8, factor: 2, type: .norm, globals: 513), length: 64) }
        var fixed = LSGConfig()
        fixed.adaptive = false
        #expect(throws: LSGError.self) { try AttentionPattern(lsg: fixed, length: 300) }
    }

    /// Exact types must match the encoder's dependencies; data-dependent ones must contain them.
    @Test("the pattern is what the encoder attends to (one layer, union over heads)", arguments: [
        (SparsityType.none, 8, 2), (.stride, 8, 2), (.blockStride, 8, 2), (.stride, 8, 4),
        (.pooling, 8, 2), (.norm, 8, 2), (.bosPooling, 8, 4), (.lsh, 8, 2),
    ])
    func matchesEncoderDependencies(_ type: SparsityType, _ block: Int, _ factor: Int) throws {
        let model = try ModelDirectory(url: goldenRoot.appendingPathComponent("models/lsg-camembert-tiny-1024"))
        var configuration = try EncoderConfiguration(modelConfig: model.config, name: "config.json")
        configuration.numHiddenLayers = 1
        configuration.lsg = Self.lsg(block: block, sparseBlock: block, factor: factor, type: type)
        let encoder = try Encoder(configuration: configuration, weights: model.tensors)
        let length = 64
        let heads = configuration.numAttentionHeads
        let patterns = try (0..<heads).map { try AttentionPattern(lsg: configuration.lsg, length: length, head: $0) }
        let g = patterns[0].globalCount
        let exact = !patterns[0].sparseIsCandidateSet

        var ids = (0..<length).map { Int64(5 + ($0 * 37) % 240) }
        let hidden = configuration.hiddenSize
        func run(_ ids: [Int64]) throws -> [Float] {
            try encoder.encode(EncoderInput(inputIds: ids, batchSize: 1, length: length)).lastHiddenState
        }
        let baseline = try run(ids)
        for token in 0..<length {
            ids[token] += 1
            let changed = try run(ids)
            ids[token] -= 1
            for query in 0..<length {
                let moved = changed[(query * hidden)..<((query + 1) * hidden)] != baseline[(query * hidden)..<((query + 1) * hidden)]
                let attended = patterns.contains { $0.kind(query: g + query, key: g + token) != .none }
                if exact {
                    #expect(moved == attended, "\(type): query \(query), token \(token): output moved \(moved), pattern \(attended)")
                } else if moved && !(type == .bosPooling && token == 0) {
                    // bos_pooling weighs every group with token 0's query, so token 0 reaches every block.
                    #expect(attended, "\(type): query \(query) depends on token \(token) outside the candidates")
                }
            }
        }
    }
}
