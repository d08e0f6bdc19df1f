public import Foundation
public import Kube
public import Logging

/// Watches nodes and pods and moves opted-in pods off nodes that have failed.
///
/// Event-driven: a node that turns NotReady gets a timer for `notReadyTimeout` from its
/// condition's transition time; if it is still not Ready then, it has failed. Out-of-service
/// taints and deletions fail a node at once. Its opted-in pods — and pending pods whose local
/// claims are pinned to it — are queued and migrated by a pool of workers under a rate limit,
/// unless the partition guard holds (too many nodes down at once). All state is derived from the
/// API, so a restarted (or newly elected) controller picks up where another left off.
public actor FailoverController {
    nonisolated let client: KubeClient
    nonisolated let caches: ClusterCaches
    public nonisolated let settings: FailoverSettings
    nonisolated let logger: Logger
    nonisolated let metrics: FailoverMetrics
    nonisolated let planner: MigrationPlanner
    nonisolated let executor: MigrationExecutor
    nonisolated let limiter: RateLimiter
    nonisolated let detector: NodeFailureDetector
    nonisolated let partitionGuard: PartitionGuard
    nonisolated let waiter = ClaimDeletionWaiter()
    nonisolated let recorder: EventRecorder
    private let now: @Sendable () -> Date

    private var states: [String: NodeFailureState] = [:]
    private var nodeLabels: [String: [String: String]] = [:]
    private var failedSince: [String: ContinuousClock.Instant] = [:]
    private var firstSeenNotReady: [String: Date] = [:]
    private var timers: [String: Task<Void, Never>] = [:]
    private var unhealthy: Set<String> = []
    private var queued: Set<String> = []
    private var heldByGuard: Set<String> = []
    private var retries: [String: Int] = [:]
    private var paused = false
    private let queue: AsyncStream<String>
    private let queueInput: AsyncStream<String>.Continuation

    /// - Parameters:
    ///   - identity: this replica's name, for events.
    ///   - eventClient: the client Events are posted with (by default `client`); give it its own
    ///     rate limit so recording never competes with the migrations themselves.
    ///   - observer: told of every write made (or, in dry-run, planned); for tests and tooling.
    public init(
        client: KubeClient, caches: ClusterCaches, settings: FailoverSettings, identity: String, logger: Logger = Logger(label: "rebound.failover"),
        metrics: FailoverMetrics = FailoverMetrics(), eventClient: KubeClient? = nil, now: @escaping @Sendable () -> Date = { Date() },
        observer: (@Sendable (MigrationAction) -> Void)? = nil
    ) {
        self.client = client
        self.caches = caches
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
        self.now = now
        self.planner = MigrationPlanner(keys: settings.keys)
        self.limiter = RateLimiter(qps: settings.migrationsPerSecond, burst: settings.migrationBurst)
        self.detector = NodeFailureDetector(notReadyTimeout: settings.notReadyTimeout)
        self.partitionGuard = PartitionGuard(maxUnhealthyFraction: settings.maxFailedNodeFraction)
        let recorder = EventRecorder(client: eventClient ?? client, instance: identity, logger: logger)
        self.recorder = recorder
        self.executor = MigrationExecutor(
            client: client, settings: settings, recorder: recorder, metrics: metrics, logger: logger, waiter: waiter,
            planner: MigrationPlanner(keys: settings.keys), observer: observer)
        (queue, queueInput) = AsyncStream<String>.makeStream()
    }

    // MARK: Running

    /// Runs until the calling task is cancelled (the caches must be running).
    public func run() async {
        let nodeEvents = await caches.nodes.subscribe(replay: false)
        let podEvents = await caches.pods.subscribe(replay: false)
        let claimEvents = await caches.claims.subscribe(replay: false)
        let volumeEvents = await caches.volumes.subscribe(replay: false)
        await caches.waitUntilSynced()
        logger.info("failover controller started", metadata: [
            "notReadyTimeout": "\(settings.notReadyTimeout)", "maxFailedNodeFraction": "\(settings.maxFailedNodeFraction)", "dryRun": "\(settings.dryRun)",
        ])
        for node in await caches.nodes.items() { await nodeChanged(node) }
        await withDiscardingTaskGroup { group in
            group.addTask {
                // Finish claim rebuilds another replica (or an earlier run) left half-done.
                for volume in await self.caches.volumes.items() { await self.recoverClaim(of: volume) }
                for await event in volumeEvents {
                    if case .deleted = event { continue }
                    await self.recoverClaim(of: event.object)
                }
            }
            group.addTask {
                for await event in nodeEvents {
                    switch event {
                    case .added(let node), .modified(_, let node): await self.nodeChanged(node)
                    case .deleted(let node): await self.nodeDeleted(node)
                    }
                }
            }
            group.addTask {
                for await event in podEvents {
                    if case .deleted(let pod) = event {
                        // A claim rebuild may have been waiting for this pod to go.
                        for claimName in pod.claimNames {
                            guard let claim = await self.caches.claims.get("\(pod.namespace ?? "")/\(claimName)"), let volumeName = claim.volumeName else { continue }
                            if let volume = await self.caches.volumes.get(volumeName) { await self.recoverClaim(of: volume) }
                        }
                        continue
                    }
                    await self.podChanged(event.object)
                }
            }
            group.addTask {
                for await event in claimEvents {
                    if case .deleted(let claim) = event, let uid = claim.metadata.uid {
                        await self.waiter.claimDeleted(key: claim.key, uid: uid)
                        if let volumeName = claim.volumeName, let volume = await self.caches.volumes.get(volumeName) {
                            await self.recoverClaim(of: volume)
                        }
                    }
                }
            }
            for _ in 0..<max(1, settings.workers) {
                group.addTask {
                    for await key in self.queue {
                        await self.process(key)
                    }
                }
            }
        }
        queueInput.finish()
        for timer in timers.values { timer.cancel() }
        await recorder.flush()
    }

    // MARK: Node state

    private func nodeChanged(_ node: Node) async {
        let name = node.name
        nodeLabels[name] = node.metadata.labels ?? [:]
        let facts = Self.failureFacts(node)
        if facts.ready != "True" || facts.outOfService { unhealthy.insert(name) } else { unhealthy.remove(name) }
        if facts.ready != "True", firstSeenNotReady[name] == nil { firstSeenNotReady[name] = now() }
        if facts.ready == "True" { firstSeenNotReady.removeValue(forKey: name) }
        let state = detector.state(of: facts, now: now(), firstSeenNotReady: firstSeenNotReady[name])
        await apply(state, to: name)
    }

    private func nodeDeleted(_ node: Node) async {
        unhealthy.remove(node.name)
        await apply(.failed(.deleted), to: node.name)
    }

    private func apply(_ state: NodeFailureState, to name: String) async {
        let previous = states[name]
        states[name] = state
        switch state {
        case .healthy:
            timers.removeValue(forKey: name)?.cancel()
            failedSince.removeValue(forKey: name)
            if let previous, previous != .healthy {
                logger.info("node is healthy again", metadata: ["node": "\(name)"])
            }
        case .suspect(let deadline):
            if case .suspect = previous, timers[name] != nil { break }
            timers[name]?.cancel()
            let delay = max(0, deadline.timeIntervalSince(now()))
            logger.info("node is not ready; it counts as failed if it stays so", metadata: ["node": "\(name)", "in": "\(String(format: "%.1f", delay)) s"])
            timers[name] = Task { [weak self] in
                try? await Task.sleep(for: .seconds(delay))
                guard !Task.isCancelled else { return }
                await self?.deadlinePassed(name)
            }
        case .failed(let reason):
            timers.removeValue(forKey: name)?.cancel()
            if previous?.isFailed != true {
                failedSince[name] = ContinuousClock.now
                logger.warning("node failed", metadata: ["node": "\(name)", "reason": "\(reason)"])
            }
            await enqueuePods(of: name)
        }
        updateGuard()
        metrics.failedNodes(states.values.filter(\.isFailed).count)
        if case .deleted? = { if case .failed(let reason) = state { return reason } else { return nil } }() {
            // Forget deleted nodes once their pods are handled; their claims stay found through the volumes.
            nodeLabels.removeValue(forKey: name)
        }
    }

    private func deadlinePassed(_ name: String) async {
        timers.removeValue(forKey: name)
        guard let node = await caches.nodes.get(name) else { return }
        await nodeChanged(node)
    }

    static func failureFacts(_ node: Node) -> NodeFailureFacts {
        let ready = node.condition("Ready")
        let outOfService = (node.spec?.taints ?? []).contains { $0.key == "node.kubernetes.io/out-of-service" }
        // Conditions carry whole seconds: the change may have happened up to a second later than
        // written, so count from the end of that second and never act before the timeout.
        let since = ready?.lastTransitionTime.map { $0.micro ? $0.date : $0.date.addingTimeInterval(1) }
        return NodeFailureFacts(ready: ready?.status, readySince: since, outOfService: outOfService)
    }

    // MARK: The partition guard

    private func updateGuard() {
        let total = states.count - states.values.filter { if case .failed(.deleted) = $0 { return true } else { return false } }.count
        let allowed = partitionGuard.allowsMigration(unhealthy: unhealthy.count, total: max(total, 0))
        if allowed == paused {
            paused = !allowed
            metrics.paused(paused)
            if paused {
                logger.critical("pausing all migration: too many nodes are unhealthy at once, which looks like a network partition", metadata: [
                    "unhealthy": "\(unhealthy.count)", "nodes": "\(total)", "maxFailedNodeFraction": "\(settings.maxFailedNodeFraction)",
                ])
            } else {
                logger.notice("resuming migration: few enough nodes are unhealthy", metadata: ["unhealthy": "\(unhealthy.count)", "nodes": "\(total)"])
                let held = heldByGuard
                heldByGuard = []
                for key in held { enqueue(key) }
            }
        }
    }

    /// Whether migration is paused by the partition guard (for tests and status).
    public var isPaused: Bool { paused }

    /// The failure state of every node seen.
    public var nodeStates: [String: NodeFailureState] { states }

    // MARK: Queueing

    private func podChanged(_ pod: Pod) async {
        if let node = pod.nodeName {
            if states[node]?.isFailed == true { enqueue(pod.key) }
        } else if planner.keys.optsIn(pod), await pinnedFailedNode(of: pod) != nil {
            // A replacement pod that still names a claim pinned to a failed node (a migration was
            // interrupted, or the node was deleted and its pods collected): it can never start.
            enqueue(pod.key)
        }
    }

    private func enqueuePods(of node: String) async {
        for pod in await caches.pods.byIndex(Informer<Pod>.nodeIndex, node) { enqueue(pod.key) }
        for volume in await caches.volumes.items() where VolumePinning.isPinned(volume, to: node, nodeLabels: nodeLabels[node]) {
            guard let claim = volume.spec?.claimRef, let namespace = claim.namespace, let claimName = claim.name else { continue }
            for pod in await caches.pods.byIndex(Informer<Pod>.claimIndex, "\(namespace)/\(claimName)") where pod.nodeName == nil {
                enqueue(pod.key)
            }
        }
    }

    private func enqueue(_ key: String) {
        guard !queued.contains(key) else { return }
        if paused {
            heldByGuard.insert(key)
            return
        }
        queued.insert(key)
        queueInput.yield(key)
    }

    private func finished(_ key: String, success: Bool) {
        queued.remove(key)
        guard !success else {
            retries.removeValue(forKey: key)
            return
        }
        let attempt = (retries[key] ?? 0) + 1
        retries[key] = attempt
        let delay = min(60.0, 0.5 * pow(2.0, Double(attempt - 1)))
        logger.info("will retry pod migration", metadata: ["pod": "\(key)", "in": "\(delay) s", "attempt": "\(attempt)"])
        Task { [weak self] in
            try? await Task.sleep(for: .seconds(delay))
            await self?.enqueue(key)
        }
    }

    private func isPaused(holding key: String) -> Bool {
        if paused {
            queued.remove(key)
            heldByGuard.insert(key)
        }
        return paused
    }

    private func state(of node: String) -> NodeFailureState? { states[node] }
    private func labels(of node: String) -> [String: String]? { nodeLabels[node] }
    private func failedDuration(of node: String) -> Duration? { failedSince[node].map { ContinuousClock.now - $0 } }

    // MARK: Migrating one pod

    /// The failed node a pending pod's local claims are pinned to, if any.
    private nonisolated func pinnedFailedNode(of pod: Pod) async -> String? {
        for claimName in pod.claimNames {
            guard let claim = await caches.claims.get("\(pod.namespace ?? "")/\(claimName)"), let volumeName = claim.volumeName,
                let volume = await caches.volumes.get(volumeName)
            else { continue }
            for (node, state) in await states where state.isFailed {
                if VolumePinning.isPinned(volume, to: node, nodeLabels: await labels(of: node)) { return node }
            }
        }
        return nil
    }

    /// Completes a claim rebuild recorded on a volume (see ``ClaimRecovery``), unless a migration
    /// running here is about to do it.
    private nonisolated func recoverClaim(of volume: PersistentVolume) async {
        guard ClaimRecovery.pendingTemplate(on: volume) != nil, let reference = volume.spec?.claimRef,
            let namespace = reference.namespace, let name = reference.name
        else { return }
        let key = "\(namespace)/\(name)"
        guard let replacedUID = ClaimRecovery.replacedUID(on: volume) else { return }
        if await waiter.isExpected(key: key, uid: replacedUID) { return }
        let failedNode = volume.metadata.labels?[ClaimRecovery.failedNodeLabel] ?? "unknown"
        var usedOnFailedNode = false
        for pod in await caches.pods.byIndex(Informer<Pod>.claimIndex, key) {
            if let node = pod.nodeName, await state(of: node)?.isFailed == true { usedOnFailedNode = true }
        }
        switch ClaimRecovery.step(for: volume, current: await caches.claims.get(key), usedOnFailedNode: usedOnFailedNode) {
        case .create(let template)?:
            logger.notice("finishing a claim rebuild left half-done", metadata: ["claim": "\(key)", "volume": "\(volume.name)"])
            _ = await executor.recreate(template, replacing: reference.uid, volume: volume.name, failedNode: failedNode)
        case .clear?:
            _ = try? await client.patch(PersistentVolume.self, volume.name, .merge(ClaimRecovery.donePatch))
        case .wait?, nil:
            break
        }
    }

    private nonisolated func process(_ key: String) async {
        guard let pod = await caches.pods.get(key) else {
            await finished(key, success: true)
            return
        }
        if let reason = planner.skipReason(for: pod) {
            if reason != .notOptedIn {
                logger.info("leaving pod on failed node alone", metadata: ["pod": "\(key)", "why": "\(reason.rawValue)"])
            }
            await finished(key, success: true)
            return
        }
        var nodeName = pod.nodeName
        if nodeName == nil { nodeName = await pinnedFailedNode(of: pod) }
        guard let node = nodeName, case .failed(let reason)? = await state(of: node) else {
            await finished(key, success: true)
            return
        }
        if await isPaused(holding: key) { return }
        try? await limiter.wait()
        if await isPaused(holding: key) { return }

        var claims: [String: PersistentVolumeClaim] = [:]
        var volumes: [String: PersistentVolume] = [:]
        for claimName in pod.claimNames {
            guard let claim = await caches.claims.get("\(pod.namespace ?? "")/\(claimName)") else { continue }
            claims[claimName] = claim
            if let volumeName = claim.volumeName, let volume = await caches.volumes.get(volumeName) { volumes[volumeName] = volume }
        }
        let attachments = await caches.volumeAttachments.items().filter { $0.spec.nodeName == node }
        var templates: [String]?
        if let owner = pod.metadata.controller, owner.kind == "StatefulSet" {
            templates = (try? await client.get(StatefulSet.self, owner.name, namespace: pod.namespace))?.claimTemplateNames
        }
        let plan = planner.plan(
            pod: pod, node: node, nodeLabels: await labels(of: node), reason: reason, claims: claims, volumes: volumes,
            attachments: attachments, claimTemplates: templates)
        let success = await executor.execute(plan)
        if success, let elapsed = await failedDuration(of: node) { metrics.migrationDuration(elapsed) }
        await finished(key, success: success)
    }
}
