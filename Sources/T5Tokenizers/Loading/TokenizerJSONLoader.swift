// Builds a TokenizerDefinition from HF tokenizer.json bytes, accepting the stages T5 tokenizers
// use (current and older converters) and naming anything else as unsupported.
import Foundation

enum TokenizerJSONLoader {
    static func load(_ data: Data, source: String) throws(TokenizerError) -> TokenizerDefinition {
        let file: TokenizerJSONFile
        do {
            file = try JSONDecoder().decode(TokenizerJSONFile.self, from: data)
        } catch let error as DecodingError {
            throw .malformedTokenizerJSON(path: source, reason: describe(error))
        } catch {
            throw .malformedTokenizerJSON(path: source, reason: "\(error)")
        }
        let model = try unigram(file.model, source: source)
        var tokens: [(content: String, lstrip: Bool, rstrip: Bool, normalized: Bool, special: Bool)] = []
        for token in file.addedTokens {
            if token.singleWord == true {
                throw .unsupportedComponent(
                    path: source, component: "added token", detail: "single_word on \(token.content)")
            }
            let special = token.special ?? false
            tokens.append((token.content, token.lstrip ?? false, token.rstrip ?? false,
                           token.normalized ?? !special, special))
        }
        let added = TokenizerDefinition.resolveAddedTokenIds(tokens, model: model)
        var normalizer: [NormalizerStep] = []
        if let n = file.normalizer { try appendNormalizer(n, to: &normalizer, source: source) }
        var preTokenizer: [PreTokenizerStep] = []
        if let p = file.preTokenizer { try appendPreTokenizer(p, to: &preTokenizer, source: source) }
        // Ids the tokenizer can name: model pieces, then added tokens (T5Tokenizer's table has this size).
        let vocabularySize = max(model.pieces.count, (added.map(\.id).max() ?? -1) + 1)
        let (prefix, suffix) = try template(file.postProcessor, vocabularySize: vocabularySize, source: source)
        return TokenizerDefinition(
            model: model, addedTokens: added, normalizer: normalizer, preTokenizer: preTokenizer,
            prefixIds: prefix, suffixIds: suffix, decoder: try decoder(file.decoder, source: source),
            source: source)
    }

    private static func unigram(_ model: ModelJSON, source: String) throws(TokenizerError) -> UnigramModel {
        guard model.type == "Unigram" else {
            throw .unsupportedComponent(path: source, component: "model", detail: model.type ?? "untyped model")
        }
        if model.byteFallback == true {
            throw .unsupportedComponent(path: source, component: "model", detail: "Unigram with byte_fallback")
        }
        let vocab = model.vocab ?? []
        return try UnigramModel(
            pieces: vocab.map(\.piece), scores: vocab.map(\.score), unknownId: model.unkId, source: source)
    }

    private static func appendNormalizer(
        _ n: NormalizerJSON, to steps: inout [NormalizerStep], source: String
    ) throws(TokenizerError) {
        switch n.type {
        case "Sequence":
            for inner in n.normalizers ?? [] { try appendNormalizer(inner, to: &steps, source: source) }
        case "Precompiled":
            guard let text = n.precompiledCharsmap, let blob = Data(base64Encoded: text) else {
                throw .malformedCharsMap(path: source, reason: "precompiled_charsmap is missing or not base64")
            }
            steps.append(.precompiled(try PrecompiledCharsMap(blob: Array(blob), source: source)))
        case "Strip":
            steps.append(.strip(left: n.stripLeft ?? false, right: n.stripRight ?? false))
        case "Replace":
            let content = Array((n.content ?? "").utf8)
            if let literal = n.pattern?.string, !literal.isEmpty {
                steps.append(.replaceLiteral(pattern: Array(literal.utf8), content: content))
            } else if let regex = n.pattern?.regex, let (unit, minimum) = parseRunRegex(regex) {
                steps.append(.replaceRun(unit: unit, minimumRun: minimum, content: content))
            } else {
                let shown = n.pattern?.regex ?? n.pattern?.string ?? "no pattern"
                throw .unsupportedComponent(path: source, component: "Replace pattern", detail: shown)
            }
        default:
            throw .unsupportedComponent(path: source, component: "normalizer", detail: n.type)
        }
    }

    /// Accepts `X{n,}` and `X+` where X is one literal character: the regexes T5 converters write.
    static func parseRunRegex(_ regex: String) -> ([UInt8], Int)? {
        let scalars = Array(regex.unicodeScalars)
        guard let first = scalars.first, !"\\.^$|?*+()[]{}".unicodeScalars.contains(first) else { return nil }
        let unit = Array(String(first).utf8)
        let rest = String(String.UnicodeScalarView(scalars.dropFirst()))
        if rest == "+" { return (unit, 1) }
        guard rest.hasPrefix("{"), rest.hasSuffix(",}") else { return nil }
        let digits = rest.dropFirst().dropLast(2)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let n = Int(digits), n >= 1 else { return nil }
        return (unit, n)
    }

    private static func appendPreTokenizer(
        _ p: PreTokenizerJSON, to steps: inout [PreTokenizerStep], source: String
    ) throws(TokenizerError) {
        switch p.type {
        case "Sequence":
            for inner in p.pretokenizers ?? [] { try appendPreTokenizer(inner, to: &steps, source: source) }
        case "WhitespaceSplit":
            steps.append(.whitespaceSplit)
        case "Metaspace":
            let replacement = try metaspaceReplacement(p.replacement, source: source)
            let prepend = try prependsAlways(p.prependScheme, p.addPrefixSpace, source: source)
            steps.append(.metaspace(replacement: replacement, prepend: prepend, split: p.split ?? true))
        default:
            throw .unsupportedComponent(path: source, component: "pre-tokenizer", detail: p.type)
        }
    }

    private static func metaspaceReplacement(_ r: String?, source: String) throws(TokenizerError) -> [UInt8] {
        guard let r, r.unicodeScalars.count == 1 else {
            throw .malformedTokenizerJSON(path: source, reason: "Metaspace replacement must be one character")
        }
        return Array(r.utf8)
    }

    /// HF: `prepend_scheme` defaults to "always"; legacy `add_prefix_space: false` means "never".
    private static func prependsAlways(
        _ scheme: String?, _ addPrefixSpace: Bool?, source: String
    ) throws(TokenizerError) -> Bool {
        if addPrefixSpace == false { return false }
        switch scheme ?? "always" {
        case "always": return true
        case "never": return false
        default:
            throw .unsupportedComponent(path: source, component: "Metaspace prepend_scheme", detail: scheme ?? "")
        }
    }

    /// The template's ids are appended to every encoding as they are, so each must lie in the vocabulary:
    /// an id outside it would reach the model as an out-of-range embedding row.
    private static func template(
        _ p: PostProcessorJSON?, vocabularySize: Int, source: String
    ) throws(TokenizerError) -> ([Int], [Int]) {
        guard let p else { return ([], []) }
        guard p.type == "TemplateProcessing" else {
            throw .unsupportedComponent(path: source, component: "post-processor", detail: p.type)
        }
        var prefix: [Int] = []
        var suffix: [Int] = []
        var seenSequence = false
        for piece in p.single ?? [] {
            if piece.sequence != nil {
                seenSequence = true
            } else if let name = piece.specialToken?.id {
                guard let ids = p.specialTokens?[name]?.ids else {
                    throw .malformedTokenizerJSON(path: source, reason: "template token \(name) has no ids")
                }
                if let bad = ids.first(where: { $0 < 0 || $0 >= vocabularySize }) {
                    throw .malformedTokenizerJSON(
                        path: source, reason: "template token \(name) has id \(bad), outside the vocabulary 0..<\(vocabularySize)")
                }
                if seenSequence { suffix += ids } else { prefix += ids }
            }
        }
        return (prefix, suffix)
    }

    private static func decoder(_ d: DecoderJSON?, source: String) throws(TokenizerError) -> TokenDecoder {
        guard let d else { return .joinWithSpaces }
        guard d.type == "Metaspace" else {
            throw .unsupportedComponent(path: source, component: "decoder", detail: d.type)
        }
        let replacement = try metaspaceReplacement(d.replacement, source: source)
        let drop: Bool
        if d.addPrefixSpace == false {
            drop = false
        } else {
            switch d.prependScheme ?? "always" {
            case "always", "first": drop = true
            case "never": drop = false
            default:
                throw .unsupportedComponent(path: source, component: "decoder prepend_scheme", detail: d.prependScheme ?? "")
            }
        }
        return .metaspace(replacement: replacement, dropInFirstToken: drop)
    }

    /// "missing key 'model'", "wrong type at model.vocab.3: …" rather than Foundation's dump.
    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let at = path(context.codingPath)
            return "missing key '\(key.stringValue)'" + (at.isEmpty ? "" : " in \(at)")
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "wrong type at \(path(context.codingPath)): \(context.debugDescription)"
        case .dataCorrupted(let context):
            let at = path(context.codingPath)
            let underlying = context.underlyingError.map { " (\($0))" } ?? ""
            return (at.isEmpty ? "not JSON: " : "bad value at \(at): ") + context.debugDescription + underlying
        @unknown default:
            return "\(error)"
        }
    }
}
