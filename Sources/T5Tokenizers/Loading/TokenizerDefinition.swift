// What either file format loads into: the stages of one HF tokenizer pipeline, before the
// lookup tables T5Tokenizer derives from them.

struct TokenizerDefinition: Sendable {
    var model: UnigramModel
    /// In file order; ids are resolved as HF's `AddedVocabulary::add_tokens` does.
    var addedTokens: [AddedToken]
    var normalizer: [NormalizerStep]
    var preTokenizer: [PreTokenizerStep]
    /// Post-processor template for a single sequence: ids before and after the text.
    var prefixIds: [Int]
    var suffixIds: [Int]
    var decoder: TokenDecoder
    /// File the definition came from, for error messages.
    var source: String
}

extension TokenizerDefinition {
    /// HF `add_tokens`: a token already in the vocabulary keeps that id; others get new ids
    /// after the vocabulary. The ids written in tokenizer.json are not authoritative in HF either.
    static func resolveAddedTokenIds(
        _ tokens: [(content: String, lstrip: Bool, rstrip: Bool, normalized: Bool, special: Bool)],
        model: UnigramModel
    ) -> [AddedToken] {
        var result: [AddedToken] = []
        var indexByContent: [[UInt8]: Int] = [:]
        var nextId = model.pieces.count
        for token in tokens where !token.content.isEmpty {
            let key = Array(token.content.utf8)
            let id: Int
            if let existing = indexByContent[key] {
                id = result[existing].id
            } else if let inVocabulary = model.trie.value(for: key) {
                id = Int(inVocabulary)
            } else {
                id = nextId
                nextId += 1
            }
            let added = AddedToken(
                content: token.content, id: id, lstrip: token.lstrip, rstrip: token.rstrip,
                normalized: token.normalized, special: token.special)
            if let existing = indexByContent[key] {
                // A later entry with the same content replaces the flags (HF overwrites its id map).
                let wasSpecial = result[existing].special
                result[existing] = added
                result[existing].special = wasSpecial || added.special
            } else {
                indexByContent[key] = result.count
                result.append(added)
            }
        }
        return result
    }
}
