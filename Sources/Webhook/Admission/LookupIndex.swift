import Kube
import Synchronization

/// The namespaces' labels, the claims and the StorageClasses the webhook reads, in memory and
/// behind a lock, kept up to date from the informers. Reading it never waits for an actor, so
/// the webhook answers on the event loop that read the request.
final class LookupIndex: Sendable {
    enum Kind: String, Sendable {
        case namespaces
        case claims
        case storageClasses = "storage classes"
    }

    private struct State {
        var namespaces: [String: [String: String]] = [:]
        var claims: [String: PersistentVolumeClaim] = [:]
        var classes: [String: StorageClass] = [:]
        var classIndex = StorageClassIndex([])
        var synced: Set<Kind> = []
        var loadWaiters: [CheckedContinuation<Void, Never>] = []

        var isLoaded: Bool { synced.count == 3 }
    }

    private let state = Mutex(State())

    func namespaceLabels(_ name: String) throws(LookupError) -> [String: String]? {
        let result: Result<[String: String]?, LookupError> = state.withLock { state in
            guard state.synced.contains(.namespaces) else { return .failure(LookupError(.cacheNotSynced, "the namespaces cache has not synced yet")) }
            return .success(state.namespaces[name])
        }
        return try result.get()
    }

    func claim(_ key: String) throws(LookupError) -> PersistentVolumeClaim? {
        let result: Result<PersistentVolumeClaim?, LookupError> = state.withLock { state in
            guard state.synced.contains(.claims) else { return .failure(LookupError(.cacheNotSynced, "the claims cache has not synced yet")) }
            return .success(state.claims[key])
        }
        return try result.get()
    }

    func storageClasses() throws(LookupError) -> StorageClassIndex {
        let result: Result<StorageClassIndex, LookupError> = state.withLock { state in
            guard state.synced.contains(.storageClasses) else { return .failure(LookupError(.cacheNotSynced, "the storage classes cache has not synced yet")) }
            return .success(state.classIndex)
        }
        return try result.get()
    }

    /// Returns once every kind has been loaded.
    func waitUntilLoaded() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                if state.isLoaded { return true }
                state.loadWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    // MARK: Following the informers

    /// Loads `informer` once it has synced, then applies its changes until the task is cancelled.
    func follow<Object: KubeResource>(_ informer: Informer<Object>, as kind: Kind) async {
        await informer.waitUntilSynced()
        // Subscribing before taking the snapshot loses no change; a change seen both in the
        // snapshot and in the stream is applied twice, which is harmless.
        let changes = await informer.subscribe()
        let snapshot = await informer.items()
        state.withLock { state in
            for object in snapshot { Self.apply(.added(object), kind: kind, to: &state) }
            if kind == .storageClasses { state.classIndex = StorageClassIndex(Array(state.classes.values)) }
            state.synced.insert(kind)
            if state.isLoaded {
                for waiter in state.loadWaiters { waiter.resume() }
                state.loadWaiters = []
            }
        }
        for await change in changes {
            state.withLock { state in
                Self.apply(change, kind: kind, to: &state)
                if kind == .storageClasses { state.classIndex = StorageClassIndex(Array(state.classes.values)) }
            }
        }
    }

    private static func apply<Object: KubeResource>(_ event: InformerEvent<Object>, kind: Kind, to state: inout State) {
        let object = event.object
        let key = object.metadata.key
        let deleted: Bool
        if case .deleted = event { deleted = true } else { deleted = false }
        switch kind {
        case .namespaces:
            state.namespaces[key] = deleted ? nil : (object.metadata.labels ?? [:])
        case .claims:
            state.claims[key] = deleted ? nil : object as? PersistentVolumeClaim
        case .storageClasses:
            state.classes[key] = deleted ? nil : object as? StorageClass
        }
    }
}
