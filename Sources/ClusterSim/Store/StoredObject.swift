public import Kube

/// One object as the store holds it: the full JSON (nothing a client sent is dropped), its
/// serialised bytes (so lists and watches copy bytes instead of encoding), and the metadata the
/// server consults on every request.
public struct StoredObject: Sendable {
    public let value: JSONValue
    public let encoded: [UInt8]
    public let name: String
    public let namespace: String
    public let uid: String
    public let resourceVersion: UInt64
    public let labels: [String: String]

    init(value: JSONValue, resourceVersion: UInt64) {
        self.value = value
        self.encoded = value.serialized()
        let metadata = value["metadata"]
        self.name = metadata?["name"]?.stringValue ?? ""
        self.namespace = metadata?["namespace"]?.stringValue ?? ""
        self.uid = metadata?["uid"]?.stringValue ?? ""
        self.resourceVersion = resourceVersion
        var labels: [String: String] = [:]
        for (key, label) in metadata?["labels"]?.objectValue ?? [:] {
            if let text = label.stringValue { labels[key] = text }
        }
        self.labels = labels
    }

    /// `namespace/name` or `name`.
    public var key: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

    public var metadata: JSONValue { value["metadata"] ?? .emptyObject }

    public var finalizers: [String] { metadata["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? [] }

    public var isDeleting: Bool { metadata["deletionTimestamp"].map { !$0.isNull } ?? false }

    /// A field's value as a field selector compares it: strings as they are, other scalars as
    /// their JSON text, missing fields as the empty string.
    public func fieldValue(_ path: String) -> String? {
        switch path {
        case "metadata.name": return name
        case "metadata.namespace": return namespace
        default:
            guard let field = value.value(at: path.split(separator: ".").map(String.init)) else { return nil }
            switch field {
            case .string(let text): return text
            case .bool(let flag): return flag ? "true" : "false"
            case .number(let text): return text
            default: return nil
            }
        }
    }
}
