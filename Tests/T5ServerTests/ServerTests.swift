// `t5 serve` end to end over HTTP: every endpoint, streaming, every error status, continuous batching giving each
// request exactly its output alone, a client leaving mid-stream, overload, timeouts and shutdown while busy.
import AsyncHTTPClient
import Foundation
import Testing
import T5Engine
import T5Server
import T5ServerAPI

let question = "Nora has 30 flowers. She loses 26 flowers. Then she gives away 2 flowers. How many flowers does Nora have now?"
let question2 = "Emma has 41 marbles. She sells 6 marbles. Then she loses 14 marbles. How many marbles does Emma have now?"

@Suite(.serialized) struct ServerTests {
    @Test func endpointsAndErrorStatuses() async throws {
        let s = try await TestServer.start { $0.apiKey = "sekret"; $0.maxBodyBytes = 4096 }
        let auth = ["Authorization": "Bearer sekret"]
        #expect(try await s.request(.GET, "/health").status == 200)
        #expect(try await s.request(.GET, "/ready").json["status"] as? String == "ready")
        let page = try await s.request(.GET, "/")
        #expect(page.status == 200 && page.text.contains("<html") && page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(try await s.request(.GET, "/app.js").status == 200)
        let models = try await s.request(.GET, "/v1/models", headers: auth)
        #expect(((models.json["data"] as? [[String: Any]])?.first?["id"] as? String) == "demo-t5")

        // 401: no key, wrong key.
        let noKey = try await s.request(.GET, "/v1/models")
        #expect(noKey.status == 401 && noKey.error?["code"] as? String == "invalid_api_key")
        #expect(try await s.post("/v1/completions", #"{"prompt": "hi"}"#, headers: ["Authorization": "Bearer nope"]).status == 401)
        // 404, 405.
        let missing = try await s.request(.GET, "/v2/nothing", headers: auth)
        #expect(missing.status == 404 && missing.error?["message"] != nil && missing.error?["type"] != nil)
        let wrongMethod = try await s.request(.GET, "/v1/completions", headers: auth)
        #expect(wrongMethod.status == 405 && wrongMethod.error != nil)
        // 400: bad JSON, wrong types, out of range, invalid UTF-8, prompt over the limit.
        for body in ["{", #"{"prompt": 5}"#, #"{"prompt": "x", "temperature": -1}"#, #"{"prompt": "x", "max_tokens": 1000000000}"#,
                     #"{"prompt": "x", "n": 1000000, "temperature": 1}"#, #"{"prompt": "x", "logprobs": 6}"#,
                     #"{"prompt": "x", "logprobs": 1, "stream": true}"#] {
            let r = try await s.post("/v1/completions", body, headers: auth)
            #expect(r.status == 400 && r.error?["type"] as? String == "invalid_request_error", "\(body): \(r.status) \(r.text)")
        }
        var utf8 = Array(#"{"prompt": "ab"}"#.utf8)
        utf8[12] = 0xC3
        #expect(try await s.request(.POST, "/v1/completions", bytes: utf8, headers: auth).status == 400)
        let long = String(repeating: "flowers ", count: 300)
        let tooLong = try await s.post("/v1/completions", #"{"prompt": "\#(long)"}"#, headers: auth)
        #expect(tooLong.status == 400 && tooLong.error?["code"] as? String == "context_length_exceeded", "\(tooLong.text)")
        // 413 over the body limit.
        let huge = try await s.post("/v1/completions", #"{"prompt": "\#(String(repeating: "a", count: 10_000))"}"#, headers: auth)
        #expect(huge.status == 413 && huge.error != nil)
        // A streamed request with a bad value fails before any chunk, as a plain 400.
        let badStream = try await s.post("/v1/completions", #"{"prompt": "x", "stream": true, "temperature": -1}"#, headers: auth)
        #expect(badStream.status == 400 && badStream.error != nil)

        let metrics = try await s.request(.GET, "/metrics").text
        for name in ["t5_requests_total{path=\"/v1/completions\",status=\"400\"}", "t5_queue_depth", "t5_batch_rows",
                     "t5_time_to_first_token_seconds_bucket", "t5_time_per_output_token_seconds_bucket", "t5_prompt_tokens_total"] {
            #expect(metrics.contains(name), "metrics lack \(name)")
        }
        try await s.stop()
    }

    @Test func completionsChatEmbeddingsAndStreaming() async throws {
        let s = try await TestServer.start()
        let body = #"{"prompt": "\#(question)", "max_tokens": 24, "temperature": 0}"#
        let r = try await s.post("/v1/completions", body)
        #expect(r.status == 200 && r.json["object"] as? String == "text_completion")
        let text = texts(r)[0]
        #expect(text == (try s.alone(body))[0][0])
        let usage = r.json["usage"] as? [String: Int]
        #expect((usage?["prompt_tokens"] ?? 0) > 0 && usage?["total_tokens"] == (usage?["prompt_tokens"] ?? 0) + (usage?["completion_tokens"] ?? -1))

        // Streaming: the pieces join to the same text; finish_reason and usage arrive last, then [DONE].
        let events = try await s.stream("/v1/completions", #"{"prompt": "\#(question)", "max_tokens": 24, "temperature": 0, "stream": true, "stream_options": {"include_usage": true}}"#)
        #expect(events.last == "[DONE]")
        let chunks = events.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let pieces = chunks.flatMap { ($0["choices"] as? [[String: Any]]) ?? [] }.map { $0["text"] as? String ?? "" }
        #expect(pieces.joined() == text)
        #expect((chunks.last?["usage"] as? [String: Int]) == usage)

        // Chat: one user turn answers like the same text as a completion; streamed deltas join to the message.
        let chat = try await s.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "\#(question)"}], "max_tokens": 24, "temperature": 0}"#)
        let message = ((chat.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])
        #expect(chat.json["object"] as? String == "chat.completion" && message?["role"] as? String == "assistant")
        #expect(message?["content"] as? String == text)
        let chatEvents = try await s.stream("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "\#(question)"}], "max_tokens": 24, "temperature": 0, "stream": true}"#)
        let deltas = chatEvents.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .flatMap { ($0["choices"] as? [[String: Any]]) ?? [] }.compactMap { $0["delta"] as? [String: Any] }
        #expect(deltas.compactMap { $0["content"] as? String }.joined() == text)
        #expect(deltas.first?["role"] as? String == "assistant")

        // Stop strings cut the text before them (a chain-of-thought answer has words to stop at), streamed or not.
        let cotBody = #"{"prompt": "\#(question)", "max_tokens": 40, "temperature": 0, "cot": "zero-shot"}"#
        let reasoning = texts(try await s.post("/v1/completions", cotBody))[0]
        let stop = String(reasoning.split(separator: " ")[2])
        let stopBody = #"{"prompt": "\#(question)", "max_tokens": 40, "temperature": 0, "cot": "zero-shot", "stop": ["\#(stop)"]"#
        let cut = try await s.post("/v1/completions", stopBody + "}")
        #expect(texts(cut)[0] == String(reasoning[..<reasoning.range(of: stop)!.lowerBound]), "\(reasoning) cut at \(stop)")
        #expect((cut.json["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String == "stop")
        let cutEvents = try await s.stream("/v1/completions", stopBody + #", "stream": true}"#)
        let cutPieces = cutEvents.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .flatMap { ($0["choices"] as? [[String: Any]]) ?? [] }.map { $0["text"] as? String ?? "" }
        #expect(cutPieces.joined() == texts(cut)[0])

        // Embeddings: float and base64 agree bit for bit and equal the library's mean-pooled encoder states.
        let floats = try await s.post("/v1/embeddings", #"{"input": ["The quick brown fox.", "\#(question)"]}"#)
        let b64 = try await s.post("/v1/embeddings", #"{"input": "The quick brown fox.", "encoding_format": "base64"}"#)
        let vectors = ((floats.json["data"] as? [[String: Any]]) ?? []).map { ($0["embedding"] as? [Double] ?? []).map(Float.init) }
        let encoded = ((b64.json["data"] as? [[String: Any]])?.first?["embedding"] as? String) ?? ""
        let data = Data(base64Encoded: encoded) ?? Data()
        let decoded = data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        let library = try s.model.generator.embed(text: "The quick brown fox.").pooled
        #expect(vectors.count == 2 && vectors[0] == library && decoded == library)
        try await s.stop()
    }

    /// `logprobs` (OpenAI's legacy completions shape): per generated token the library's log-probability and its
    /// top alternatives, greedy and sampled, beside other requests in the batch.
    @Test func logprobsEqualTheLibrarys() async throws {
        let s = try await TestServer.start()
        let bodies = [#"{"prompt": "\#(question)", "max_tokens": 12, "temperature": 0, "logprobs": 3}"#,
                      #"{"prompt": "\#(question2)", "max_tokens": 12, "temperature": 0.8, "seed": 7, "n": 2, "logprobs": 0}"#,
                      #"{"prompt": "\#(question)", "max_tokens": 8, "num_beams": 2, "logprobs": 2}"#]
        let results = try await withThrowingTaskGroup(of: (Int, HTTPResult).self) { group in
            for (i, body) in bodies.enumerated() { group.addTask { (i, try await s.post("/v1/completions", body)) } }
            var out: [Int: HTTPResult] = [:]
            for try await (i, r) in group { out[i] = r }
            return out
        }
        for (i, body) in bodies.enumerated() {
            let r = try #require(results[i])
            #expect(r.status == 200, "\(body): \(r.text)")
            let choices = ((r.json["choices"] as? [[String: Any]]) ?? []).sorted { ($0["index"] as? Int ?? 0) < ($1["index"] as? Int ?? 0) }
            let expected = try s.aloneSequences(body).flatMap { $0 }
            #expect(choices.count == expected.count)
            for (choice, sequence) in zip(choices, expected) {
                let lp = try #require(choice["logprobs"] as? [String: Any], "\(body)")
                let values = (lp["token_logprobs"] as? [Double] ?? []).map(Float.init)
                let library = try #require(sequence.logprobs)
                #expect(values == library.map(\.logprob), "\(body)")
                let tops = lp["top_logprobs"] as? [[String: Double]] ?? []
                let k = i == 0 ? 3 : i == 1 ? 0 : 2
                #expect(tops.count == values.count && tops.allSatisfy { $0.count <= k })
                // Token texts join to the choice's text; the most likely token, when chosen, is among the alternatives.
                let tokens = lp["tokens"] as? [String] ?? []
                let offsets = lp["text_offset"] as? [Int] ?? []
                #expect(tokens.count == values.count && offsets.count == values.count && offsets == offsets.sorted())
                #expect(tokens.joined() == (choice["text"] as? String ?? ""), "\(tokens)")
                for j in 0..<min(tokens.count, tops.count, library.count) where k > 0 && library[j].top.first?.id == library[j].id {
                    #expect(tops[j][tokens[j]] != nil, "step \(j): \(tokens[j]) not among \(tops[j])")
                }
            }
        }
        try await s.stop()
    }

    @Test func concurrentMixedRequestsEqualTheirOutputAlone() async throws {
        let s = try await TestServer.start { $0.limits.maxBatch = 12 }
        var bodies: [String] = []
        for (i, prompt) in [question, question2, "What is 7 plus 5?"].enumerated() {
            bodies.append(#"{"prompt": "\#(prompt)", "max_tokens": 16, "temperature": 0}"#)
            bodies.append(#"{"prompt": "\#(prompt)", "max_tokens": 10, "temperature": 0.9, "top_p": 0.95, "n": 2, "seed": \#(100 + i)}"#)
            bodies.append(#"{"prompt": ["\#(prompt)", "\#(question2)"], "max_tokens": 8, "temperature": 0.7, "top_k": 20, "seed": \#(i)}"#)
            bodies.append(#"{"prompt": "\#(prompt)", "max_tokens": 8, "min_tokens": 8, "repetition_penalty": 1.3, "no_repeat_ngram_size": 2}"#)
        }
        bodies.append(#"{"prompt": "\#(question)", "max_tokens": 10, "num_beams": 3, "n": 2}"#)
        let results = try await withThrowingTaskGroup(of: (Int, HTTPResult).self) { group in
            for (i, body) in bodies.enumerated() { group.addTask { (i, try await s.post("/v1/completions", body)) } }
            var out: [Int: HTTPResult] = [:]
            for try await (i, r) in group { out[i] = r }
            return out
        }
        for (i, body) in bodies.enumerated() {
            let r = results[i]!
            #expect(r.status == 200, "\(body): \(r.text)")
            #expect(texts(r) == (try s.alone(body)).flatMap { $0 }, "request \(i) differs from its output alone: \(body)")
        }
        #expect(try await s.metric("t5_batch_rows") == 0)
        try await s.stop()
    }

    @Test func clientLeavingMidStreamFreesItsRows() async throws {
        let s = try await TestServer.start { $0.limits.maxBatch = 1 }
        // Holds the only row for 200 steps unless it is cancelled.
        let long = #"{"prompt": "\#(question)", "max_tokens": 200, "min_tokens": 200, "temperature": 0, "stream": true}"#
        let reader = Task { try await s.stream("/v1/completions", long) }
        while try await s.metric("t5_running_requests") != 1 { try await Task.sleep(for: .milliseconds(10)) }
        reader.cancel()
        _ = try? await reader.value
        let clock = ContinuousClock(), t0 = clock.now
        while try await s.metric("t5_running_requests") != 0 {
            try await Task.sleep(for: .milliseconds(10))
            #expect(clock.now - t0 < .seconds(5), "the row must be freed at the next step")
            if clock.now - t0 > .seconds(5) { break }
        }
        let next = try await s.post("/v1/completions", #"{"prompt": "\#(question)", "max_tokens": 8, "temperature": 0}"#)
        #expect(next.status == 200)
        try await s.stop()
    }

    @Test func overloadIs429AndTimeoutIs504() async throws {
        let s = try await TestServer.start {
            $0.limits.maxBatch = 1
            $0.maxQueue = 1
            $0.requestTimeout = .seconds(2)
        }
        let long = #"{"prompt": "\#(question)", "max_tokens": 250, "min_tokens": 250, "temperature": 0}"#
        let running = Task { try await s.post("/v1/completions", long) }
        while try await s.metric("t5_running_requests") != 1 { try await Task.sleep(for: .milliseconds(10)) }
        let queued = Task { try await s.post("/v1/completions", long) }
        while try await s.metric("t5_queue_depth") != 1 { try await Task.sleep(for: .milliseconds(10)) }
        let refused = try await s.post("/v1/completions", #"{"prompt": "x", "max_tokens": 2}"#)
        #expect(refused.status == 429 && refused.headers["retry-after"] != nil && refused.error?["type"] as? String == "rate_limit_error")
        // The request timeout ends both (running and queued) with an error instead of a hang.
        let a = try await running.value, b = try await queued.value
        #expect(a.status == 504 && a.error?["type"] as? String == "timeout_error", "\(a.status) \(a.text)")
        #expect(b.status == 504, "\(b.status) \(b.text)")
        #expect(try await s.post("/v1/completions", #"{"prompt": "x", "max_tokens": 2}"#).status == 200)
        try await s.stop()
    }

    @Test func shutdownWhileBusyFinishesRequestsInFlight() async throws {
        let s = try await TestServer.start()
        let body = #"{"prompt": "\#(question)", "max_tokens": 40, "min_tokens": 40, "temperature": 0}"#
        let busy = Task { try await s.post("/v1/completions", body) }
        while try await s.metric("t5_running_requests") != 1 { try await Task.sleep(for: .milliseconds(10)) }
        await s.server.shutdown()
        let r = try await busy.value
        #expect(r.status == 200 && (r.json["usage"] as? [String: Int])?["completion_tokens"] == 40, "\(r.text)")
        try await s.task.value
        await #expect(throws: (any Error).self) { _ = try await s.request(.GET, "/health", timeout: 1) }
    }
}
