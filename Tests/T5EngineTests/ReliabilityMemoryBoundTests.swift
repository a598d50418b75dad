// The working-memory bound of a request, written out for flan-t5-small, and the check that refuses a request
// over `memoryLimitBytes` before allocating (RunState.swift: EncoderState.bytes + DecoderState.bytes).
//
// KV cache for a 2,048-token prompt, batch 8, flan-t5-small (d_model 512, inner = 6 heads × d_kv 64 = 384,
// d_ff 1024 gated, 8 decoder layers, vocab 32128), T decoder steps (= max new tokens), f32:
//   cross-attention K and V, computed once:  2 × layers × batch × L × inner × 4 B = 2·8·8·2048·384·4 = 384 MiB
//   self-attention K and V:                  2 × layers × batch × T × inner × 4 B = 196,608 B × T (24 MiB at T = 128;
//                                            beam search keeps a second copy for reordering)
// Whole request (what the check adds up, both live at once while the encoder runs), T = 128, greedy:
//   encoder scratch  (rows·(d_model + max(d_model, inner) + max(3·inner, 2·d_ff)) + L² + ⌈L/32⌉·32·d_kv) × 4 B,
//                    rows = one group of prompts (at most 512 padded rows, at least one prompt: here one prompt,
//                    2,048 rows)                                                           = 42,467,328 B (40.5 MiB)
//   decoder state    (layers·2·inner·(8·L + 8·T) + 8·(2·d_model + 4·inner + 2·d_ff + vocab) + heads·T
//                     + lanes·max(T, L)) × 4 B, lanes = min(8 rows × 6 heads, 16) score rows   = 429,128,704 B (409 MiB)
//   total                                                                                   = 471,596,032 B (449.75 MiB)
// on top of the 294 MiB of mapped weights. The encoder's L² scores are per head and row, one at a time.
import Foundation
import Testing
@testable import T5Modeling
@testable import T5Engine

@Suite struct ReliabilityMemoryBoundTests {
    static let flanT5Small = T5Config(vocabSize: 32128, dModel: 512, dKV: 64, dFF: 1024, numLayers: 8, numHeads: 6,
                                      feedForwardProj: "gated-gelu", tieWordEmbeddings: false)

    @Test func flanT5SmallBoundForA2048TokenBatchOf8() {
        let c = Self.flanT5Small
        let (batch, length, steps) = (8, 2048, 128)
        let group = PromptBatch([[Int]](repeating: [Int](repeating: 5, count: length), count: batch), padId: 0).encoderGroupRows
        #expect(group == length)
        let encoder = EncoderState.bytes(config: c, rows: group, length: length, gated: true)
        let decoder = DecoderState.bytes(config: c, batch: batch, prompts: batch, maxSteps: steps, encoderLength: length,
                                         gated: true, reorderable: false)
        // Encoder scratch per row: x (512), h shared with the attention output (max(512, inner 384)), and q/k/v shared
        // with the gated feed-forward (max(3 * 384, 2 * 1024)); then one head's 2048 x 2048 scores and its 2048 keys
        // packed 64 wide: 4 * (2048 * (512 + 512 + 2048) + 2048 * 2048 + 2048 * 64) bytes.
        #expect(encoder == 42_467_328)
        #expect(decoder == 429_128_704)
        #expect(encoder + decoder == 471_596_032)
        // The KV caches inside the decoder figure.
        let crossKV = 2 * c.numDecoderLayers * batch * length * c.innerDim * 4
        let selfKV = 2 * c.numDecoderLayers * batch * steps * c.innerDim * 4
        #expect(crossKV == 384 << 20 && selfKV == 24 << 20)
        #expect(Double(crossKV + selfKV) < decoder)
        // Beam search (4 beams per prompt, 32 rows) adds the reorder copy of the self-attention cache.
        let beams = DecoderState.bytes(config: c, batch: batch * 4, prompts: batch, maxSteps: steps, encoderLength: length,
                                       gated: true, reorderable: true)
        #expect(beams == Double(4 * (8 * 2 * 384 * (8 * 2048 + 2 * 32 * 128) + 32 * (1024 + 1536 + 2048 + 32128) + 6 * 128 + 16 * 2048)))
    }

    /// The estimates are in Double, so absurd requests cannot wrap around to a small number and pass the check.
    @Test func absurdRequestsDoNotOverflowTheEstimate() {
        let c = Self.flanT5Small
        let e = EncoderState.bytes(config: c, rows: Int.max / 2, length: Int.max / 2, gated: true)
        let d = DecoderState.bytes(config: c, batch: 1 << 40, prompts: 1 << 40, maxSteps: 1 << 40, encoderLength: 1 << 40,
                                   gated: true, reorderable: true)
        #expect(e.isFinite && e > Double(Int.max))
        #expect(d.isFinite && d > Double(Int.max))
    }

    /// The limit is exact: a request needing exactly `memoryLimitBytes` runs, one byte less is refused, typed.
    @Test func theLimitIsTheFormulaExactly() throws {
        let dir = Fixtures.modelDirectory("v11-gated")
        let c = try T5Config.load(from: dir)
        let (batch, length, steps) = (8, 256, 3)
        // The encoder runs 2 of the 256-token prompts at a time (512 rows).
        let prompts = (0..<batch).map { b in (0..<length - 1).map { 3 + ($0 * 7 + b) % 500 } + [1] }
        #expect(PromptBatch(prompts, padId: 0).encoderGroupRows == 2 * length)
        let need = EncoderState.bytes(config: c, rows: 2 * length, length: length, gated: true)
            + DecoderState.bytes(config: c, batch: batch, prompts: batch, maxSteps: steps, encoderLength: length,
                                 gated: true, reorderable: false)
        let exact = try T5Model(directory: dir, memoryLimitBytes: Int(need))
        #expect(try exact.generateGreedy(prompts: prompts, maxNewTokens: steps).count == batch)
        let under = try T5Model(directory: dir, memoryLimitBytes: Int(need) - 1)
        #expect(throws: RequestError.tooLarge(bytes: Int(need), limit: Int(need) - 1,
                                                 what: "8 prompt(s) of up to 256 tokens × 1 row(s) with 3 decoder steps")) {
            _ = try under.generateGreedy(prompts: prompts, maxNewTokens: steps)
        }
    }

    /// On the real flan-t5-small: the 2,048 × 8 request is refused under 449 MiB with exactly the figure above,
    /// before any work (the encoder over 16k tokens would take minutes here).
    @Test(.enabled(if: LargeFixtures.available, "needs fixtures-large/flan-t5-small"))
    func flanT5SmallRefusesTheBatchUnderItsBound() throws {
        let model = try T5Model(directory: LargeFixtures.flanT5Small!, memoryLimitBytes: 440 << 20)
        #expect(model.config == Self.flanT5Small || model.config.dModel == 512)
        let prompts = [[Int]](repeating: [Int](repeating: 100, count: 2047) + [1], count: 8)
        let before = peakResidentBytes()
        #expect(throws: RequestError.tooLarge(bytes: 471_596_032, limit: 440 << 20,
                                                 what: "8 prompt(s) of up to 2048 tokens × 1 row(s) with 128 decoder steps")) {
            _ = try model.generateGreedy(prompts: prompts, maxNewTokens: 128)
        }
        #expect(peakResidentBytes() - before < 64 << 20)
    }
}
