// Checks that the tensors tile the data section exactly: no overlap, no unused bytes between or after them.
// Policy follows the Rust `safetensors` crate (Metadata::validate + read_metadata, checked at commit 24b0b28):
// tensors sorted by offsets must start where the previous one ended, and the last must end at the file end.
// One deliberate relaxation: zero-byte tensors may sit at any offset within the data section, since they
// occupy no bytes and so cannot overlap or hide data (the crate requires them at a tensor boundary too).

package enum SafetensorsLayout {
    package static func validateCoverage(of tensors: [TensorInfo], dataSize: Int, path: String) throws(WeightsError) {
        // Name as the last key only makes the reported pair deterministic.
        let occupied = tensors
            .filter { !$0.dataOffsets.isEmpty }
            .sorted {
                ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name)
                    < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name)
            }
        var cursor = 0
        var previous: String?
        for tensor in occupied {
            let begin = tensor.dataOffsets.lowerBound
            if begin < cursor, let previous {
                throw .overlappingTensors(path: path, first: previous, second: tensor.name)
            }
            if begin > cursor {
                throw .dataGap(path: path, begin: cursor, end: begin)
            }
            cursor = tensor.dataOffsets.upperBound
            previous = tensor.name
        }
        if cursor != dataSize {
            throw .trailingBytes(path: path, dataEnd: cursor, dataSize: dataSize)
        }
    }
}
