// Builds a TokenizerDefinition from a raw SentencePiece `spiece.model` the way transformers'
// T5Converter + T5TokenizerFast do: Unigram vocab + 100 extra ids, Precompiled, Strip, Metaspace.

enum SentencePieceModelLoader {
    /// Fields of sentencepiece_model.proto that matter here.
    struct Model {
        var pieces: [(piece: String, score: Float, type: Int)] = []
        var modelType = 1          // TrainerSpec.model_type (3); 1 = UNIGRAM
        var unknownId = 0          // TrainerSpec.unk_id (40)
        var byteFallback = false   // TrainerSpec.byte_fallback (35)
        var charsMap: [UInt8] = [] // NormalizerSpec.precompiled_charsmap (2)
        var hasTrainerSpec = false
        var hasNormalizerSpec = false
    }

    static func parse(_ bytes: [UInt8], source: String) throws(TokenizerError) -> Model {
        let model: Model
        do {
            model = try readModel(bytes)
        } catch {
            throw .malformedSentencePieceModel(path: source, reason: error.reason)
        }
        // sentencepiece always writes pieces, then trainer_spec, then normalizer_spec: a file cut
        // between pieces still parses, so a missing spec is how truncation shows.
        guard !model.pieces.isEmpty, model.hasTrainerSpec, model.hasNormalizerSpec else {
            let missing = model.pieces.isEmpty ? "pieces" : (model.hasTrainerSpec ? "normalizer_spec" : "trainer_spec")
            throw .malformedSentencePieceModel(path: source, reason: "no \(missing) (truncated or not a SentencePiece model)")
        }
        return model
    }

    private static func readModel(_ bytes: [UInt8]) throws(ProtobufReader.Failure) -> Model {
        var model = Model()
        var reader = ProtobufReader(bytes)
        while !reader.isAtEnd {
            let (field, type) = try reader.readTag()
            switch (field, type) {
            case (1, .lengthDelimited):
                var piece = reader.nested(try reader.readLengthDelimited())
                model.pieces.append(try readPiece(&piece))
            case (2, .lengthDelimited):
                var trainer = reader.nested(try reader.readLengthDelimited())
                try readTrainerSpec(&trainer, into: &model)
                model.hasTrainerSpec = true
            case (3, .lengthDelimited):
                var normalizer = reader.nested(try reader.readLengthDelimited())
                model.hasNormalizerSpec = true
                while !normalizer.isAtEnd {
                    let (f, t) = try normalizer.readTag()
                    if f == 2 && t == .lengthDelimited {
                        model.charsMap = Array(bytes[try normalizer.readLengthDelimited()])
                    } else {
                        try normalizer.skip(t)
                    }
                }
            default:
                try reader.skip(type)
            }
        }
        return model
    }

    private static func readPiece(_ r: inout ProtobufReader) throws(ProtobufReader.Failure) -> (String, Float, Int) {
        var piece: String?
        var score: Float = 0
        var type = 1
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, .lengthDelimited): piece = try r.readString()
            case (2, .fixed32): score = Float(bitPattern: try r.readFixed32())
            case (3, .varint): type = Int(truncatingIfNeeded: try r.readVarint())
            default: try r.skip(wire)
            }
        }
        guard let piece else { throw ProtobufReader.Failure(reason: "a piece has no text") }
        return (piece, score, type)
    }

    private static func readTrainerSpec(_ r: inout ProtobufReader, into model: inout Model) throws(ProtobufReader.Failure) {
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (3, .varint): model.modelType = Int(truncatingIfNeeded: try r.readVarint())
            case (35, .varint): model.byteFallback = try r.readVarint() != 0
            case (40, .varint): model.unknownId = Int(Int32(truncatingIfNeeded: try r.readVarint()))
            default: try r.skip(wire)
            }
        }
    }

    /// `extraIdsStripWhitespace`: lstrip/rstrip on `<extra_id_N>`. True matches the slow
    /// T5Tokenizer and the shipped tokenizer.json; T5TokenizerFast(vocab_file:) in transformers
    /// 4.57 writes false. They differ only when U+0085 touches an extra id.
    static func load(
        _ bytes: [UInt8], source: String, extraIds: Int = 100, extraIdsStripWhitespace: Bool = true
    ) throws(TokenizerError) -> TokenizerDefinition {
        let spm = try parse(bytes, source: source)
        guard spm.modelType == 1 else {
            let names = [2: "BPE", 3: "WORD", 4: "CHAR"]
            throw .unsupportedComponent(
                path: source, component: "model", detail: names[spm.modelType] ?? "type \(spm.modelType)")
        }
        if spm.byteFallback {
            throw .unsupportedComponent(path: source, component: "model", detail: "Unigram with byte_fallback")
        }
        // T5Converter.vocab: every piece, then <extra_id_{n-1}> … <extra_id_0> with score 0.
        var pieces = spm.pieces.map(\.piece)
        var scores = spm.pieces.map { Double($0.score) }
        for i in stride(from: extraIds - 1, through: 0, by: -1) {
            pieces.append("<extra_id_\(i)>")
            scores.append(0)
        }
        let model = try UnigramModel(pieces: pieces, scores: scores, unknownId: spm.unknownId, source: source)
        // SpmConverter adds CONTROL (3, special) and USER_DEFINED (4) pieces; T5TokenizerFast then
        // adds its special tokens and the extra ids.
        let specialNames: Set<String> = ["</s>", "<unk>", "<pad>"]
        var tokens: [(content: String, lstrip: Bool, rstrip: Bool, normalized: Bool, special: Bool)] = []
        for p in spm.pieces where p.type == 3 || p.type == 4 {
            tokens.append((p.piece, false, false, false, p.type == 3 || specialNames.contains(p.piece)))
        }
        for name in ["</s>", "<unk>", "<pad>"] {
            guard model.trie.value(for: Array(name.utf8)) != nil else {
                throw .missingSpecialToken(path: source, token: name)
            }
            tokens.append((name, false, false, false, true))
        }
        for i in 0..<extraIds {
            tokens.append(("<extra_id_\(i)>", extraIdsStripWhitespace, extraIdsStripWhitespace, false, true))
        }
        var normalizer: [NormalizerStep] = []
        if !spm.charsMap.isEmpty {
            normalizer.append(.precompiled(try PrecompiledCharsMap(blob: spm.charsMap, source: source)))
        }
        normalizer.append(.strip(left: false, right: true))
        normalizer.append(.replaceRun(unit: [0x20], minimumRun: 2, content: metaspaceUTF8))
        let eos = Int(model.trie.value(for: Array("</s>".utf8)) ?? 0)
        return TokenizerDefinition(
            model: model,
            addedTokens: TokenizerDefinition.resolveAddedTokenIds(tokens, model: model),
            normalizer: normalizer,
            preTokenizer: [.metaspace(replacement: metaspaceUTF8, prepend: true, split: true)],
            prefixIds: [], suffixIds: [eos],
            decoder: .metaspace(replacement: metaspaceUTF8, dropInFirstToken: true),
            source: source)
    }
}
