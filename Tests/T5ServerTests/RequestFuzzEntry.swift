// The `request` fuzz target (Scripts/fuzz.sh request SECONDS): any bytes as a completions, chat or embeddings
// body must either decode, or be refused with an APIError of status 400 and a JSON error object; a decoded
// request's options must map to valid GenerationOptions or be refused the same way. Also replayed by RequestFuzzTests.
import Foundation
import T5Engine
import T5ServerAPI

struct RequestFuzzViolation: Error, CustomStringConvertible {
    let description: String
}

enum RequestFuzzEntry {
    static let limits = ServerLimits()

    /// Throws only when an invariant is broken (a finding); refusals are the expected outcome for bad input.
    static func check(_ data: Data) throws(RequestFuzzViolation) {
        let bytes = [UInt8](data)
        try refusalOrValue { () throws(APIError) in
            let r = try CompletionRequest(body: bytes, limits: limits)
            guard !r.prompts.isEmpty, r.prompts.count <= limits.maxPrompts else { throw APIError.internalError("prompt count") }
            try mapped(r.decoding)
        }
        try refusalOrValue { () throws(APIError) in
            let r = try ChatRequest(body: bytes, limits: limits)
            guard r.messages.contains(where: { $0.role == .user }) else { throw APIError.internalError("no user turn") }
            _ = r.prompt
            try mapped(r.decoding)
        }
        try refusalOrValue { () throws(APIError) in
            let r = try EmbeddingRequest(body: bytes, limits: limits)
            guard !r.inputs.isEmpty else { throw APIError.internalError("no input") }
        }
    }

    static func mapped(_ d: DecodingRequest) throws(APIError) {
        let o = try d.options(base: GenerationOptions(), limits: limits, defaultMaxTokens: 16, randomSeed: { 1 })
        do { try o.validate() } catch { throw APIError.internalError("mapped options are invalid: \(error)") }
        guard o.maxNewTokens >= 1, o.maxNewTokens <= limits.maxTokens, o.rowsPerPrompt <= limits.maxBatch else {
            throw APIError.internalError("mapped options exceed the limits")
        }
    }

    static func refusalOrValue(_ body: () throws(APIError) -> Void) throws(RequestFuzzViolation) {
        do { try body() } catch {
            guard error.status == 400, error.type == "invalid_request_error",
                  let json = try? JSONSerialization.jsonObject(with: error.body) as? [String: Any],
                  let inner = json["error"] as? [String: Any], inner["message"] is String else {
                throw RequestFuzzViolation(description: "bad refusal: \(error)")
            }
        }
    }
}
