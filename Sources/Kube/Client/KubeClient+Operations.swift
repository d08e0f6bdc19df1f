import Foundation
import NIOHTTP1

/// Filters and paging of a list or watch.
public struct ListOptions: Sendable, Hashable {
    public var labelSelector: String?
    public var fieldSelector: String?
    public var limit: Int?
    public var continueToken: String?
    public var resourceVersion: String?

    public init(labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil, continueToken: String? = nil, resourceVersion: String? = nil) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
    }

    var query: [(String, String)] {
        var items: [(String, String)] = []
        if let labelSelector, !labelSelector.isEmpty { items.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { items.append(("fieldSelector", fieldSelector)) }
        if let limit { items.append(("limit", String(limit))) }
        if let continueToken, !continueToken.isEmpty { items.append(("continue", continueToken)) }
        if let resourceVersion { items.append(("resourceVersion", resourceVersion)) }
        return items
    }
}

/// `metav1.DeleteOptions`.
public struct DeleteOptions: Sendable, Hashable, Codable {
    public struct Preconditions: Sendable, Hashable, Codable {
        public var uid: String?
        public var resourceVersion: String?

        public init(uid: String? = nil, resourceVersion: String? = nil) {
            self.uid = uid
            self.resourceVersion = resourceVersion
        }
    }

    public var apiVersion = "v1"
    public var kind = "DeleteOptions"
    /// 0 deletes at once ("force"); nil uses the object's default.
    public var gracePeriodSeconds: Int64?
    public var preconditions: Preconditions?
    /// `Orphan`, `Background` or `Foreground`.
    public var propagationPolicy: String?
    public var dryRun: [String]?

    public init(gracePeriodSeconds: Int64? = nil, preconditions: Preconditions? = nil, propagationPolicy: String? = nil, dryRun: Bool = false) {
        self.gracePeriodSeconds = gracePeriodSeconds
        self.preconditions = preconditions
        self.propagationPolicy = propagationPolicy
        self.dryRun = dryRun ? ["All"] : nil
    }
}

/// A patch document and its type.
public enum KubePatch: Sendable {
    /// RFC 7386 JSON merge patch.
    case merge(JSONValue)
    /// RFC 6902 JSON patch.
    case json([JSONPatchOperation])
    /// Kubernetes strategic merge patch.
    case strategicMerge(JSONValue)

    var contentType: String {
        switch self {
        case .merge: "application/merge-patch+json"
        case .json: "application/json-patch+json"
        case .strategicMerge: "application/strategic-merge-patch+json"
        }
    }

    var body: [UInt8] {
        switch self {
        case .merge(let document), .strategicMerge(let document): document.serialized()
        case .json(let operations): JSONPatch.document(operations).serialized()
        }
    }
}

extension KubeClient {
    /// Reads one object.
    public func get<T: KubeResource>(_ type: T.Type, _ name: String, namespace: String? = nil) async throws -> T {
        let path = T.resourceType.path(namespace: self.namespace(for: type, namespace), name: name)
        return try Self.decode(T.self, from: try await send(.GET, path).body)
    }

    /// Reads one page of objects; a nil namespace lists across all namespaces.
    public func list<T: KubeResource>(_ type: T.Type, namespace: String? = nil, options: ListOptions = .init()) async throws -> KubeList<T> {
        let path = T.resourceType.path(namespace: T.resourceType.namespaced ? namespace : nil)
        return try Self.decode(KubeList<T>.self, from: try await send(.GET, path, query: options.query).body)
    }

    /// Reads every page, following `continue` tokens; the result carries the first page's resource version.
    public func listAll<T: KubeResource>(_ type: T.Type, namespace: String? = nil, options: ListOptions = .init(), pageSize: Int = 500) async throws -> KubeList<T> {
        var options = options
        options.limit = pageSize
        var result = try await list(type, namespace: namespace, options: options)
        var token = result.metadata.continue
        while let next = token, !next.isEmpty {
            options.continueToken = next
            let page = try await list(type, namespace: namespace, options: options)
            result.items.append(contentsOf: page.items)
            token = page.metadata.continue
        }
        result.metadata.continue = nil
        result.metadata.remainingItemCount = nil
        return result
    }

    /// Creates an object in its namespace (or the given one).
    public func create<T: KubeResource>(_ object: T, namespace: String? = nil, dryRun: Bool = false) async throws -> T {
        var object = object
        object.stampTypeMeta()
        let path = T.resourceType.path(namespace: self.namespace(for: T.self, namespace ?? object.metadata.namespace))
        let query = dryRun ? [("dryRun", "All")] : []
        return try Self.decode(T.self, from: try await send(.POST, path, query: query, body: try Self.encode(object)).body)
    }

    /// Replaces an object; fails with a conflict if its `resourceVersion` is stale.
    public func update<T: KubeResource>(_ object: T, subresource: String? = nil, dryRun: Bool = false) async throws -> T {
        var object = object
        object.stampTypeMeta()
        let path = T.resourceType.path(namespace: self.namespace(for: T.self, object.metadata.namespace), name: object.name, subresource: subresource)
        let query = dryRun ? [("dryRun", "All")] : []
        return try Self.decode(T.self, from: try await send(.PUT, path, query: query, body: try Self.encode(object)).body)
    }

    /// Patches an object.
    public func patch<T: KubeResource>(
        _ type: T.Type, _ name: String, namespace: String? = nil, _ patch: KubePatch, subresource: String? = nil, dryRun: Bool = false
    ) async throws -> T {
        let path = T.resourceType.path(namespace: self.namespace(for: type, namespace), name: name, subresource: subresource)
        let query = dryRun ? [("dryRun", "All")] : []
        return try Self.decode(T.self, from: try await send(.PATCH, path, query: query, body: patch.body, contentType: patch.contentType).body)
    }

    /// Deletes an object. Returns the object when the server still holds it (a grace period or
    /// finalizers pending) or sent it back, nil when it answered with a bare `Status`.
    @discardableResult
    public func delete<T: KubeResource>(_ type: T.Type, _ name: String, namespace: String? = nil, options: DeleteOptions = .init()) async throws -> T? {
        let path = T.resourceType.path(namespace: self.namespace(for: type, namespace), name: name)
        let response = try await send(.DELETE, path, body: try Self.encode(options))
        let bytes = response.bytes
        if let kind = (try? JSONValue(parsing: bytes))?["kind"]?.stringValue, kind == T.resourceType.kind {
            return try Self.decode(T.self, from: response.body)
        }
        return nil
    }
}
