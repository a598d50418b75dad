// Every error becomes OpenAI's error object with its status (and Retry-After for 429 / 503), every answer is
// counted by route and status; /v1 routes need the bearer key when one is set.
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import T5ServerAPI

extension APIError {
    var response: Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = "\(retryAfter)" }
        if status == 405 { headers[.allow] = "GET, POST" }
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let metrics: ServerMetrics
    static let knownPaths: Set<String> = ["/", "/index.html", "/app.js", "/style.css", "/health", "/ready", "/metrics",
                                          "/v1/models", "/v1/completions", "/v1/chat/completions", "/v1/embeddings"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let label = Self.knownPaths.contains(path) ? path : "other"
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = error.response
        } catch let error as HTTPError {
            response = Self.apiError(error, request: request).response
        } catch {
            response = APIError.internalError("\(error)").response
        }
        metrics.request(path: label, status: response.status.code)
        return response
    }

    static func apiError(_ error: HTTPError, request: Request) -> APIError {
        switch error.status {
        case .notFound: return .notFound(request.uri.path)
        case .methodNotAllowed: return .methodNotAllowed(request.method.rawValue, request.uri.path)
        case .contentTooLarge: return APIError(status: 413, message: "The request body is too large", type: "invalid_request_error",
                                               code: "request_too_large")
        default:
            return APIError(status: error.status.code, message: error.body ?? error.status.reasonPhrase,
                            type: error.status.code < 500 ? "invalid_request_error" : "server_error")
        }
    }
}

struct AuthMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let key: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let key {
            let sent = request.headers[.authorization] ?? ""
            // Compared without an early exit, so the time taken does not tell how much of the key matched.
            let expected = Array("Bearer \(key)".utf8), got = Array(sent.utf8)
            var diff = expected.count ^ got.count
            for i in 0..<expected.count { diff |= Int(expected[i] ^ (i < got.count ? got[i] : 0)) }
            guard diff == 0 else { throw APIError.unauthorized() }
        }
        return try await next(request, context)
    }
}
