// T5Engine: T5 / Flan-T5 encoder-decoder inference on the CPU. `import T5Engine` brings every layer a user needs.
@_exported import T5Generation
@_exported import T5Kernels
@_exported import T5Modeling
@_exported import T5SafeTensors
@_exported import T5Tensor
@_exported import T5Tokenizers
