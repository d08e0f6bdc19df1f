public import Kube

/// Lookups served from Rebound's informer caches, through an in-memory index that
/// ``run()`` keeps up to date (it must run for lookups to succeed).
///
/// An object the index does not hold is ``Lookup/unknown`` and fetched with one live GET,
/// because the StatefulSet controller creates a claim and then its pod within milliseconds, and
/// the claims cache can be that far behind; without the fallback such a pod would look as if its
/// claim did not exist.
public struct CacheLookups: AdmissionLookups {
    let caches: ClusterCaches
    let client: KubeClient?
    let liveTimeout: Duration
    let index = LookupIndex()

    /// - Parameters:
    ///   - client: used for the live GET on a cache miss; nil disables the fallback.
    ///   - liveTimeout: the most a live GET may take before the pod is admitted unchanged.
    public init(caches: ClusterCaches, client: KubeClient?, liveTimeout: Duration = .seconds(2)) {
        self.caches = caches
        self.client = client
        self.liveTimeout = liveTimeout
    }

    /// Follows the namespace, claim and StorageClass informers until the task is cancelled.
    /// (The informers themselves run elsewhere: `ClusterCaches.run()`.)
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await index.follow(caches.namespaces, as: .namespaces) }
            group.addTask { await index.follow(caches.claims, as: .claims) }
            group.addTask { await index.follow(caches.storageClasses, as: .storageClasses) }
        }
    }

    /// Returns once ``run()`` has loaded every cache (after the informers synced).
    public func waitUntilLoaded() async {
        await index.waitUntilLoaded()
    }

    public func namespaceLabels(_ name: String) throws(LookupError) -> Lookup<[String: String]> {
        if let labels = try index.namespaceLabels(name) { return .found(labels) }
        return client == nil ? .absent : .unknown
    }

    public func claim(namespace: String, name: String) throws(LookupError) -> Lookup<PersistentVolumeClaim> {
        guard let claim = try index.claim("\(namespace)/\(name)") else { return client == nil ? .absent : .unknown }
        return client != nil && Self.mayBeReplaced(claim) ? .unknown : .found(claim)
    }

    public func storageClasses() throws(LookupError) -> StorageClassIndex {
        try index.storageClasses()
    }

    public func fetch(_ object: ClusterObjectReference) async throws(LookupError) -> FetchedObject? {
        guard let client else { return nil }
        switch object {
        case .namespace(let name):
            return try await live(object) { try await client.get(Namespace.self, name) }.map { .namespace($0) }
        case .claim(let namespace, let name):
            do {
                return try await live(object) { try await client.get(PersistentVolumeClaim.self, name, namespace: namespace) }.map { .claim($0) }
            } catch {
                // Only a cached claim being confirmed has something to fall back on.
                guard let cached = try index.claim("\(namespace)/\(name)") else { throw error }
                return .claim(cached)
            }
        }
    }

    /// Whether a cached claim may already have been replaced by a new one of the same name: it
    /// is bound (a recreated claim starts unbound) or being deleted.
    static func mayBeReplaced(_ claim: PersistentVolumeClaim) -> Bool {
        claim.metadata.deletionTimestamp != nil || claim.isBound
    }

    /// Runs `fetch` within ``liveTimeout``; not-found is nil, any other failure a ``LookupError``.
    private func live<T: Sendable>(_ what: ClusterObjectReference, _ fetch: @escaping @Sendable () async throws -> T) async throws(LookupError) -> T? {
        let timeout = liveTimeout
        switch await withDeadline(timeout, fetch) {
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
