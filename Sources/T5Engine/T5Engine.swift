// T5Engine: T5 / Flan-T5 encoder-decoder inference on the CPU.
