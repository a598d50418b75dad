// The strict JSON parser behind headers and indexes: grammar, escapes, duplicate keys kept, hostile input survived.

import Testing
@testable import T5Engine
@testable import T5SafeTensors

@Suite struct WeightsJSONParserTests {
    private func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try StrictJSONParser.parse(Array(text.utf8))
    }

    @Test func parsesAllValueKinds() throws {
        let value = try parse(#" {"a":[1,-2.5e3,true,false,null],"b":{"c":"d"}} "#)
        let expected: JSONValue = .object([
            JSONMember(key: "a", value: .array([
                .number(JSONNumber(literal: "1", isInteger: true)),
                .number(JSONNumber(literal: "-2.5e3", isInteger: false)),
                .bool(true), .bool(false), .null,
            ])),
            JSONMember(key: "b", value: .object([JSONMember(key: "c", value: .string("d"))])),
        ])
        #expect(value == expected)
    }

    @Test func keepsDuplicateKeysInOrder() throws {
        let value = try parse(#"{"k":1,"k":2}"#)
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["k", "k"])
    }

    @Test func decodesEscapes() throws {
        #expect(try parse(#""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00""#) == .string("a\"\\/\u{8}\u{c}\n\r\té😀"))
        #expect(throws: JSONParseError(message: "lone high surrogate in \\u escape", offset: 7)) { try parse(#""\ud83d""#) }
        #expect(throws: JSONParseError(message: "lone low surrogate in \\u escape", offset: 7)) { try parse(#""\ude00""#) }
        #expect(throws: JSONParseError(message: "invalid escape", offset: 2)) { try parse(#""\x""#) }
        #expect(throws: JSONParseError(message: "unescaped control character in string", offset: 1)) { try parse("\"\n\"") }
    }

    @Test func rejectsNonJSONNumbersAndLiterals() {
        for text in ["01", "-", "1.", ".5", "1e", "+1", "NaN", "Infinity", "tru", "nul", "[1,]", "{\"a\":1,}", "{'a':1}"] {
            #expect(throws: JSONParseError.self, "\(text)") { try parse(text) }
        }
    }

    @Test func integerValues() throws {
        #expect(JSONNumber(literal: "-0", isInteger: true).intValue == 0)
        #expect(JSONNumber(literal: "9223372036854775807", isInteger: true).intValue == Int.max)
        #expect(JSONNumber(literal: "9223372036854775808", isInteger: true).intValue == nil)
        #expect(JSONNumber(literal: "4.0", isInteger: false).intValue == nil)
    }

    @Test func nestingIsCapped() throws {
        let limit = StrictJSONParser.maxDepth
        _ = try parse(String(repeating: "[", count: limit) + String(repeating: "]", count: limit))
        #expect(throws: JSONParseError(message: "nesting deeper than \(limit)", offset: limit)) {
            try parse(String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1))
        }
        // A million openers must fail fast, not overflow the stack.
        #expect(throws: JSONParseError.self) { try parse(String(repeating: "{\"a\":", count: 1_000_000)) }
    }

    @Test func survivesArbitraryBytes() {
        // Deterministic pseudo-random inputs, biased towards JSON punctuation: any outcome but a crash is fine.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let alphabet = Array(#"{}[]":,0123456789-+.eE\u tfnrl "#.utf8) + [0x00, 0x1F, 0x80, 0xFF]
        for _ in 0..<2_000 {
            var input: [UInt8] = []
            for _ in 0..<Int(state % 64) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                input.append(alphabet[Int(state >> 33) % alphabet.count])
            }
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            _ = try? StrictJSONParser.parse(input)
        }
    }
}
