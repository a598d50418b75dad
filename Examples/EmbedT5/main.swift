// How another program embeds the engine: load a model folder once, then generate, stream, reason and
// embed from concurrent tasks. Run: swift run EmbedT5Example [MODEL_DIR]
import Foundation
import T5Engine

@main
struct EmbedT5Example {
    static func main() async throws {
        let path = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "Models/demo-t5"
        // Loaded once; `T5Generator` is Sendable, so every task below shares it. The runtime says how many
        // threads the kernels use (default: T5Runtime.shared, one per core); nothing is read from the environment.
        let t5 = try T5Generator(directory: URL(fileURLWithPath: path), runtime: T5Runtime(threads: 2))

        // 1. Plain generation with options (defaults come from the folder's generation_config.json).
        var options = t5.defaultOptions
        options.maxNewTokens = 48
        let g = try await t5.generate(prompt: "Is 17 greater than 9?", options: options)
        print("generate:", g.text, "(\(g.tokens.count) tokens, \(g.finishReason))")

        // 2. Streaming: text pieces as they are produced.
        var streamed = ""
        for try await piece in t5.stream(prompt: "Reverse the words: red green blue", options: options) {
            streamed += piece
        }
        print("stream:", streamed)

        // 3. Chain-of-thought with the answer extracted; several questions concurrently (each call decodes on a
        //    thread of its own, so the awaiting tasks leave Swift's cooperative threads free).
        let cotOptions = options
        let questions = ["Tom has 3 apples and buys 4 more. How many apples does he have?",
                         "A box holds 12 pens. 5 are taken out. How many pens are left?"]
        try await withThrowingTaskGroup(of: (String, ReasonedAnswer).self) { group in
            for q in questions {
                group.addTask { (q, try await t5.reason(question: q, mode: .zeroShot(.default), options: cotOptions)) }
            }
            for try await (q, r) in group { print("reason:", q, "→", r.answer) }
        }

        // 4. The encoder as a text embedder (mean-pooled hidden states).
        let e = try t5.embed(text: "a sentence to embed")
        print("embed: \(e.tokens.count) tokens × \(e.pooled.count) dims")

        // 5. Constrained decoding from outside the engine: at every step the closure names the tokens allowed
        //    (transformers' prefix_allowed_tokens_fn). Here: pieces made only of digits, then EOS.
        if let tokenizer = t5.tokenizer as? T5Tokenizer {
            let digits = digitTokens(tokenizer)
            var constrained = options
            constrained.maxNewTokens = 8
            constrained.prefixAllowedTokens = PrefixAllowedTokens { _, sequence in
                sequence.count > 1 ? digits + [tokenizer.eosTokenId] : digits
            }
            let n = try await t5.generate(prompt: "How many legs does a spider have?", options: constrained)
            print("digits only:", n.text)
        }
    }

    /// Ids whose piece is digits only (a leading "▁", the word-start mark, allowed).
    static func digitTokens(_ tokenizer: T5Tokenizer) -> [Int] {
        (0..<tokenizer.vocabularySize).filter { id in
            guard let piece = tokenizer.piece(for: id), !tokenizer.isSpecialToken(id) else { return false }
            let body = piece.hasPrefix("\u{2581}") ? piece.dropFirst() : Substring(piece)
            return !body.isEmpty && body.allSatisfy { $0.isASCII && $0.isNumber }
        }
    }
}
