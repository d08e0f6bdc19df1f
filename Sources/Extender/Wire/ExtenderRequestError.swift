import Kube

/// Why a request to the extender could not be answered, with a message for whoever sent it.
struct ExtenderRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        /// The body is not JSON: answered with HTTP 400.
        case malformed
        /// Well-formed JSON that is not a usable request (no Pod, no nodes): answered in the
        /// result's `Error` field where the verb's result has one, else HTTP 400.
        case invalid
    }

    var kind: Kind
    var message: String

    static func malformed(_ error: JSONError) -> ExtenderRequestError {
        ExtenderRequestError(kind: .malformed, message: "the request body is not valid JSON: \(error)")
    }

    static func invalid(_ message: String) -> ExtenderRequestError { ExtenderRequestError(kind: .invalid, message: message) }

    var description: String { message }
}
