import Capacity
import Foundation
import Kube

extension SchedulerExtender {
    /// A change in one of the caches the extender follows.
    enum ClusterEvent: Sendable {
        case node(InformerEvent<Node>)
        case pod(InformerEvent<Pod>)
        case claim(InformerEvent<PersistentVolumeClaim>)
        case storageCapacity(InformerEvent<CSIStorageCapacity>)
    }

    /// Waits for the caches to sync, builds the node summaries and the ledger from them, marks
    /// the extender ready, then follows every change until the task is cancelled.
    ///
    /// The ledger learns placements from the caches too, so it is right even when kube-scheduler
    /// is not configured with the bind verb: a pod seen bound to a node, requesting the routing
    /// resource, with local claims not bound yet, is reserved there; a claim's selected-node
    /// annotation settles a held pod on that node.
    public func run() async {
        let (synced, signal) = AsyncStream<Void>.makeStream()
        let waiter = Task {
            await caches.waitUntilSynced()
            signal.finish()
        }
        for await _ in synced {}
        guard !Task.isCancelled else {
            waiter.cancel()
            return
        }
        // Snapshot and subscription are taken together, so no change falls between them.
        let (nodes, nodeEvents) = await caches.nodes.snapshotAndSubscribe()
        let (pods, podEvents) = await caches.pods.snapshotAndSubscribe()
        let (_, claimEvents) = await caches.claims.snapshotAndSubscribe()
        var capacityEvents: AsyncStream<InformerEvent<CSIStorageCapacity>>?
        if keys.capacityFromStorageCapacity {
            guard let informer = caches.storageCapacities else {
                startupProblem.withLock { $0 = "capacity.source is csistoragecapacity but the caches do not hold CSIStorageCapacity objects" }
                logger.error("capacity.source is csistoragecapacity but the caches were built without CSIStorageCapacity objects; the extender stays unready")
                return
            }
            let (objects, events) = await informer.snapshotAndSubscribe()
            capacityEvents = events
            await state.replaceStorageCapacities(objects)
        }
        await state.replaceNodes(nodes.map { NodeSummary(node: $0, keys: keys) })
        // Every replica's reservations before any answer: a replica that restarts mid-burst
        // loses none of them.
        var sharedEvents: AsyncStream<InformerEvent<ConfigMap>>?
        var sharedInformer: Informer<ConfigMap>?
        if let shared {
            guard await loadShared(shared) else { return }
            var options = Informer<ConfigMap>.Options(namespace: shared.namespace, fieldSelector: FieldSelectorExpression.name(shared.name).description)
            options.pageSize = 1
            let informer = Informer<ConfigMap>(client: client, options: options, logger: logger)
            sharedInformer = informer
            sharedEvents = await informer.subscribe()
        }
        for pod in pods { await observe(pod) }
        await state.markReady()
        let sharedCount = await shared?.reservations.count ?? 0
        let capacityObjects = await state.storageCapacityCount
        logger.info("extender ready", metadata: [
            "nodes": "\(nodes.count)", "pods": "\(pods.count)", "sharedReservations": "\(sharedCount)", "storageCapacities": "\(capacityObjects)",
        ])

        // One consumer applies every change in turn, so a pod event and a claim event about the
        // same pod never interleave their reads and writes.
        let (events, sink) = AsyncStream<ClusterEvent>.makeStream()
        await withDiscardingTaskGroup { group in
            group.addTask { for await event in nodeEvents { sink.yield(.node(event)) } }
            group.addTask { for await event in podEvents { sink.yield(.pod(event)) } }
            group.addTask { for await event in claimEvents { sink.yield(.claim(event)) } }
            if let capacityEvents { group.addTask { for await event in capacityEvents { sink.yield(.storageCapacity(event)) } } }
            group.addTask { for await event in events { await self.apply(event) } }
            if let shared, let sharedInformer, let sharedEvents {
                group.addTask { await sharedInformer.run() }
                group.addTask {
                    for await event in sharedEvents {
                        guard case .deleted = event else {
                            if let reservations = await shared.observe(event.object) { await self.syncShared(reservations) }
                            continue
                        }
                        // Deleted by someone: start again from an empty one rather than lose writes.
                        _ = await self.loadShared(shared)
                    }
                }
                group.addTask { await self.removeReleased(from: shared) }
            }
        }
    }

    /// Reads the shared ledger, retrying until it can (the extender stays unready meanwhile, and
    /// says why). Returns false when cancelled first.
    func loadShared(_ shared: SharedLedger) async -> Bool {
        var delay = Duration.milliseconds(500)
        while !Task.isCancelled {
            do {
                await syncShared(try await shared.load())
                startupProblem.withLock { $0 = nil }
                return true
            } catch {
                startupProblem.withLock { $0 = "cannot read the shared reservation ledger \(shared.location): \(error)" }
                logger.warning("cannot read the shared reservation ledger; the extender stays unready until it can", metadata: [
                    "configmap": "\(shared.location)", "error": "\(error)", "retryIn": "\(delay)",
                ])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
        return false
    }

    /// Takes the shared ledger's reservations into this replica's ledger, and removes from the
    /// shared ledger those that no longer hold: expired, for a pod that is gone or finished (or
    /// whose name now belongs to another pod), or already released here.
    func syncShared(_ reservations: [SharedReservation]) async {
        let wallNow = Date()
        let ttl = Double(settings.reservationTTL.components.seconds)
        var live: [SharedReservation] = []
        var stale: [ReservationLedger.Released] = []
        for reservation in reservations {
            let age = wallNow.timeIntervalSince(reservation.reservedAt)
            var gone = age >= ttl
            if !gone {
                if let pod = await caches.pods.get(reservation.pod) {
                    gone = pod.metadata.uid != reservation.uid || PlacementPod(pod: pod, keys: keys).isTerminal
                } else {
                    // The pod cache may trail a pod bound a moment ago; past that, the pod is gone.
                    gone = age >= Self.missingPodGrace
                }
            }
            if gone {
                stale.append(.init(pod: reservation.pod, uid: reservation.uid, node: reservation.node))
            } else {
                live.append(reservation)
            }
        }
        stale += await state.adoptShared(live, now: .now)
        if !stale.isEmpty { await state.requestRemoval(stale) }
    }

    /// Seconds a shared reservation for a pod missing from the cache is still trusted.
    static let missingPodGrace: Double = 30

    /// Removes released reservations from the shared ledger as they come, in batches; a failed
    /// removal is retried (meanwhile the reservation only keeps counting, which is safe).
    func removeReleased(from shared: SharedLedger) async {
        var pending: [ReservationLedger.Released] = []
        var iterator = state.removals.makeAsyncIterator()
        while !Task.isCancelled {
            if pending.isEmpty {
                guard let batch = await iterator.next() else { return }
                pending = batch
            }
            do {
                let left = try await shared.remove(pending.compactMap { item in item.uid.map { (uid: $0, node: item.node) } })
                pending = []
                await syncShared(left)
            } catch {
                logger.warning("cannot remove released reservations from the shared ledger; retrying", metadata: [
                    "configmap": "\(shared.location)", "reservations": "\(pending.count)", "error": "\(error)",
                ])
                try? await Task.sleep(for: .seconds(2))
            }
        }
    }

    func apply(_ event: ClusterEvent) async {
        switch event {
        case .node(.added(let node)), .node(.modified(_, let node)):
            await state.upsertNode(NodeSummary(node: node, keys: keys))
        case .node(.deleted(let node)):
            await state.removeNode(node.name)
        case .pod(.added(let pod)), .pod(.modified(_, let pod)):
            await observe(pod)
        case .pod(.deleted(let pod)):
            await state.release(pod: PlacementPod(pod: pod, keys: keys).ref)
        case .storageCapacity(.added(let object)), .storageCapacity(.modified(_, let object)):
            await state.upsertStorageCapacity(key: object.key, object)
        case .storageCapacity(.deleted(let object)):
            await state.removeStorageCapacity(key: object.key)
        case .claim(let change):
            let claim = change.object
            let key = "\(claim.metadata.namespace ?? "")/\(claim.name)"
            for pod in await caches.pods.byIndex(Informer<Pod>.claimIndex, key) { await observe(pod) }
        }
    }

    /// Brings the ledger in line with what the caches say about one pod.
    ///
    /// Only a pod whose claims the cache holds is reserved from what the caches say: its demand
    /// then comes from the claims themselves, never from an annotation anyone creating a pod can
    /// write (a pod created with `spec.nodeName` and an invented annotation reserves nothing).
    func observe(_ pod: Pod) async {
        let pod = PlacementPod(pod: pod, keys: keys)
        guard pod.routed else { return }
        let ref = pod.ref
        if pod.isTerminal {
            await state.release(pod: ref)
            return
        }
        let (demand, volumes) = await demand(of: pod)
        guard case .needs(let requests) = demand, volumes.unknownClaims == 0 else { return }
        guard let node = pod.nodeName ?? volumes.selectedNode else { return }
        if volumes.allLocalClaimsBound {
            await state.claimsBound(pod: ref, now: .now)
        } else {
            await state.placed(pod: ref, on: node, requests: requests, now: .now)
        }
    }
}
