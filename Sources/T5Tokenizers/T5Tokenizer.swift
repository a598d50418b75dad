// The public T5 / Flan-T5 tokenizer: the ids Hugging Face's T5TokenizerFast gives, from a
// tokenizer.json or a spiece.model, and decoding back to text the same way.
import Foundation

public final class T5Tokenizer: Sendable {
    private let pipeline: TokenizerPipeline
    private let decoder: TokenDecoder
    /// Token text by id (added tokens first, then model pieces); nil for ids HF cannot map.
    private let tokens: [String?]
    /// Whether an id's text is a special token's content (HF skips by content, not by id).
    private let isSpecial: [Bool]
    /// Added tokens by content bytes (never String keys: String equality is canonical equivalence).
    private let addedIds: [[UInt8]: Int]

    public let eosTokenId: Int
    public let padTokenId: Int
    public let unkTokenId: Int

    /// Ids `0..<vocabularySize` (32100 for T5: 32000 pieces and 100 extra ids). Model configs
    /// say 32128; ids 32100... are padding rows the tokenizer never produces and decode skips.
    public var vocabularySize: Int { tokens.count }

    /// Loads a `tokenizer.json`, a `spiece.model`, or a directory holding either
    /// (tokenizer.json preferred, as transformers does).
    public convenience init(contentsOf url: URL) throws(TokenizerError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw .fileNotFound(path: url.path)
        }
        var file = url
        if isDirectory.boolValue {
            let json = url.appendingPathComponent("tokenizer.json")
            let spm = url.appendingPathComponent("spiece.model")
            if FileManager.default.fileExists(atPath: json.path) {
                file = json
            } else if FileManager.default.fileExists(atPath: spm.path) {
                file = spm
            } else {
                throw .fileNotFound(path: url.path)
            }
        }
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw .unreadableFile(path: file.path, reason: error.localizedDescription)
        }
        // spiece.model is a protobuf whose first byte is field 1's tag (0x0A); JSON starts with `{`.
        let firstByte = data.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) })
        if file.pathExtension == "json" || (file.pathExtension != "model" && firstByte == UInt8(ascii: "{")) {
            try self.init(tokenizerJSON: data, source: file.path)
        } else {
            try self.init(sentencePieceModel: data, source: file.path)
        }
    }

    /// Loads HF tokenizer.json contents.
    public convenience init(tokenizerJSON data: Data, source: String = "tokenizer.json") throws(TokenizerError) {
        try self.init(try TokenizerJSONLoader.load(data, source: source))
    }

    /// Loads a raw SentencePiece model as T5TokenizerFast converts it: the pieces, then
    /// `extraIds` sentinels `<extra_id_{n-1}>` … `<extra_id_0>`, `</s>` appended to every input.
    /// `extraIdsStripWhitespace` (lstrip/rstrip on the extra ids) defaults to true, as the slow
    /// T5Tokenizer and the standard tokenizer.json; transformers' own conversion writes false.
    public convenience init(
        sentencePieceModel data: Data, source: String = "spiece.model",
        extraIds: Int = 100, extraIdsStripWhitespace: Bool = true
    ) throws(TokenizerError) {
        try self.init(try SentencePieceModelLoader.load(
            Array(data), source: source, extraIds: max(0, extraIds),
            extraIdsStripWhitespace: extraIdsStripWhitespace))
    }

    init(_ definition: TokenizerDefinition) throws(TokenizerError) {
        let model = definition.model
        let maxAdded = definition.addedTokens.map(\.id).max() ?? -1
        var tokens: [String?] = model.pieces.map { $0 }
        if maxAdded >= tokens.count { tokens += [String?](repeating: nil, count: maxAdded + 1 - tokens.count) }
        var specialContents = Set<[UInt8]>()
        for token in definition.addedTokens {
            tokens[token.id] = token.content
            if token.special { specialContents.insert(Array(token.content.utf8)) }
        }
        self.tokens = tokens
        self.addedIds = Dictionary(definition.addedTokens.map { (Array($0.content.utf8), $0.id) }, uniquingKeysWith: { _, last in last })
        self.isSpecial = tokens.map { $0.map { specialContents.contains(Array($0.utf8)) } ?? false }
        self.pipeline = TokenizerPipeline(definition)
        self.decoder = definition.decoder
        func id(of content: String) throws(TokenizerError) -> Int {
            let bytes = Array(content.utf8)
            if let added = definition.addedTokens.first(where: { Array($0.content.utf8) == bytes }) { return added.id }
            if let piece = model.trie.value(for: bytes) { return Int(piece) }
            throw .missingSpecialToken(path: definition.source, token: content)
        }
        eosTokenId = try id(of: "</s>")
        padTokenId = try id(of: "<pad>")
        unkTokenId = model.unknownId
    }

    /// Token ids for `text`, ending with `</s>` unless `addEOS` is false.
    public func encode(_ text: String, addEOS: Bool = true) -> [Int] {
        var text = text
        return text.withUTF8 { pipeline.encode($0, addSpecialTokens: addEOS) }
    }

    /// Like `encode(_:)` for raw bytes; invalid UTF-8 is rejected, not repaired (use
    /// `String(decoding:as:)` first to get U+FFFD replacements instead).
    public func encode<Bytes: Collection<UInt8>>(utf8 bytes: Bytes, addEOS: Bool = true) throws(TokenizerError) -> [Int] {
        if let bad = firstInvalidUTF8Offset(bytes) { throw .invalidUTF8(byteOffset: bad) }
        return Array(bytes).withUnsafeBufferPointer { pipeline.encode($0, addSpecialTokens: addEOS) }
    }

    /// Text for `ids` as HF `decode`: unknown ids are dropped; with `skipSpecialTokens`,
    /// `<pad>`, `</s>`, `<unk>` and the extra ids are removed before the Metaspace decoder runs.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
        decode(ids[...], skipSpecialTokens: skipSpecialTokens, firstKeptPosition: 0)
    }

    /// The text that `ids[start...]` adds to `decode(ids[..<start])`, for streaming:
    /// `decode(ids[..<start]) + decode(ids, from: start) == decode(ids)` (as Unicode scalars).
    public func decode(_ ids: [Int], from start: Int, skipSpecialTokens: Bool = true) -> String {
        let start = min(max(start, 0), ids.count)
        let before = ids[..<start].reduce(0) { $0 + (keep($1, skipSpecialTokens) ? 1 : 0) }
        return decode(ids[start...], skipSpecialTokens: skipSpecialTokens, firstKeptPosition: before)
    }

    private func keep(_ id: Int, _ skipSpecialTokens: Bool) -> Bool {
        id >= 0 && id < tokens.count && tokens[id] != nil && !(skipSpecialTokens && isSpecial[id])
    }

    private func decode(_ ids: ArraySlice<Int>, skipSpecialTokens: Bool, firstKeptPosition: Int) -> String {
        var out: [UInt8] = []
        var position = firstKeptPosition
        for id in ids where keep(id, skipSpecialTokens) {
            guard let token = tokens[id] else { continue }
            decoder.append(token, position: position, to: &out)
            position += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The token text for `id` (a piece such as `▁house`, or `</s>`), or nil if out of range.
    public func piece(for id: Int) -> String? {
        id >= 0 && id < tokens.count ? tokens[id] : nil
    }

    /// The id of a token given its exact text (an added token such as `<extra_id_0>`, or a piece
    /// such as `▁house`), or nil.
    public func id(for piece: String) -> Int? {
        let bytes = Array(piece.utf8)
        if let added = addedIds[bytes] { return added }
        return pipeline.model.trie.value(for: bytes).map { Int($0) }
    }

    /// Whether `decode(skipSpecialTokens: true)` drops `id`.
    public func isSpecialToken(_ id: Int) -> Bool {
        id >= 0 && id < isSpecial.count && isSpecial[id]
    }
}
