// `t5 convert`: writes a model folder with f32, f16, bf16 or int8 weights that every subcommand loads like the original.
import ArgumentParser
import Foundation
import T5Engine

extension ConvertDType: ExpressibleByArgument {}

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a T5 model folder's weights to f32, f16, bf16 or int8.",
        discussion: """
            int8: every linear layer, lm_head and the embedding as I8 with one F32 scale per output row \
            (`<name>_scale`, symmetric, max |w| -> 127); norms and position biases stay f32. \
            f16/bf16: matrices stored half width, widened and computed in f32. \
            config.json gets "t5_engine_dtype". --lora merges PEFT LoRA adapters in f32 before the weights are \
            narrowed (so `--lora DIR --dtype f32` writes a plain merged model). The output is built in <out>.partial-<pid> and renamed \
            into place when complete; the input is only read.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "The new model folder (must not exist, or be empty).")
    var out: String

    @Option(name: .long, help: "Weight format: f32, f16, bf16 or int8.")
    var dtype: ConvertDType

    /// Options of running a model change nothing in a conversion: refused rather than silently ignored.
    func validate() throws {
        if modelOptions.int8Activations {
            throw ValidationError("--int8-activations applies when a model runs (generate, bench, serve, …), not to convert: convert to int8, then pass it there")
        }
        if modelOptions.kvCache != .f32 {
            throw ValidationError("--kv-cache applies when a model runs (generate, bench, serve, …), not to convert")
        }
        if modelOptions.memoryBudget != nil {
            throw ValidationError("--memory-budget bounds the requests a loaded model takes (generate, bench, serve, …), not to convert")
        }
    }

    func run() throws {
        let input = try modelOptions.directory(), output = URL(fileURLWithPath: out)
        func megabytes(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1e6) }
        let bar = ProgressBar(label: "convert", total: 0) { done, total in "\(megabytes(done))/\(megabytes(total)) MB" }
        do {
            try ModelConverter.convert(input: input, output: output, dtype: dtype, adapters: modelOptions.adapters()) { done, total in
                bar.total = total
                bar.update(done)
            }
        } catch {
            bar.abandon()
            throw error
        }
        bar.finish("convert: \(megabytes(bar.total)) MB of weights converted to \(dtype.rawValue) in "
                   + String(format: "%.1f s", bar.elapsedSeconds))
        // Load what was written, so a broken conversion fails here rather than at first use.
        let model = try T5Model(directory: output)
        print("wrote \(out) (\(dtype.rawValue), weights \(String(format: "%.1f", Double(model.weightBytes) / 1e6)) MB)")
    }
}
