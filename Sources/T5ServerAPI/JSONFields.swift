// Strict reading of a request body: valid UTF-8, strict JSON (the engine's parser, which keeps duplicate keys so
// they can be refused), an object at the top, and each field checked for type and range with its name in the error.
import T5SafeTensors

/// The members of a request's top-level JSON object, read field by field.
public struct JSONFields: Sendable {
    let members: [String: JSONValue]

    /// Parses `bytes` as one JSON object. Unknown keys are refused unless listed in `known` (OpenAI does the same).
    public init(bytes: [UInt8], known: Set<String>) throws(APIError) {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw .invalid("The request body is not valid UTF-8", code: "invalid_json")
        }
        let value: JSONValue
        do { value = try StrictJSONParser.parse(bytes) } catch {
            throw .invalid("We could not parse the JSON body of your request: \(error)", code: "invalid_json")
        }
        try self.init(value: value, known: known, context: nil)
    }

    init(value: JSONValue, known: Set<String>, context: String?, acceptAnyKey: Bool = false, param: String? = nil) throws(APIError) {
        guard case .object(let list) = value else {
            throw .invalid("\(param ?? context ?? "The request body") must be a JSON object, not \(value.kindName)", param: param ?? context)
        }
        var members: [String: JSONValue] = [:]
        for m in list {
            let name = context.map { "\($0).\(m.key)" } ?? m.key
            guard members[m.key] == nil else { throw .invalid("Duplicate key '\(name)'", param: name) }
            guard acceptAnyKey || known.contains(m.key) else { throw .invalid("Unrecognized request argument supplied: \(name)", param: name) }
            members[m.key] = m.value
        }
        self.members = members
    }

    /// The value of `key`; nil when absent or null (OpenAI treats null as "use the default").
    func value(_ key: String) -> JSONValue? {
        guard let v = members[key] else { return nil }
        if case .null = v { return nil }
        return v
    }

    func wrongType(_ key: String, _ expected: String, _ got: JSONValue) -> APIError {
        .invalid("'\(key)' must be \(expected), not \(got.kindName)", param: key)
    }

    public func string(_ key: String) throws(APIError) -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw wrongType(key, "a string", v) }
        return s
    }

    public func bool(_ key: String) throws(APIError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw wrongType(key, "a boolean", v) }
        return b
    }

    /// An integer within `range` (a number with a fraction or exponent is refused, as is one outside Int).
    public func int(_ key: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let v = value(key) else { return nil }
        guard case .number(let n) = v, n.isInteger else { throw wrongType(key, "an integer", v) }
        guard let i = n.intValue, range.contains(i) else {
            throw .invalid("\(n.literal) is out of range for '\(key)': it must be between \(range.lowerBound) and \(range.upperBound)", param: key)
        }
        return i
    }

    /// A finite number within `range`.
    public func number(_ key: String, in range: ClosedRange<Double>) throws(APIError) -> Double? {
        guard let v = value(key) else { return nil }
        guard case .number(let n) = v, let d = Double(n.literal), d.isFinite else { throw wrongType(key, "a number", v) }
        guard range.contains(d) else {
            throw .invalid("\(n.literal) is out of range for '\(key)': it must be between \(range.lowerBound) and \(range.upperBound)", param: key)
        }
        return d
    }

    /// A string or an array of 1...`maxCount` strings (`prompt`, `input`, `stop`).
    public func strings(_ key: String, maxCount: Int, allowEmptyStrings: Bool = true) throws(APIError) -> [String]? {
        guard let v = value(key) else { return nil }
        let list: [String]
        switch v {
        case .string(let s): list = [s]
        case .array(let items):
            guard !items.isEmpty else { throw .invalid("'\(key)' must not be an empty array", param: key) }
            guard items.count <= maxCount else { throw .invalid("'\(key)' has \(items.count) items, over the limit of \(maxCount)", param: key) }
            var out: [String] = []
            for (i, item) in items.enumerated() {
                guard case .string(let s) = item else {
                    throw .invalid("'\(key)[\(i)]' must be a string, not \(item.kindName)", param: key)
                }
                out.append(s)
            }
            list = out
        default: throw wrongType(key, "a string or an array of strings", v)
        }
        if !allowEmptyStrings, list.contains("") { throw .invalid("'\(key)' must not contain an empty string", param: key) }
        return list
    }

    /// A nested object, read with its own known keys.
    public func object(_ key: String, known: Set<String>) throws(APIError) -> JSONFields? {
        guard let v = value(key) else { return nil }
        return try JSONFields(value: v, known: known, context: key)
    }

    /// An array of values (chat `messages`), at most `maxCount`.
    func array(_ key: String, maxCount: Int) throws(APIError) -> [JSONValue]? {
        guard let v = value(key) else { return nil }
        guard case .array(let items) = v else { throw wrongType(key, "an array", v) }
        guard items.count <= maxCount else { throw .invalid("'\(key)' has \(items.count) items, over the limit of \(maxCount)", param: key) }
        return items
    }

    /// Fails when `key` is present with a value other than its neutral one (fields clients send that we do not implement).
    func requireNeutral(_ key: String, isNeutral: (JSONValue) -> Bool, reason: String) throws(APIError) {
        guard let v = value(key) else { return }
        guard isNeutral(v) else { throw .invalid("'\(key)' \(reason)", param: key) }
    }
}

extension JSONValue {
    var isZero: Bool { if case .number(let n) = self, let d = Double(n.literal) { return d == 0 } else { return false } }
    var isFalse: Bool { if case .bool(false) = self { return true } else { return false } }
}
