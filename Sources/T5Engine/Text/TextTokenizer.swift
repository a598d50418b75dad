// What the text-level API needs from a tokenizer; `T5Tokenizer` provides it, and embedders may bring their own.

public protocol TextTokenizer: Sendable {
    /// Token ids for `text`, ending with EOS as T5 expects its inputs.
    func encodeWithEOS(_ text: String) throws -> [Int]
    /// Text of `ids` with special tokens (pad, EOS, unknown, sentinels) left out.
    func decodeSkippingSpecial(_ ids: [Int]) -> String
}

extension T5Tokenizer: TextTokenizer {
    public func encodeWithEOS(_ text: String) throws -> [Int] { encode(text, addEOS: true) }
    public func decodeSkippingSpecial(_ ids: [Int]) -> String { decode(ids, skipSpecialTokens: true) }
}
