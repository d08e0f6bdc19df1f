import Foundation
import Kube

/// The opaque `continue` value of a paged list: the list's revision and the last key returned,
/// base64-encoded JSON as the API server makes it.
struct ContinueToken: Sendable, Equatable {
    var revision: UInt64
    var lastKey: String

    init(revision: UInt64, lastKey: String) {
        self.revision = revision
        self.lastKey = lastKey
    }

    init?(encoded: String) {
        guard let data = Data(base64Encoded: encoded), let json = try? JSONValue(parsing: data),
            let revision = json["rv"]?.intValue, revision >= 0, let start = json["start"]?.stringValue
        else { return nil }
        self.revision = UInt64(revision)
        self.lastKey = start
    }

    var encoded: String {
        let json: JSONValue = ["v": "meta.k8s.io/v1", "rv": .int(revision), "start": .string(lastKey)]
        return Data(json.serialized()).base64EncodedString()
    }
}
