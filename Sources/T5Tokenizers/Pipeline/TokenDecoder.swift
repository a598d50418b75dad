// Ids back to text: HF's `Metaspace` decoder (`▁` → space; in the first token every `▁` is
// dropped unless the prepend scheme is `never`), or HF's fallback of joining tokens with spaces.

enum TokenDecoder: Sendable {
    case metaspace(replacement: [UInt8], dropInFirstToken: Bool)
    /// No decoder in tokenizer.json: HF joins the tokens with " ".
    case joinWithSpaces

    /// Appends the text of `token` (its index among the kept tokens is `position`) to `out`.
    func append(_ token: String, position: Int, to out: inout [UInt8]) {
        switch self {
        case .joinWithSpaces:
            if position > 0 { out.append(0x20) }
            out.append(contentsOf: token.utf8)
        case .metaspace(let replacement, let dropInFirstToken):
            var bytes = token.utf8[...]
            while let lead = bytes.first {
                if bytes.starts(with: replacement) {
                    if !(position == 0 && dropInFirstToken) { out.append(0x20) }
                    bytes = bytes.dropFirst(replacement.count)
                } else {
                    let length = utf8SequenceLength(lead)
                    out.append(contentsOf: bytes.prefix(length))
                    bytes = bytes.dropFirst(length)
                }
            }
        }
    }
}
