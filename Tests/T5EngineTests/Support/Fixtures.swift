// Locates and decodes the reference fixtures recorded from transformers (Scripts/make_fixtures.py).
import Foundation
import Testing
@testable import T5Engine

enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func modelDirectory(_ name: String) -> URL {
        root.appendingPathComponent("models").appendingPathComponent(name)
    }

    static func reference(_ name: String) throws -> Reference {
        let url = root.appendingPathComponent("reference").appendingPathComponent("\(name).json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    /// Loads each fixture model once per test process; models are immutable and shared.
    static func model(_ name: String) throws -> T5Model {
        try ModelCache.shared.model(name)
    }
}

final class ModelCache: @unchecked Sendable {
    static let shared = ModelCache()
    private let lock = NSLock()
    private var models: [String: T5Model] = [:]

    func model(_ name: String) throws -> T5Model {
        lock.lock(); defer { lock.unlock() }
        if let m = models[name] { return m }
        let m = try T5Model(directory: Fixtures.modelDirectory(name))
        models[name] = m
        return m
    }
}

/// The schema written by Scripts/make_fixtures.py (see Fixtures/README.md).
struct Reference: Decodable {
    struct Single: Decodable {
        let encoderOutput: [Float]?
        let greedyIds: [Int]
        let stepLogits: [[Float]]
        enum CodingKeys: String, CodingKey {
            case encoderOutput = "encoder_output", greedyIds = "greedy_ids", stepLogits = "step_logits"
        }
    }
    struct Batch: Decodable {
        let promptIndices: [Int]
        let greedyIds: [[Int]]
        let step0Logits: [[Float]]?
        enum CodingKeys: String, CodingKey {
            case promptIndices = "prompt_indices", greedyIds = "greedy_ids", step0Logits = "step0_logits"
        }
    }
    let model: String
    let maxNewTokens: Int
    let prompts: [[Int]]
    let single: [Single]
    let batch: Batch?
    let minTop2Gap: Double?
    enum CodingKeys: String, CodingKey {
        case model, prompts, single, batch
        case maxNewTokens = "max_new_tokens", minTop2Gap = "min_top2_gap"
    }
}

/// Teacher forcing: feeds PyTorch's greedy ids to a session one step at a time and expects every step's logits within
/// `relativeTolerance` of the recorded ones.
func expectStepLogitsMatch(_ model: T5Model, prompt: [Int], _ single: Reference.Single, _ label: String) throws {
    let session = try DecodingSession(model: model, prompts: [prompt], maxSteps: max(1, single.stepLogits.count))
    var token = model.config.decoderStartTokenId
    for (step, expected) in single.stepLogits.enumerated() {
        try session.step([token])
        let (err, scale) = maxAbsError(session.logits(row: 0), expected)
        #expect(err <= relativeTolerance * scale, "\(label) step \(step): logits max abs err \(err), scale \(scale)")
        token = single.greedyIds[step]
    }
}

/// Largest |a - b| over two equal-length vectors, and the largest |b| (the scale of the reference).
func maxAbsError(_ a: [Float], _ b: [Float]) -> (error: Float, scale: Float) {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    var err: Float = 0, scale: Float = 0
    for i in 0..<a.count {
        err = max(err, abs(a[i] - b[i]))
        scale = max(scale, abs(b[i]))
    }
    return (err, scale)
}
