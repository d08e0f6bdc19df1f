public import Kube
import Synchronization

/// Lookups served from Rebound's informer caches. A cache miss falls back to one live GET,
/// because the StatefulSet controller creates a claim and then its pod within milliseconds, and
/// the claims cache can be that far behind; without the fallback such a pod would look as if its
/// claim did not exist.
public struct CacheLookups: AdmissionLookups {
    let caches: ClusterCaches
    let client: KubeClient?
    let liveTimeout: Duration
    /// Informers never go back to "not synced", so once seen synced they are not asked again.
    private let synced = SyncedCaches()

    /// - Parameters:
    ///   - client: used for the live GET on a cache miss; nil disables the fallback.
    ///   - liveTimeout: the most a live GET may take before the pod is admitted unchanged.
    public init(caches: ClusterCaches, client: KubeClient?, liveTimeout: Duration = .seconds(2)) {
        self.caches = caches
        self.client = client
        self.liveTimeout = liveTimeout
    }

    public func namespaceLabels(_ name: String) async throws(LookupError) -> [String: String]? {
        try await synced.check(.namespaces) { await caches.namespaces.hasSynced }
        if let namespace = await caches.namespaces.get(name) { return namespace.metadata.labels ?? [:] }
        let client = self.client
        return try await live("namespace \(name)") { try await client?.get(Namespace.self, name) }.map { $0.metadata.labels ?? [:] }
    }

    public func claim(namespace: String, name: String) async throws(LookupError) -> PersistentVolumeClaim? {
        try await synced.check(.claims) { await caches.claims.hasSynced }
        if let claim = await caches.claims.get("\(namespace)/\(name)") { return claim }
        let client = self.client
        return try await live("claim \(namespace)/\(name)") { try await client?.get(PersistentVolumeClaim.self, name, namespace: namespace) }
    }

    public func storageClasses() async throws(LookupError) -> [StorageClass] {
        try await synced.check(.storageClasses) { await caches.storageClasses.hasSynced }
        return await caches.storageClasses.items()
    }

    /// Runs `fetch` within ``liveTimeout``; not-found is nil, any other failure a ``LookupError``.
    private func live<T: Sendable>(_ what: String, _ fetch: @escaping @Sendable () async throws -> T?) async throws(LookupError) -> T? {
        guard client != nil else { return nil }
        let timeout = liveTimeout
        let outcome: Result<T?, any Error>? = await withTaskGroup(of: Result<T?, any Error>?.self) { group in
            group.addTask {
                do { return .success(try await fetch()) } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch outcome {
        case .success(let value)?:
            return value
        case .failure(let error as KubeAPIError)? where error.isNotFound:
            return nil
        case .failure(let error)?:
            throw LookupError(.apiUnreachable, "\(what) is not cached and the API server could not be asked: \(error)")
        case nil:
            throw LookupError(.timeout, "\(what) is not cached and the API server did not answer within \(timeout)")
        }
    }
}

/// Which caches have been seen synced.
private final class SyncedCaches: Sendable {
    enum Cache: UInt8 {
        case namespaces = 1, claims = 2, storageClasses = 4

        var name: String {
            switch self {
            case .namespaces: "namespaces"
            case .claims: "claims"
            case .storageClasses: "storage classes"
            }
        }
    }

    private let seen = Atomic<UInt8>(0)

    func check(_ cache: Cache, _ hasSynced: () async -> Bool) async throws(LookupError) {
        if seen.load(ordering: .relaxed) & cache.rawValue != 0 { return }
        guard await hasSynced() else { throw LookupError(.cacheNotSynced, "the \(cache.name) cache has not synced yet") }
        seen.bitwiseOr(cache.rawValue, ordering: .relaxed)
    }
}
