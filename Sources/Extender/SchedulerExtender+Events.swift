import Capacity
import Kube

extension SchedulerExtender {
    /// A change in one of the caches the extender follows.
    enum ClusterEvent: Sendable {
        case node(InformerEvent<Node>)
        case pod(InformerEvent<Pod>)
        case claim(InformerEvent<PersistentVolumeClaim>)
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
        await state.replaceNodes(nodes.map { NodeSummary(node: $0, keys: keys) })
        for pod in pods { await observe(pod) }
        await state.markReady()
        logger.info("extender ready", metadata: ["nodes": "\(nodes.count)", "pods": "\(pods.count)"])

        // One consumer applies every change in turn, so a pod event and a claim event about the
        // same pod never interleave their reads and writes.
        let (events, sink) = AsyncStream<ClusterEvent>.makeStream()
        await withDiscardingTaskGroup { group in
            group.addTask { for await event in nodeEvents { sink.yield(.node(event)) } }
            group.addTask { for await event in podEvents { sink.yield(.pod(event)) } }
            group.addTask { for await event in claimEvents { sink.yield(.claim(event)) } }
            group.addTask { for await event in events { await self.apply(event) } }
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
            await state.release(pod: PodFacts(pod: pod, keys: keys).ref)
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
        let pod = PodFacts(pod: pod, keys: keys)
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
