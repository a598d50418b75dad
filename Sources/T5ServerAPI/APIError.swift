// Every refusal the server answers with: an HTTP status and OpenAI's error object, so official clients raise
// their usual exceptions (BadRequestError, AuthenticationError, RateLimitError, ...).
import Foundation

/// An OpenAI-style error: `{"error": {"message", "type", "param", "code"}}` sent with `status`.
public struct APIError: Error, Equatable, Sendable, CustomStringConvertible {
    public var status: Int
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?
    /// Seconds a client should wait before retrying (429, 503).
    public var retryAfter: Int?

    public init(status: Int, message: String, type: String, param: String? = nil, code: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status) \(type): \(message)" + (param.map { " (param \($0))" } ?? "") }

    /// 400: the request is malformed or a value is out of range; `param` names the field.
    public static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: 400, message: message, type: "invalid_request_error", param: param, code: code)
    }
    public static func unauthorized() -> APIError {
        APIError(status: 401, message: "Incorrect or missing API key: send it as `Authorization: Bearer KEY`",
                 type: "invalid_request_error", code: "invalid_api_key")
    }
    public static func notFound(_ path: String) -> APIError {
        APIError(status: 404, message: "No route for \(path)", type: "invalid_request_error", code: "not_found")
    }
    public static func methodNotAllowed(_ method: String, _ path: String) -> APIError {
        APIError(status: 405, message: "\(method) is not allowed on \(path)", type: "invalid_request_error", code: "method_not_allowed")
    }
    public static func tooLarge(limit: Int) -> APIError {
        APIError(status: 413, message: "The request body is over the limit of \(limit) bytes", type: "invalid_request_error",
                 code: "request_too_large")
    }
    public static func overloaded(queue: Int) -> APIError {
        APIError(status: 429, message: "The server is busy: \(queue) requests are already waiting; retry later",
                 type: "rate_limit_error", code: "queue_full", retryAfter: 1)
    }
    public static func unavailable(_ message: String) -> APIError {
        APIError(status: 503, message: message, type: "server_error", code: "unavailable", retryAfter: 1)
    }
    public static func timeout(seconds: Double) -> APIError {
        APIError(status: 504, message: "The request took longer than the server's limit of \(seconds) s", type: "timeout_error",
                 code: "request_timeout")
    }
    public static func internalError(_ message: String) -> APIError {
        APIError(status: 500, message: message, type: "server_error", code: "internal_error")
    }

    /// The JSON body.
    public var body: Data {
        struct Inner: Encodable {
            let message: String, type: String, param: String?, code: String?
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(message, forKey: .message)
                try c.encode(type, forKey: .type)
                try c.encode(param, forKey: .param)   // null, not absent, as OpenAI sends
                try c.encode(code, forKey: .code)
            }
            enum CodingKeys: String, CodingKey { case message, type, param, code }
        }
        struct Outer: Encodable { let error: Inner }
        return (try? JSONEncoder().encode(Outer(error: Inner(message: message, type: type, param: param, code: code))))
            ?? Data(#"{"error":{"message":"error","type":"server_error","param":null,"code":null}}"#.utf8)
    }
}
