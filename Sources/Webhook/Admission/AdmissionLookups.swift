public import Kube

/// What the webhook asks of the cluster, behind a protocol so the decision can be tested with
/// plain values and served from the caches.
public protocol AdmissionLookups: Sendable {
    /// The labels of namespace `name`; nil when it does not exist.
    func namespaceLabels(_ name: String) async throws(LookupError) -> [String: String]?
    /// The claim `name` in `namespace`; nil when it does not exist.
    func claim(namespace: String, name: String) async throws(LookupError) -> PersistentVolumeClaim?
    /// Every StorageClass.
    func storageClasses() async throws(LookupError) -> [StorageClass]
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
    public var classes: [StorageClass]
    /// When set, every lookup fails with it.
    public var failure: LookupError?

    public init(namespaces: [String: [String: String]] = [:], claims: [PersistentVolumeClaim] = [], storageClasses: [StorageClass] = [], failure: LookupError? = nil) {
        self.namespaces = namespaces
        self.claims = Dictionary(claims.map { ($0.metadata.key, $0) }, uniquingKeysWith: { _, last in last })
        self.classes = storageClasses
        self.failure = failure
    }

    public func namespaceLabels(_ name: String) async throws(LookupError) -> [String: String]? {
        if let failure { throw failure }
        return namespaces[name]
    }

    public func claim(namespace: String, name: String) async throws(LookupError) -> PersistentVolumeClaim? {
        if let failure { throw failure }
        return claims["\(namespace)/\(name)"]
    }

    public func storageClasses() async throws(LookupError) -> [StorageClass] {
        if let failure { throw failure }
        return classes
    }
}
