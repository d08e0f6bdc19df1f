public import Logging
import Synchronization

/// The informers Rebound's parts read from, started together: nodes, pods (indexed by node and
/// by claim), claims, volumes, storage classes, namespaces and volume attachments, and, when
/// capacity comes from them, CSIStorageCapacity objects. Pods and nodes are cached trimmed
/// (``Pod/trimmedForCache``, ``Node/trimmedForCache``).
public final class ClusterCaches: Sendable {
    public let nodes: Informer<Node>
    public let pods: Informer<Pod>
    public let claims: Informer<PersistentVolumeClaim>
    public let volumes: Informer<PersistentVolume>
    public let storageClasses: Informer<StorageClass>
    public let namespaces: Informer<Namespace>
    public let volumeAttachments: Informer<VolumeAttachment>
    /// CSIStorageCapacity objects in every namespace; nil unless asked for (`storageCapacities: true`).
    public let storageCapacities: Informer<CSIStorageCapacity>?
    private let releasedAfterSync = Mutex(false)

    /// - Parameter storageCapacities: also cache CSIStorageCapacity objects (capacity source
    ///   `csistoragecapacity`); without it Rebound needs no permission to read them.
    public init(client: KubeClient, pageSize: Int = 500, storageCapacities: Bool = false, logger: Logger = Logger(label: "rebound.cache")) {
        func options<T>(_: T.Type) -> Informer<T>.Options {
            var options = Informer<T>.Options()
            options.pageSize = pageSize
            return options
        }
        var nodeOptions = options(Node.self)
        nodeOptions.transform = { $0.trimmedForCache }
        nodes = Informer(client: client, options: nodeOptions, logger: logger)
        var podOptions = options(Pod.self)
        podOptions.transform = { $0.trimmedForCache }
        pods = Informer(client: client, options: podOptions, indexers: Informer<Pod>.podsByNode.merging(Informer<Pod>.podsByClaim) { a, _ in a }, logger: logger)
        claims = Informer(client: client, options: options(PersistentVolumeClaim.self), logger: logger)
        volumes = Informer(client: client, options: options(PersistentVolume.self), logger: logger)
        storageClasses = Informer(client: client, options: options(StorageClass.self), logger: logger)
        namespaces = Informer(client: client, options: options(Namespace.self), logger: logger)
        volumeAttachments = Informer(client: client, options: options(VolumeAttachment.self), logger: logger)
        if storageCapacities {
            var capacityOptions = options(CSIStorageCapacity.self)
            capacityOptions.transform = { $0.trimmedForCache }
            self.storageCapacities = Informer(client: client, options: capacityOptions, logger: logger)
        } else {
            self.storageCapacities = nil
        }
    }

    /// Runs every informer until the calling task is cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.nodes.run() }
            group.addTask { await self.pods.run() }
            group.addTask { await self.claims.run() }
            group.addTask { await self.volumes.run() }
            group.addTask { await self.storageClasses.run() }
            group.addTask { await self.namespaces.run() }
            group.addTask { await self.volumeAttachments.run() }
            if let storageCapacities = self.storageCapacities { group.addTask { await storageCapacities.run() } }
        }
    }

    /// Returns once every informer has loaded its first list.
    public func waitUntilSynced() async {
        await nodes.waitUntilSynced()
        await pods.waitUntilSynced()
        await claims.waitUntilSynced()
        await volumes.waitUntilSynced()
        await storageClasses.waitUntilSynced()
        await namespaces.waitUntilSynced()
        await volumeAttachments.waitUntilSynced()
        await storageCapacities?.waitUntilSynced()
        if !releasedAfterSync.withLock({ released in defer { released = true }; return released }) {
            MemoryRelease.releaseFreedMemory()
        }
    }

    /// True once every informer has synced.
    public var hasSynced: Bool {
        get async {
            let states = [
                await nodes.hasSynced, await pods.hasSynced, await claims.hasSynced, await volumes.hasSynced,
                await storageClasses.hasSynced, await namespaces.hasSynced, await volumeAttachments.hasSynced,
                await storageCapacities?.hasSynced ?? true,
            ]
            return states.allSatisfy { $0 }
        }
    }
}
