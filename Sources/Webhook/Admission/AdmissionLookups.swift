public import Kube

/// What the webhook asks of the cluster, behind a protocol so the decision can be tested with
/// plain values and served from the caches.
///
/// Lookups answer from memory without waiting, so a review runs start to finish on the thread
/// that read the request. Only an object memory does not hold (``Lookup/unknown``) is fetched
/// asynchronously, with ``fetch(_:)``.
public protocol AdmissionLookups: Sendable {
    /// The labels of namespace `name`.
    func namespaceLabels(_ name: String) throws(LookupError) -> Lookup<[String: String]>
    /// The claim `name` in `namespace`.
    func claim(namespace: String, name: String) throws(LookupError) -> Lookup<PersistentVolumeClaim>
    /// The cluster's StorageClasses.
    func storageClasses() throws(LookupError) -> StorageClassIndex
    /// Asks the API server for an object memory does not hold; nil when it does not exist.
    func fetch(_ object: ClusterObjectReference) async throws(LookupError) -> FetchedObject?
}

extension AdmissionLookups {
    /// Without an API server to ask, an object not in memory does not exist.
    public func fetch(_ object: ClusterObjectReference) async throws(LookupError) -> FetchedObject? { nil }
}

/// One lookup's answer from memory.
public enum Lookup<Value: Sendable>: Sendable {
    case found(Value)
    /// The object does not exist.
    case absent
    /// Memory does not hold it, but it may exist: ``AdmissionLookups/fetch(_:)`` can tell.
    case unknown
}

/// An object to fetch from the API server.
public enum ClusterObjectReference: Sendable, Hashable, CustomStringConvertible {
    case namespace(String)
    case claim(namespace: String, name: String)

    public var description: String {
        switch self {
        case .namespace(let name): "namespace \(name)"
        case .claim(let namespace, let name): "claim \(namespace)/\(name)"
        }
    }
}

/// An object fetched from the API server.
public enum FetchedObject: Sendable {
    case namespace(Namespace)
    case claim(PersistentVolumeClaim)
}

/// Rebound's own trouble answering a lookup. The pod is then admitted unchanged.
public struct LookupError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `reason` label of `rebound_webhook_degraded_total`.
    public enum Reason: String, Sendable, CaseIterable {
        case cacheNotSynced = "cache_not_synced"
        case apiUnreachable = "api_unreachable"
        case timeout
    }

    public var reason: Reason
    public var message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { message }
}

/// Lookups answered from fixed values: tests, benchmarks and tools.
public struct StaticLookups: AdmissionLookups {
    public var namespaces: [String: [String: String]]
    /// Claims by `namespace/name`.
    public var claims: [String: PersistentVolumeClaim]
    public var classes: StorageClassIndex
    /// When set, every lookup fails with it.
    public var failure: LookupError?

    public init(namespaces: [String: [String: String]] = [:], claims: [PersistentVolumeClaim] = [], storageClasses: [StorageClass] = [], failure: LookupError? = nil) {
        self.namespaces = namespaces
        self.claims = Dictionary(claims.map { ($0.metadata.key, $0) }, uniquingKeysWith: { _, last in last })
        self.classes = StorageClassIndex(storageClasses)
        self.failure = failure
    }

    public func namespaceLabels(_ name: String) throws(LookupError) -> Lookup<[String: String]> {
        if let failure { throw failure }
        return namespaces[name].map { .found($0) } ?? .absent
    }

    public func claim(namespace: String, name: String) throws(LookupError) -> Lookup<PersistentVolumeClaim> {
        if let failure { throw failure }
        return claims["\(namespace)/\(name)"].map { .found($0) } ?? .absent
    }

    public func storageClasses() throws(LookupError) -> StorageClassIndex {
        if let failure { throw failure }
        return classes
    }
}
