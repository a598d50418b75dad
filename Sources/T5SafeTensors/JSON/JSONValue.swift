// The parsed form of a JSON document as StrictJSONParser returns it.
// Objects keep every member in source order, duplicates included, so callers can reject duplicate keys.

package enum JSONValue: Equatable, Sendable {
    case object([JSONMember])
    case array([JSONValue])
    case string(String)
    case number(JSONNumber)
    case bool(Bool)
    case null

    /// For error messages: what was found instead of the expected kind.
    package var kindName: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}

package struct JSONMember: Equatable, Sendable {
    package let key: String
    package let value: JSONValue
}

/// A number kept as its source text, so integers are never rounded through Double.
package struct JSONNumber: Equatable, Sendable {
    package let literal: String
    /// No fraction and no exponent.
    package let isInteger: Bool

    /// The value, if it is an integer literal that fits in Int.
    package var intValue: Int? { isInteger ? Int(literal) : nil }
}
