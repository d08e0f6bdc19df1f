import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore

/// Routes HTTP requests to the ``AdmissionHandler``: POST on the webhook path, nothing else.
/// Every error becomes a response here, because without Hummingbird's router a thrown error
/// would reach the client as an empty 500.
struct WebhookResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let path: String
    let maxBodyBytes: Int
    let handler: AdmissionHandler

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        guard request.uri.path == path else {
            return Self.plain(.notFound, "no such path \(request.uri.path); the admission webhook serves POST \(path)\n")
        }
        guard request.method == .post else {
            var response = Self.plain(.methodNotAllowed, "\(path) accepts POST with an AdmissionReview\n")
            response.headers[.allow] = "POST"
            return response
        }
        let started = ContinuousClock.now
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            return Self.json(handler.recordRejected(.bodyTooLarge(limit: maxBodyBytes), duration: ContinuousClock.now - started))
        } catch {
            return Self.json(handler.recordRejected(.unreadableBody("\(error)"), duration: ContinuousClock.now - started))
        }
        return Self.json(await handler.review(body.readableBytesView))
    }

    static func json(_ answer: AdmissionHandler.Answer) -> Response {
        Response(
            status: HTTPResponse.Status(code: answer.httpStatus), headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
