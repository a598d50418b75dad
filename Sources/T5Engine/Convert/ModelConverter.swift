// Converts a Hugging Face T5 folder to a folder the engine loads the same way, with f32, f16, bf16 or int8 weights.
// Everything is written under `<out>.partial-<pid>` and renamed into place at the end, so an interrupted run never
// leaves a folder that looks valid, and the input is only ever read.
import Foundation
import T5Modeling

public enum ModelConverter {
    /// Files copied unchanged next to the weights (tokenizer and generation settings).
    static let weightFilePrefixes = ["model.safetensors", "model-", "pytorch_model", "tf_model", "flax_model"]

    /// Converts `input` into the new folder `output`. `progress(doneBytes, totalBytes)` is called after each tensor.
    /// LoRA `adapters` are merged in f32 before the weights are narrowed (int8 scales are those of the merged rows).
    public static func convert(
        input: URL, output: URL, dtype: ConvertDType, adapters: [LoRAAdapter] = [], progress: (Int, Int) -> Void = { _, _ in }
    ) throws {
        let fm = FileManager.default
        let inPath = input.standardizedFileURL.resolvingSymlinksInPath().path
        let outURL = output.standardizedFileURL.resolvingSymlinksInPath()
        guard outURL.path != inPath else { throw ConvertError.sameAsInput(path: outURL.path) }
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: outURL.path, isDirectory: &isDirectory) {
            let empty = isDirectory.boolValue && ((try? fm.contentsOfDirectory(atPath: outURL.path))?.isEmpty ?? false)
            guard empty else { throw ConvertError.outputExists(path: outURL.path) }
        }

        let config = try T5Config.load(from: input)
        try config.validate()
        let store = try WeightStore(directory: input)
        let plan = try makePlan(store, dtype)
        let lora = try LoRAMerge(adapters: adapters, config: config)

        let partial = URL(fileURLWithPath: outURL.path + ".partial-\(ProcessInfo.processInfo.processIdentifier)")
        try? fm.removeItem(at: partial)
        do {
            try fm.createDirectory(at: partial, withIntermediateDirectories: true)
        } catch { throw ConvertError.io(path: partial.path, reason: "\(error)") }
        do {
            try writeWeights(store, plan, dtype, lora, to: partial.appendingPathComponent(WeightStore.singleFileName), progress: progress)
            try writeConfig(from: input, to: partial, dtype, adapters: adapters)
            try copyOtherFiles(from: input, to: partial)
            if fm.fileExists(atPath: outURL.path) { try fm.removeItem(at: outURL) }
            try fm.moveItem(at: partial, to: outURL)
        } catch {
            try? fm.removeItem(at: partial)
            if let e = error as? ConvertError { throw e }
            throw ConvertError.io(path: outURL.path, reason: "\(error)")
        }
    }

    /// One output tensor: where it comes from and how it is narrowed.
    struct Planned {
        enum Kind { case copy, half, int8Values, int8Scales }
        let entry: SafetensorsWriter.Entry
        let source: String
        let kind: Kind
    }

    static func makePlan(_ store: WeightStore, _ dtype: ConvertDType) throws -> [Planned] {
        var plan: [Planned] = []
        let hasShared = store.contains("shared.weight")
        for name in store.tensorNames {
            // The per-stack embedding copies duplicate `shared.weight`, which the engine reads first.
            if hasShared && name.hasSuffix("embed_tokens.weight") { continue }
            guard let info = store.info(name) else { continue }
            guard [.f32, .f16, .bf16].contains(info.dtype) else {
                throw ConvertError.unsupportedTensor(tensor: name, dtype: info.dtype.rawValue)
            }
            // Matrices are narrowed; norms and the tiny position-bias tables stay f32.
            let isMatrix = info.shape.count == 2 && !name.contains("relative_attention_bias")
            switch (dtype, isMatrix) {
            case (.int8, true):
                plan.append(Planned(entry: .init(name: name, dtype: .i8, shape: info.shape), source: name, kind: .int8Values))
                plan.append(Planned(entry: .init(name: LinearWeight.scaleName(of: name), dtype: .f32, shape: [info.shape[0]]),
                                    source: name, kind: .int8Scales))
            case (.f16, true):
                plan.append(Planned(entry: .init(name: name, dtype: .f16, shape: info.shape), source: name, kind: .half))
            case (.bf16, true):
                plan.append(Planned(entry: .init(name: name, dtype: .bf16, shape: info.shape), source: name, kind: .half))
            default:
                plan.append(Planned(entry: .init(name: name, dtype: .f32, shape: info.shape), source: name, kind: .copy))
            }
        }
        // Widest elements first, largest first: every tensor then starts aligned for its type.
        return plan.sorted {
            ($0.entry.dtype.byteSize, $0.entry.byteCount, $1.entry.name) > ($1.entry.dtype.byteSize, $1.entry.byteCount, $0.entry.name)
        }
    }

    private static func writeWeights(
        _ store: WeightStore, _ plan: [Planned], _ dtype: ConvertDType, _ lora: LoRAMerge, to url: URL, progress: (Int, Int) -> Void
    ) throws {
        let total = plan.reduce(0) { $0 + $1.entry.byteCount }
        var done = 0
        let metadata = ["format": "pt", "t5_engine_dtype": dtype.rawValue]
        try SafetensorsWriter.write(to: url, entries: plan.map(\.entry), metadata: metadata) { entry, out in
            let item = plan.first { $0.entry.name == entry.name }!
            let info = store.info(item.source)!
            var source = try store.floatTensor(item.source, shape: info.shape)
            if lora.targets(item.source) {
                var values = source.values
                values.withUnsafeMutableBufferPointer { lora.apply(to: item.source, $0.baseAddress!, out: info.shape[0], in: info.shape[1]) }
                source = FloatTensor(shape: info.shape, values: values)!
            }
            try source.withUnsafeBufferPointer { src in
                try fill(item, src, out)
            }
            done += entry.byteCount
            progress(done, total)
        }
    }

    private static func fill(_ item: Planned, _ src: UnsafeBufferPointer<Float>, _ out: UnsafeMutableRawBufferPointer) throws {
        let n = src.count
        switch item.kind {
        case .copy:
            for i in 0..<n { out.storeBytes(of: src[i].bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
        case .half:
            let bf16 = item.entry.dtype == .bf16
            for i in 0..<n {
                let bits = bf16 ? ConvertDType.bf16Bits(src[i]) : ConvertDType.f16Bits(src[i])
                out.storeBytes(of: bits.littleEndian, toByteOffset: 2 * i, as: UInt16.self)
            }
        case .int8Values, .int8Scales:
            guard src.allSatisfy(\.isFinite) else { throw ConvertError.nonFiniteWeight(tensor: item.source) }
            let rows = item.entry.shape[0]
            let cols = n / max(rows, 1)
            let values = UnsafeMutablePointer<Int8>.allocate(capacity: max(1, n))
            let scales = UnsafeMutablePointer<Float>.allocate(capacity: max(1, rows))
            defer { values.deallocate(); scales.deallocate() }
            Int8Quantize.quantize(src.baseAddress!, rows: rows, cols: cols, values: values, scales: scales)
            if item.kind == .int8Values {
                out.baseAddress!.copyMemory(from: values, byteCount: n)
            } else {
                for r in 0..<rows { out.storeBytes(of: scales[r].bitPattern.littleEndian, toByteOffset: 4 * r, as: UInt32.self) }
            }
        }
    }

    /// config.json with a marker of the format, so tools (and people) can tell a converted folder at a glance.
    private static func writeConfig(from input: URL, to dir: URL, _ dtype: ConvertDType, adapters: [LoRAAdapter]) throws {
        let source = input.appendingPathComponent("config.json")
        let data = try Data(contentsOf: source)
        guard var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConvertError.io(path: source.path, reason: "config.json is not a JSON object")
        }
        object["t5_engine_dtype"] = dtype.rawValue
        if !adapters.isEmpty {
            // Which adapters were merged, for people reading the folder later (the engine does not read it).
            object["t5_engine_merged_lora"] = adapters.map { ["adapter": $0.directory.lastPathComponent, "scale": Double($0.scale)] }
        }
        switch dtype {
        case .f16: object["torch_dtype"] = "float16"
        case .bf16: object["torch_dtype"] = "bfloat16"
        case .f32, .int8: object["torch_dtype"] = "float32"
        }
        let out = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try out.write(to: dir.appendingPathComponent("config.json"))
    }

    private static func copyOtherFiles(from input: URL, to dir: URL) throws {
        let fm = FileManager.default
        for name in try fm.contentsOfDirectory(atPath: input.path).sorted() {
            if name == "config.json" || name.hasPrefix(".") || weightFilePrefixes.contains(where: name.hasPrefix) { continue }
            let src = input.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: src.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            try fm.copyItem(at: src, to: dir.appendingPathComponent(name))
        }
    }
}
