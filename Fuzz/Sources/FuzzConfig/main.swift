import Checkpoint
import Foundation
import FuzzerDriver
import JSON
import LSGConversion
import SafeTensors

// One libFuzzer input: a JSON document read as a `config.json` and as a recipe, the way the
// tool reads them. Refusals must be one-line errors; accepted documents must survive the
// serializers (the parser reads back exactly what the writers print).
exit(FuzzerRunDriver(CommandLine.argc, CommandLine.unsafeArgv) { start, count in
    let data = count == 0 ? Data() : Data(bytes: start!, count: count)
    guard let value = parseJSON(data) else { return 0 }
    readConfig(value)
    readRecipe(value)
    return 0
})

func parseJSON(_ data: Data) -> JSONValue? {
    let value: JSONValue
    do {
        value = try JSONValue.parse(data)
    } catch {
        requireOneLine(error.description)
        return nil
    }
    // Both writers must print something the parser reads back as the same value. The compact
    // form shows every distinction JSONValue keeps (key order, int or float, shortest float
    // digits), so equal compact forms mean equal values, with NaN equal to itself.
    let compact = value.compactString()
    precondition((try? JSONValue.parse(compact))?.compactString() == compact, "compact form does not read back: \(compact)")
    let python = value.pythonJSONString(indent: 2, sortKeys: false, ensureASCII: true)
    precondition((try? JSONValue.parse(python))?.compactString() == compact, "Python-style form does not read back: \(python)")
    return value
}

func readConfig(_ value: JSONValue) {
    let config: ModelConfig
    do {
        config = try ModelConfig(json: value, name: "config.json")
    } catch {
        requireOneLine("\(error)", naming: "config.json")
        return
    }
    _ = (config.modelType, config.family, config.architectures, config.vocabSize, config.hiddenSize,
         config.numHiddenLayers, config.numAttentionHeads, config.intermediateSize, config.hiddenAct,
         config.layerNormEps, config.maxPositionEmbeddings, config.typeVocabSize, config.padTokenId,
         config.bosTokenId, config.eosTokenId, config.positionEmbeddingType, config.tieWordEmbeddings)
    if let lsg = config.lsg {
        for problem in lsg.problems { requireOneLine(problem) }
        let normalized = lsg.normalized
        precondition((1...512).contains(normalized.numGlobalTokens))
        // Writing the settings back and reading them again changes nothing.
        var rewritten = config
        rewritten.lsg = lsg
        precondition(rewritten.lsg == lsg, "LSG settings do not survive a rewrite")
    }
    let text = JSONValue.object(config.json).pythonJSONString(indent: 2, sortKeys: true, ensureASCII: true)
    precondition((try? JSONValue.parse(text)).flatMap { try? ModelConfig(json: $0, name: "config.json") } != nil,
                 "a rewritten config.json is refused")
}

func readRecipe(_ value: JSONValue) {
    let recipe: Recipe
    do {
        recipe = try Recipe(json: value)
    } catch {
        requireOneLine("\(error)")
        return
    }
    precondition((try? Recipe(json: recipe.json)) == recipe, "a recipe does not survive its JSON form")
    precondition((try? JSONValue.parse(recipe.jsonData())).flatMap { try? Recipe(json: $0) } == recipe,
                 "a recipe does not survive its file form")
    do {
        _ = try recipe.makeStages()
    } catch {
        requireOneLine("\(error)")
    }
    if let options = try? ConversionOptions(json: recipe.options) {
        for problem in options.problems { requireOneLine(problem) }
    }
}

func requireOneLine(_ message: String, naming file: String? = nil) {
    precondition(!message.isEmpty && !message.contains("\n"), "error is empty or spans lines: \(message)")
    if let file { precondition(message.hasPrefix(file + ": "), "error does not name \(file): \(message)") }
}
