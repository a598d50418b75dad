// Validates one tensor entry of a safetensors header: dtype, shape, data_offsets and their agreement.
// Unknown extra fields are ignored, as the Rust crate's serde TensorInfo ignores them.
import T5Tensor

package struct TensorEntry {
    package let name: String
    package let path: String
    package let dataSize: Int

    package func parse(_ value: JSONValue) throws(WeightsError) -> TensorInfo {
        guard case .object(let members) = value else { throw .badEntry(path: path, tensor: name) }
        var fields: [String: JSONValue] = [:]
        for member in members {
            guard fields.updateValue(member.value, forKey: member.key) == nil else {
                throw .badField(path: path, tensor: name, field: member.key, reason: "appears more than once")
            }
        }
        let dtype = try parseDType(fields["dtype"])
        let shape = try parseShape(fields["shape"])
        let offsets = try parseOffsets(fields["data_offsets"])

        guard let elements = TensorShape.elementCount(shape) else {
            throw .shapeOverflow(path: path, tensor: name)
        }
        let (byteCount, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        if overflow { throw .shapeOverflow(path: path, tensor: name) }
        guard offsets.count == byteCount else {
            throw .sizeMismatch(path: path, tensor: name, expectedBytes: byteCount, actualBytes: offsets.count)
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: offsets)
    }

    private func parseDType(_ value: JSONValue?) throws(WeightsError) -> SafetensorsDType {
        guard let value else { throw .missingField(path: path, tensor: name, field: "dtype") }
        guard case .string(let text) = value else {
            throw .badField(path: path, tensor: name, field: "dtype", reason: "expected a string, found \(value.kindName)")
        }
        guard let dtype = SafetensorsDType(rawValue: text) else {
            throw .unknownDType(path: path, tensor: name, dtype: text)
        }
        return dtype
    }

    private func parseShape(_ value: JSONValue?) throws(WeightsError) -> [Int] {
        guard let value else { throw .missingField(path: path, tensor: name, field: "shape") }
        guard case .array(let elements) = value else {
            throw .badField(path: path, tensor: name, field: "shape", reason: "expected an array, found \(value.kindName)")
        }
        var shape: [Int] = []
        shape.reserveCapacity(elements.count)
        for element in elements {
            guard case .number(let number) = element, number.isInteger else {
                throw .badField(path: path, tensor: name, field: "shape", reason: "dimensions must be integers")
            }
            // An integer literal too large for Int is a size no file can hold.
            guard let dimension = number.intValue else { throw .shapeOverflow(path: path, tensor: name) }
            guard dimension >= 0 else {
                throw .badField(path: path, tensor: name, field: "shape", reason: "dimension \(dimension) is negative")
            }
            shape.append(dimension)
        }
        return shape
    }

    private func parseOffsets(_ value: JSONValue?) throws(WeightsError) -> Range<Int> {
        guard let value else { throw .missingField(path: path, tensor: name, field: "data_offsets") }
        guard case .array(let elements) = value, elements.count == 2,
              case .number(let first) = elements[0], case .number(let second) = elements[1],
              first.isInteger, second.isInteger
        else {
            throw .badField(path: path, tensor: name, field: "data_offsets", reason: "expected [begin, end] integers")
        }
        guard let begin = first.intValue, let end = second.intValue else {
            throw .badField(path: path, tensor: name, field: "data_offsets", reason: "integer out of range")
        }
        guard begin >= 0, begin <= end else {
            throw .badOffsets(path: path, tensor: name, begin: begin, end: end)
        }
        guard end <= dataSize else {
            throw .offsetsBeyondData(path: path, tensor: name, end: end, dataSize: dataSize)
        }
        return begin..<end
    }
}
