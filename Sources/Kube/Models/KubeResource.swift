/// Where a kind of object lives in the API: group, version, plural resource name, scope.
public struct ResourceType: Sendable, Hashable, CustomStringConvertible {
    /// API group; empty for the core group.
    public var group: String
    public var version: String
    public var kind: String
    /// The lower-case plural used in URLs (`pods`).
    public var plural: String
    public var namespaced: Bool
    /// Short names kubectl accepts (`po`, `pvc`).
    public var shortNames: [String]
    /// Verbs advertised in discovery.
    public var verbs: [String]

    public init(group: String, version: String, kind: String, plural: String, namespaced: Bool, shortNames: [String] = [],
                verbs: [String] = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]) {
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.verbs = verbs
    }

    /// `v1` or `group/version`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// `/api/v1` or `/apis/group/version`.
    public var basePath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// The collection URL path, in a namespace when the resource is namespaced and one is given.
    public func path(namespace: String? = nil, name: String? = nil, subresource: String? = nil) -> String {
        var path = basePath
        if namespaced, let namespace { path += "/namespaces/\(namespace)" }
        path += "/\(plural)"
        if let name { path += "/\(name)" }
        if let subresource { path += "/\(subresource)" }
        return path
    }

    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }
}

/// A typed API object Rebound reads or writes.
public protocol KubeResource: Codable, Sendable {
    /// Where objects of this type live.
    static var resourceType: ResourceType { get }
    var apiVersion: String? { get set }
    var kind: String? { get set }
    var metadata: ObjectMeta { get set }
}

extension KubeResource {
    public var name: String { metadata.name ?? "" }
    public var namespace: String? { metadata.namespace }
    /// `namespace/name` (or `name`): the cache key.
    public var key: String { metadata.key }

    /// Sets `apiVersion` and `kind` from the type, as the API expects on writes.
    public mutating func stampTypeMeta() {
        apiVersion = Self.resourceType.apiVersion
        kind = Self.resourceType.kind
    }
}

/// A list of objects as the API returns it (`PodList`, `NodeList`…).
public struct KubeList<Item: KubeResource>: Codable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ListMeta
    public var items: [Item]

    public init(metadata: ListMeta = ListMeta(), items: [Item]) {
        self.apiVersion = Item.resourceType.apiVersion
        self.kind = Item.resourceType.kind + "List"
        self.metadata = metadata
        self.items = items
    }

    enum CodingKeys: String, CodingKey { case apiVersion, kind, metadata, items }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decodeIfPresent(ListMeta.self, forKey: .metadata) ?? ListMeta()
        items = try container.decodeIfPresent([Item].self, forKey: .items) ?? []
    }
}

/// One event of a watch stream.
public enum WatchEvent<Object: KubeResource>: Sendable {
    case added(Object)
    case modified(Object)
    case deleted(Object)
    /// The stream has seen everything up to this resource version (only the version is sent).
    case bookmark(resourceVersion: String)

    /// The event's `type` on the wire.
    public enum EventType: String, Codable, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        case bookmark = "BOOKMARK"
        case error = "ERROR"
    }

    /// The object of an added, modified or deleted event.
    public var object: Object? {
        switch self {
        case .added(let object), .modified(let object), .deleted(let object): object
        case .bookmark: nil
        }
    }

    /// The resource version the event brings the watcher to.
    public var resourceVersion: String? {
        switch self {
        case .bookmark(let version): version
        default: object?.metadata.resourceVersion
        }
    }
}
