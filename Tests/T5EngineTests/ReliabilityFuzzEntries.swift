// The bodies of the libFuzzer targets, shared by two builds: Scripts/fuzz.sh compiles this file with
// Fuzz/FuzzMain.swift (-D T5_FUZZING, -sanitize=fuzzer,address) against the library modules it imports, built
// by that script, and the test suite replays every committed corpus file through the same functions
// (ReliabilityFuzzCorpusTests). Import only modules the fuzz build compiles (not T5Engine or T5Generation);
// every `@testable` module here gets -enable-testing there.
import Foundation
import T5SafeTensors
import T5Tensor
import T5Tokenizers
@testable import T5Modeling

/// What a target made of one input: a value it checked, or the typed error the library threw.
enum FuzzOutcome {
    case accepted
    case rejected(any Error)
}

/// A property a target checks on an accepted input; a violation is a bug even without a crash.
struct FuzzInvariantViolation: Error, CustomStringConvertible {
    let description: String
}

enum FuzzTarget: String, CaseIterable, Sendable {
    /// Bytes as a whole `model.safetensors`: header validation, then every tensor read as floats.
    case safetensors
    /// Bytes as `config.json`: `T5Config.decode`, then the derived sizes used for allocation.
    case config
    /// Bytes as `tokenizer.json`; a tokenizer that loads must encode and decode probe strings.
    case tokenizerJSON = "tokenizer-json"
    /// Bytes as `spiece.model`; same probes.
    case spiece
    /// The standard tokenizer on arbitrary bytes: `encode(utf8:)`, and the bytes read as an id list for `decode`.
    case encodeDecode = "encode-decode"

    /// Runs one input. Throws `FuzzInvariantViolation` when a result breaks a documented property; a crash,
    /// trap or sanitizer report is what libFuzzer records. Any other library error counts as a clean rejection;
    /// the corpus tests check its type.
    func run(_ data: Data) throws(FuzzInvariantViolation) -> FuzzOutcome {
        switch self {
        case .safetensors: return try Self.safetensors(data)
        case .config: return try Self.config(data)
        case .tokenizerJSON: return try Self.loadedTokenizer { () throws(TokenizerError) in try T5Tokenizer(tokenizerJSON: data, source: "fuzz.json") }
        case .spiece: return try Self.loadedTokenizer { () throws(TokenizerError) in try T5Tokenizer(sentencePieceModel: data, source: "fuzz.model") }
        case .encodeDecode: return try Self.encodeDecode(data)
        }
    }

    /// The error type each target may throw for bad input; anything else escaping is a bug.
    func isExpected(_ error: any Error) -> Bool {
        switch self {
        case .safetensors: return error is WeightsError
        case .config: return error is ConfigError
        case .tokenizerJSON, .spiece, .encodeDecode: return error is TokenizerError
        }
    }

    // MARK: - safetensors

    /// Where each input is written as a model folder: tmpfs when there is one, since libFuzzer writes thousands a second.
    /// Each call makes and removes its own folder, so fuzzing processes and parallel tests never share one.
    private static let scratch: URL = FileManager.default.fileExists(atPath: "/dev/shm")
        ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory

    private static func safetensors(_ data: Data) throws(FuzzInvariantViolation) -> FuzzOutcome {
        let dir = scratch.appendingPathComponent("t5-fuzz-\(getpid())-\(UUID().uuidString)")
        let file = dir.appendingPathComponent("model.safetensors")
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try data.write(to: file)
        } catch {
            return .rejected(WeightsError.unreadable(path: file.path, reason: "fuzz scratch: \(error)"))
        }
        defer { try? FileManager.default.removeItem(at: dir) }

        let store: WeightStore
        do {
            // Parse alone first, so the header parser is exercised even when the folder logic would refuse.
            let parsed = try SafetensorsFile(url: file)
            let dataSize = data.count - parsed.dataStart
            for info in parsed.tensors.values {
                let view = parsed.bytes(of: info)
                guard info.dataOffsets.lowerBound >= 0, info.dataOffsets.upperBound <= dataSize,
                      view.count == info.dataOffsets.count,
                      view.count == info.elementCount * info.dtype.byteSize else {
                    throw FuzzInvariantViolation(description: "tensor \(info.name) accepted with offsets \(info.dataOffsets) for \(dataSize) data bytes")
                }
            }
            store = try WeightStore(directory: dir)
            var checksum: Float = 0
            for name in store.tensorNames {
                guard let info = store.info(name) else { continue }
                guard [.f32, .f16, .bf16].contains(info.dtype) else {
                    _ = try store.rawTensor(name)
                    continue
                }
                let tensor = try store.floatTensor(name, shape: info.shape)
                tensor.withUnsafeBufferPointer { values in
                    for v in values { checksum += v }
                }
            }
            _ = checksum
        } catch let violation as FuzzInvariantViolation {
            throw violation
        } catch {
            return .rejected(error)
        }
        return .accepted
    }

    // MARK: - config

    private static func config(_ data: Data) throws(FuzzInvariantViolation) -> FuzzOutcome {
        do {
            let config = try T5Config.decode(data, path: "fuzz/config.json")
            // Everything derived from an accepted config must be computable without overflow.
            _ = try config.feedForward()
            _ = config.innerDim
            // Every relative position maps to a row of the bias table, in both stacks (the table is read by bucket).
            for bidirectional in [true, false] {
                for position in [0, 1, -1, 2, -2, 7, -7, 100, -100, 4096, -4096, 1 << 20, -(1 << 20)] {
                    let b = relativePositionBucket(position, bidirectional: bidirectional,
                                                   numBuckets: config.relativeAttentionNumBuckets,
                                                   maxDistance: config.relativeAttentionMaxDistance)
                    if b < 0 || b >= config.relativeAttentionNumBuckets {
                        throw FuzzInvariantViolation(description: "bucket \(b) for position \(position) outside 0..<\(config.relativeAttentionNumBuckets)")
                    }
                }
            }
            return .accepted
        } catch let violation as FuzzInvariantViolation {
            throw violation
        } catch {
            return .rejected(error)
        }
    }

    // MARK: - tokenizers

    /// Strings that reach the normalizer's charsmap, Metaspace, the Unigram lattice, added tokens and byte fallback.
    static let probes: [String] = [
        "", " ", "Hello world", "translate English to German: That is good.",
        "  leading and  double  spaces ", "Ｆｕｌｌｗｉｄｔｈ ①②③ ﬁ Å Å", "emoji 👩‍👩‍👧 and 𝔘𝔫𝔦",
        "<extra_id_0> masked <extra_id_99></s><pad><unk>", "tab\tnew\nline\u{0}nul\u{7}bell", "▁▁▁",
        String(repeating: "a", count: 300), "日本語のテキストと中文",
    ]

    private static func loadedTokenizer(_ load: () throws(TokenizerError) -> T5Tokenizer) throws(FuzzInvariantViolation) -> FuzzOutcome {
        let tokenizer: T5Tokenizer
        do {
            tokenizer = try load()
        } catch {
            return .rejected(error)
        }
        try exercise(tokenizer)
        return .accepted
    }

    /// Encodes every probe and decodes the ids and a range of raw ids (valid and not).
    private static func exercise(_ tokenizer: T5Tokenizer) throws(FuzzInvariantViolation) {
        let size = tokenizer.vocabularySize
        for probe in probes {
            let ids = tokenizer.encode(probe)
            try checkRange(ids, size)
            _ = tokenizer.decode(ids)
            _ = tokenizer.decode(ids, skipSpecialTokens: false)
            _ = tokenizer.decode(ids, from: ids.count / 2)
        }
        let sample = Array(-2..<min(size + 2, 300)) + [size - 1, size, Int.max, Int.min]
        _ = tokenizer.decode(sample)
        _ = tokenizer.decode(sample, skipSpecialTokens: false)
        for id in sample {
            if let piece = tokenizer.piece(for: id) { _ = tokenizer.id(for: piece) }
            _ = tokenizer.isSpecialToken(id)
        }
    }

    private static func checkRange(_ ids: [Int], _ size: Int) throws(FuzzInvariantViolation) {
        if let bad = ids.first(where: { $0 < 0 || $0 >= size }) {
            throw FuzzInvariantViolation(description: "encode produced id \(bad) outside 0..<\(size)")
        }
    }

    // MARK: - encode / decode with the standard tokenizer

    private static func encodeDecode(_ data: Data) throws(FuzzInvariantViolation) -> FuzzOutcome {
        let tokenizer: T5Tokenizer
        do {
            tokenizer = try T5Tokenizer.standard()
        } catch {
            throw FuzzInvariantViolation(description: "standard tokenizer unavailable: \(error)")
        }
        let size = tokenizer.vocabularySize
        let bytes = [UInt8](data)

        // The same bytes, repaired, always encode.
        let repaired = tokenizer.encode(String(decoding: bytes, as: UTF8.self))
        try checkRange(repaired, size)
        _ = tokenizer.decode(repaired)

        // The bytes as little-endian Int32 ids, many out of range or negative; also as a streaming split.
        var ids: [Int] = []
        ids.reserveCapacity(bytes.count / 4)
        var i = 0
        while i + 4 <= bytes.count {
            let raw = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
            // Mostly small ids (so real pieces are hit), sometimes anything.
            ids.append(raw & 0x8000_0000 != 0 ? Int(Int32(bitPattern: raw)) : Int(raw % UInt32(size + 8)))
            i += 4
        }
        let whole = tokenizer.decode(ids)
        let split = bytes.first.map { Int($0) % (ids.count + 1) } ?? 0
        let streamed = tokenizer.decode(Array(ids[..<split])) + tokenizer.decode(ids, from: split)
        if Array(whole.unicodeScalars) != Array(streamed.unicodeScalars) {
            throw FuzzInvariantViolation(description: "streaming decode differs from whole decode for \(ids)")
        }
        _ = tokenizer.decode(ids, skipSpecialTokens: false)

        // Raw bytes: valid UTF-8 gives the same ids as the String path; invalid UTF-8 is a typed error.
        do {
            let strict = try tokenizer.encode(utf8: bytes)
            if strict != repaired {
                throw FuzzInvariantViolation(description: "encode(utf8:) and encode(String) disagree on valid UTF-8")
            }
            return .accepted
        } catch let error as TokenizerError {
            if String(validating: bytes, as: UTF8.self) != nil {
                throw FuzzInvariantViolation(description: "valid UTF-8 rejected: \(error)")
            }
            return .rejected(error)
        } catch let violation as FuzzInvariantViolation {
            throw violation
        } catch {
            return .rejected(error)
        }
    }
}
