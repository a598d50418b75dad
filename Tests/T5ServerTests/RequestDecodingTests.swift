// Request bodies read strictly: every malformed or out-of-range field is a 400 naming the field, and the accepted
// ones map onto the engine's options as the server documents.
import Foundation
import Testing
import T5Engine
@testable import T5ServerAPI

@Suite struct RequestDecodingTests {
    let limits = ServerLimits()

    func completion(_ json: String) throws(APIError) -> CompletionRequest {
        try CompletionRequest(body: Array(json.utf8), limits: limits)
    }

    func refusal(_ json: String, chat: Bool = false) -> APIError? {
        do {
            if chat { _ = try ChatRequest(body: Array(json.utf8), limits: limits) } else {
                let r = try completion(json)
                _ = try r.decoding.options(base: GenerationOptions(), limits: limits, defaultMaxTokens: 16, randomSeed: { 9 })
            }
            return nil
        } catch { return error }
    }

    @Test func promptStringOrArray() throws {
        #expect(try completion(#"{"prompt": "hi"}"#).prompts == ["hi"])
        #expect(try completion(#"{"model": "m", "prompt": ["a", "b"]}"#).prompts == ["a", "b"])
    }

    @Test(arguments: [
        (#"{"prompt": 12345}"#, "prompt"),
        (#"{"prompt": []}"#, "prompt"),
        (#"{"prompt": ["a", 1]}"#, "prompt"),
        (#"{}"#, "prompt"),
        (#"{"prompt": "x", "temperature": -1}"#, "temperature"),
        (#"{"prompt": "x", "temperature": "hot"}"#, "temperature"),
        (#"{"prompt": "x", "max_tokens": 1000000000}"#, "max_tokens"),
        (#"{"prompt": "x", "max_tokens": 0}"#, "max_tokens"),
        (#"{"prompt": "x", "max_tokens": 1.5}"#, "max_tokens"),
        (#"{"prompt": "x", "n": 1000000, "temperature": 1}"#, "n"),
        (#"{"prompt": "x", "n": 2}"#, "n"),
        (#"{"prompt": "x", "top_p": 0}"#, "top_p"),
        (#"{"prompt": "x", "top_p": 1.5}"#, "top_p"),
        (#"{"prompt": "x", "stop": [""]}"#, "stop"),
        (#"{"prompt": "x", "stop": ["a","b","c","d","e"]}"#, "stop"),
        (#"{"prompt": "x", "stream": "yes"}"#, "stream"),
        (#"{"prompt": "x", "stream_options": {"include_usage": true}}"#, "stream_options"),
        (#"{"prompt": "x", "logprobs": 6}"#, "logprobs"),
        (#"{"prompt": "x", "logprobs": -1}"#, "logprobs"),
        (#"{"prompt": "x", "logprobs": true}"#, "logprobs"),
        (#"{"prompt": "x", "logprobs": 2, "stream": true}"#, "logprobs"),
        (#"{"prompt": "x", "cot": "many-shot"}"#, "cot"),
        (#"{"prompt": "x", "num_beams": 0}"#, "num_beams"),
        (#"{"prompt": "x", "num_beams": 2, "temperature": 0.5}"#, "num_beams"),
        (#"{"prompt": "x", "min_tokens": 20, "max_tokens": 10}"#, "min_tokens"),
        (#"{"prompt": "x", "repetition_penalty": 0}"#, "repetition_penalty"),
        (#"{"prompt": "x", "self_consistency": 3, "stream": true}"#, "stream"),
        (#"{"prompt": "x", "logit_bias": {"abc": 1}}"#, "logit_bias"),
        (#"{"prompt": "x", "logit_bias": {"5": 1000}}"#, "5"),
        (#"{"prompt": "x", "frequency_penalty": 0.5}"#, "frequency_penalty"),
        (#"{"prompt": "x", "surprise": 1}"#, "surprise"),
        (#"{"prompt": "x", "prompt": "y"}"#, "prompt"),
        (#"{"prompt": "x", "seed": 1e400}"#, "seed"),
    ])
    func badFieldsAre400NamingTheField(json: String, param: String) {
        let e = refusal(json)
        #expect(e?.status == 400, "\(json)")
        #expect(e?.type == "invalid_request_error")
        #expect(e?.param == param, "\(json): \(String(describing: e))")
    }

    @Test(arguments: ["", "{", "[1]", "\"x\"", "{\"prompt\": \"x\"} trailing", "{\"prompt\": NaN}", "{'prompt': 'x'}"])
    func malformedJSONIs400(json: String) {
        #expect(refusal(json)?.status == 400)
    }

    @Test func invalidUTF8Is400() {
        var bytes = Array(#"{"prompt": "ab"}"#.utf8)
        bytes[12] = 0xFF
        #expect(throws: APIError.self) { try CompletionRequest(body: bytes, limits: limits) }
    }

    @Test func mapsToGenerationOptions() throws {
        let base = GenerationOptions()
        func map(_ json: String) throws -> GenerationOptions {
            try completion(json).decoding.options(base: base, limits: limits, defaultMaxTokens: 16, randomSeed: { 42 })
        }
        let greedy = try map(#"{"prompt": "x"}"#)
        #expect(!greedy.doSample && greedy.maxNewTokens == 16 && greedy.numBeams == 1 && greedy.numReturnSequences == 1)
        #expect(try map(#"{"prompt": "x", "temperature": 0, "max_tokens": 7}"#).doSample == false)
        let sampled = try map(#"{"prompt": "x", "temperature": 0.7, "top_p": 0.9, "n": 3, "seed": -1, "stop": "\n"}"#)
        #expect(sampled.doSample && sampled.temperature == 0.7 && sampled.topP == 0.9 && sampled.numReturnSequences == 3)
        #expect(sampled.topK == 0, "OpenAI semantics: no top-k unless asked")
        #expect(sampled.seed == UInt64.max && sampled.stopStrings == ["\n"])
        #expect(try map(#"{"prompt": "x", "temperature": 1}"#).seed == 42, "an unseeded sample draws a seed")
        let beams = try map(#"{"prompt": "x", "num_beams": 4, "n": 2, "length_penalty": 0.5, "no_repeat_ngram_size": 3, "min_tokens": 2, "repetition_penalty": 1.2}"#)
        #expect(beams.numBeams == 4 && beams.numReturnSequences == 2 && beams.lengthPenalty == 0.5)
        #expect(beams.noRepeatNgramSize == 3 && beams.minNewTokens == 2 && beams.repetitionPenalty == 1.2 && beams.rowsPerPrompt == 4)
        let sc = try map(#"{"prompt": "x", "self_consistency": 5, "cot": "zero-shot"}"#)
        #expect(sc.doSample && sc.numReturnSequences == 5 && sc.temperature == 0.7 && sc.topK == 40)
        let bias = try map(#"{"prompt": "x", "logit_bias": {"7": -100, "3": 2.5}}"#)
        #expect(bias.sequenceBias == [SequenceBias(tokens: [3], bias: 2.5), SequenceBias(tokens: [7], bias: -100)])
        var few = limits
        few.maxBatch = 4
        #expect(throws: APIError.self) {
            try completion(#"{"prompt": "x", "num_beams": 8}"#).decoding.options(base: base, limits: few, defaultMaxTokens: 16, randomSeed: { 0 })
        }
    }

    @Test func chatPromptRule() throws {
        func chat(_ json: String) throws -> ChatRequest { try ChatRequest(body: Array(json.utf8), limits: limits) }
        #expect(try chat(#"{"messages": [{"role": "user", "content": "Hi there"}]}"#).prompt == "Hi there")
        let full = try chat(#"""
            {"messages": [{"role": "user", "content": "Q1"}, {"role": "system", "content": "Be short."},
                          {"role": "assistant", "content": "A1"}, {"role": "user", "content": [{"type": "text", "text": "Q2"}]}],
             "max_completion_tokens": 5}
            """#)
        #expect(full.prompt == "Be short.\n\nQ1\n\nA1\n\nQ2")
        #expect(full.decoding.maxTokens == 5)
        #expect(refusal(#"{"messages": []}"#, chat: true)?.param == "messages")
        #expect(refusal(#"{"messages": [{"role": "system", "content": "x"}]}"#, chat: true)?.param == "messages")
        #expect(refusal(#"{"messages": [{"role": "tool", "content": "x"}]}"#, chat: true)?.param == "messages")
        #expect(refusal(#"{"messages": [{"role": "user", "content": 5}]}"#, chat: true)?.param == "messages")
        #expect(refusal(#"{"messages": [{"role": "user", "content": "x"}], "logprobs": true}"#, chat: true)?.param == "logprobs")
        #expect(refusal(#"{"messages": [{"role": "user", "content": "x"}], "tools": []}"#, chat: true)?.param == "tools")
    }

    @Test func embeddingsRequest() throws {
        let r = try EmbeddingRequest(body: Array(#"{"input": ["a", "b"], "encoding_format": "base64"}"#.utf8), limits: limits)
        #expect(r.inputs == ["a", "b"] && r.format == .base64)
        #expect(throws: APIError.self) { try EmbeddingRequest(body: Array(#"{"input": [{"not": "text"}]}"#.utf8), limits: limits) }
        #expect(throws: APIError.self) { try EmbeddingRequest(body: Array(#"{"input": "a", "encoding_format": "int8"}"#.utf8), limits: limits) }
    }

    @Test func errorObjectShape() throws {
        let body = APIError.invalid("bad", param: "n").body
        let json = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        let error = json?["error"] as? [String: Any]
        #expect(error?["message"] as? String == "bad" && error?["type"] as? String == "invalid_request_error")
        #expect(error?["param"] as? String == "n" && error?["code"] is NSNull)
    }

    @Test func streamedTextHoldsBackStopPrefixes() {
        var s = StreamedText(stops: ["END"])
        #expect(s.update("Hello E") == "Hello ")
        #expect(s.update("Hello EN") == "")
        #expect(s.update("Hello ENx") == "ENx")
        #expect(s.update("Hello ENx END more") == " ")
        #expect(s.stopped && s.emitted == "Hello ENx ")
        var plain = StreamedText(stops: [])
        #expect(plain.update("a") == "a")
        #expect(plain.finish("ab") == "b")
        #expect(StreamedText.final("one two three", stops: ["three", "two"]) == "one ")
    }

    @Test func embeddingVectorsEncodeExactly() throws {
        let v: [Float] = [0.1, -2.5, 3e-8]
        let floats = EmbeddingResponse(vectors: [v], format: .float, model: "m", promptTokens: 2).jsonBytes()
        let text = String(decoding: floats, as: UTF8.self)
        #expect(text.contains("0.10000000149011612"), "a float32 written as the double it is: \(text)")
        let b64 = EmbeddingResponse(vectors: [v], format: .base64, model: "m", promptTokens: 2).jsonBytes()
        let obj = try JSONSerialization.jsonObject(with: b64) as? [String: Any]
        let s = ((obj?["data"] as? [[String: Any]])?.first?["embedding"] as? String) ?? ""
        let data = Data(base64Encoded: s) ?? Data()
        let back = data.withUnsafeBytes { raw in (0..<3).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } }
        #expect(back == v)
    }
}
