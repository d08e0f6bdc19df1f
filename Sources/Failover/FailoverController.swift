public import Foundation
public import Kube
public import Logging

/// Watches nodes and pods and moves opted-in pods off nodes that have failed.
///
/// Event-driven: a node that turns NotReady gets a timer for `notReadyTimeout` (see
/// ``NodeFailureDetector`` for what it counts from); if it is still not Ready then, it is
/// *suspected* down. Out-of-service taints, configured fencing signals and deletions *confirm* a
/// node down at once. Its opted-in pods — and pending pods whose local claims are pinned to it —
/// go through a level-triggered ``WorkQueue`` to a pool of workers under a rate limit, unless the
/// partition guard holds (too many nodes down at once, in the cluster or, optionally, a zone).
/// Pods whose volumes other nodes can reach wait for confirmation; claims shared with pods that
/// are not moving are never rebuilt. All state is derived from the API, so a restarted (or newly
/// elected) controller picks up where another left off.
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
    nonisolated let queue = WorkQueue<String>()
    private let now: @Sendable () -> Date

    /// The label the per-zone partition guard groups nodes by.
    public static let zoneLabel = "topology.kubernetes.io/zone"

    private var states: [String: NodeFailureState] = [:]
    private var nodeLabels: [String: [String: String]] = [:]
    private var failedSince: [String: ContinuousClock.Instant] = [:]
    private var firstSeenNotReady: [String: Date] = [:]
    /// When the partition guard last let a node's scope go: its timer restarts from there.
    private var releasedAt: [String: Date] = [:]
    private var timers: [String: Task<Void, Never>] = [:]
    private var unhealthy: Set<String> = []
    private var heldByGuard: Set<String> = []
    /// Guard scopes holding migration: "" for the cluster, "zone/<name>" for a zone.
    private var pausedScopes: Set<String> = []
    /// The hold last announced (Event) for each pod, so a resync does not repeat it.
    private var announcedHolds: [String: MigrationHold] = [:]

    /// - Parameters:
    ///   - identity: this replica's name, for events.
    ///   - eventClient: the client Events are posted with (by default `client`); give it its own
    ///     rate limit so recording never competes with the migrations themselves.
    ///   - mayAct: checked before every write; false once this replica's leadership has lapsed
    ///     (see ``LeaderElector/mayAct()``).
    ///   - observer: told of every write made (or, in dry-run, planned); for tests and tooling.
    public init(
        client: KubeClient, caches: ClusterCaches, settings: FailoverSettings, identity: String, logger: Logger = Logger(label: "rebound.failover"),
        metrics: FailoverMetrics = FailoverMetrics(), eventClient: KubeClient? = nil, now: @escaping @Sendable () -> Date = { Date() },
        mayAct: @escaping @Sendable () -> Bool = { true }, observer: (@Sendable (MigrationAction) -> Void)? = nil
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
        let fencing = settings.fencing
        var executor = MigrationExecutor(
            client: client, settings: settings, recorder: recorder, metrics: metrics, logger: logger, waiter: waiter,
            planner: MigrationPlanner(keys: settings.keys), observer: observer)
        executor.mayAct = mayAct
        let reader = NodeLiveReader { name in
            do {
                let node = try await client.get(Node.self, name)
                return fencing.facts(of: node).isHealthy ? .recovered : .stillDown
            } catch let error as KubeAPIError where error.isNotFound {
                return .stillDown
            } catch {
                return .unknown("\(error)")
            }
        }
        executor.nodeStatus = { name in await reader.status(of: name) }
        self.executor = executor
    }

    // MARK: Running

    /// Runs until the calling task is cancelled (the caches must be running).
    public func run() async {
        metrics.initialise()
        let nodeEvents = await caches.nodes.subscribe(replay: false)
        let podEvents = await caches.pods.subscribe(replay: false)
        let claimEvents = await caches.claims.subscribe(replay: false)
        let volumeEvents = await caches.volumes.subscribe(replay: false)
        await caches.waitUntilSynced()
        logger.info("failover controller started", metadata: [
            "notReadyTimeout": "\(settings.notReadyTimeout)", "maxFailedNodeFraction": "\(settings.maxFailedNodeFraction)", "dryRun": "\(settings.dryRun)",
        ])
        for node in await caches.nodes.items() { await nodeChanged(node) }
        await findDeletedNodes()
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
            group.addTask {
                // Level-triggered safety net: every pod on a failed node is looked at again
                // periodically, whatever events were missed or holds were waiting for.
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.settings.resyncPeriod)
                    if Task.isCancelled { break }
                    await self.resync()
                }
            }
            for _ in 0..<max(1, settings.workers) {
                group.addTask {
                    while let key = await self.queue.next() {
                        let outcome = await self.process(key)
                        await self.finished(key, outcome)
                        await self.queue.done(key)
                    }
                }
            }
        }
        await queue.shutDown()
        for timer in timers.values { timer.cancel() }
        await recorder.flush()
    }

    // MARK: Node state

    private func nodeChanged(_ node: Node) async {
        let name = node.name
        nodeLabels[name] = node.metadata.labels ?? [:]
        let facts = settings.fencing.facts(of: node)
        if !facts.isHealthy { unhealthy.insert(name) } else { unhealthy.remove(name) }
        if facts.ready != "True", firstSeenNotReady[name] == nil { firstSeenNotReady[name] = now() }
        if facts.ready == "True" {
            firstSeenNotReady.removeValue(forKey: name)
            releasedAt.removeValue(forKey: name)
        }
        await apply(evaluate(name, facts), to: name)
        await updateGuard()
    }

    private func evaluate(_ name: String, _ facts: NodeFailureFacts) -> NodeFailureState {
        detector.state(of: facts, now: now(), firstSeenNotReady: firstSeenNotReady[name], notBefore: releasedAt[name])
    }

    private func nodeDeleted(_ node: Node) async {
        unhealthy.remove(node.name)
        await apply(.failed(.deleted), to: node.name)
        await updateGuard()
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
            if case .suspect(let old) = previous, old == deadline, timers[name] != nil { break }
            timers[name]?.cancel()
            failedSince.removeValue(forKey: name)
            let delay = max(0, deadline.timeIntervalSince(now()))
            logger.info("node is not ready; it counts as failed if it stays so", metadata: ["node": "\(name)", "in": "\(String(format: "%.1f", delay)) s"])
            timers[name] = Task { [weak self] in
                try? await Task.sleep(for: .seconds(delay))
                guard !Task.isCancelled else { return }
                await self?.deadlinePassed(name)
            }
        case .failed(let reason):
            timers.removeValue(forKey: name)?.cancel()
            if previous != state {
                if previous?.isFailed != true { failedSince[name] = ContinuousClock.now }
                logger.warning(reason.isConfirmed ? "node is down (confirmed)" : "node is suspected down", metadata: ["node": "\(name)", "reason": "\(reason)"])
            }
            await enqueuePods(of: name)
        }
        metrics.failedNodes(states.values.filter(\.isFailed).count)
        if case .failed(.deleted) = state {
            // Forget deleted nodes once their pods are handled; their claims stay found through the volumes.
            nodeLabels.removeValue(forKey: name)
        }
    }

    private func deadlinePassed(_ name: String) async {
        timers.removeValue(forKey: name)
        guard let node = await caches.nodes.get(name) else { return }
        await nodeChanged(node)
    }

    // MARK: The partition guard

    /// The guard scopes a node counts in: the cluster, and its zone when zones are guarded too.
    private func scopes(of node: String) -> [String] {
        guard settings.perZonePartitionGuard, let zone = nodeLabels[node]?[Self.zoneLabel] else { return [""] }
        return ["", "zone/\(zone)"]
    }

    private func isHeldByGuard(_ node: String) -> Bool {
        scopes(of: node).contains { pausedScopes.contains($0) }
    }

    private func updateGuard() async {
        var counts: [String: (unhealthy: Int, total: Int)] = [:]
        for (name, state) in states {
            if case .failed(.deleted) = state { continue }
            for scope in scopes(of: name) {
                var count = counts[scope] ?? (0, 0)
                count.total += 1
                if unhealthy.contains(name) { count.unhealthy += 1 }
                counts[scope] = count
            }
        }
        if counts[""] == nil { counts[""] = (0, 0) }
        let paused = Set(counts.filter { !partitionGuard.allowsMigration(unhealthy: $0.value.unhealthy, total: $0.value.total) }.keys)
        let released = pausedScopes.subtracting(paused)
        for scope in paused.subtracting(pausedScopes) {
            let count = counts[scope] ?? (0, 0)
            logger.critical("pausing migration: too many nodes are unhealthy at once, which looks like a network partition", metadata: [
                "scope": "\(scope.isEmpty ? "cluster" : scope)", "unhealthy": "\(count.unhealthy)", "nodes": "\(count.total)",
                "maxFailedNodeFraction": "\(settings.maxFailedNodeFraction)",
            ])
        }
        pausedScopes = paused
        metrics.paused(!paused.isEmpty)
        guard !released.isEmpty else { return }
        // Like kube-controller-manager leaving full disruption: nodes still down in a released
        // scope start their timers again from now, instead of failing at once on old timestamps.
        let release = now()
        for (name, state) in states where scopes(of: name).contains(where: released.contains) {
            let suspected: Bool
            switch state {
            case .suspect: suspected = true
            case .failed(.notReady): suspected = true
            default: suspected = false
            }
            guard suspected, let node = await caches.nodes.get(name) else { continue }
            releasedAt[name] = release
            await apply(evaluate(name, settings.fencing.facts(of: node)), to: name)
        }
        for scope in released {
            let count = counts[scope] ?? (0, 0)
            logger.notice("resuming migration: few enough nodes are unhealthy; timers of nodes still down restart now", metadata: [
                "scope": "\(scope.isEmpty ? "cluster" : scope)", "unhealthy": "\(count.unhealthy)", "nodes": "\(count.total)",
            ])
        }
        let held = heldByGuard
        heldByGuard = []
        metrics.pending(retrying: await queue.failingCount, heldByGuard: 0)
        for key in held { await queue.add(key) }
    }

    /// Whether migration is paused by the partition guard, cluster-wide or in any zone (for tests and status).
    public var isPaused: Bool { !pausedScopes.isEmpty }

    /// The failure state of every node seen.
    public var nodeStates: [String: NodeFailureState] { states }

    // MARK: Queueing

    private func podChanged(_ pod: Pod) async {
        if let node = pod.nodeName {
            if states[node]?.isFailed == true { await enqueue(pod.key) }
        } else if planner.keys.optsIn(pod), await pinnedFailedNode(of: pod) != nil {
            // A replacement pod that still names a claim pinned to a failed node (a migration was
            // interrupted, or the node was deleted and its pods collected): it can never start.
            await enqueue(pod.key)
        }
    }

    private func enqueuePods(of node: String) async {
        for pod in await caches.pods.byIndex(Informer<Pod>.nodeIndex, node) { await enqueue(pod.key) }
        for volume in await caches.volumes.items() where VolumePinning.isPinned(volume, to: node, nodeLabels: nodeLabels[node]) {
            guard let claim = volume.spec?.claimRef, let namespace = claim.namespace, let claimName = claim.name else { continue }
            for pod in await caches.pods.byIndex(Informer<Pod>.claimIndex, "\(namespace)/\(claimName)") where pod.nodeName == nil {
                await enqueue(pod.key)
            }
        }
    }

    private func enqueue(_ key: String) async {
        await queue.add(key)
    }

    private func resync() async {
        await findDeletedNodes()
        for (name, state) in states where state.isFailed { await enqueuePods(of: name) }
    }

    /// Pods bound to a node this controller never saw: the node was deleted while no controller
    /// watched (between leaders, say). A live read confirms it is gone before it counts as deleted.
    private func findDeletedNodes() async {
        var unknown: Set<String> = []
        for pod in await caches.pods.items() {
            if let node = pod.nodeName, states[node] == nil { unknown.insert(node) }
        }
        for name in unknown.sorted() {
            do {
                let node = try await client.get(Node.self, name)
                await nodeChanged(node)
            } catch let error as KubeAPIError where error.isNotFound {
                guard states[name] == nil else { continue }
                logger.warning("pods are bound to a node that no longer exists", metadata: ["node": "\(name)"])
                await apply(.failed(.deleted), to: name)
                await updateGuard()
            } catch {
                logger.warning("could not read a node its pods are bound to", metadata: ["node": "\(name)", "error": "\(error)"])
            }
        }
    }

    /// What became of one key.
    enum Outcome {
        /// Nothing (more) to do until something changes.
        case done
        /// Try again after a backoff.
        case retry
        /// The partition guard holds it; it is queued again on release.
        case heldByGuard
    }

    private func finished(_ key: String, _ outcome: Outcome) async {
        switch outcome {
        case .done:
            await queue.forget(key)
        case .heldByGuard:
            heldByGuard.insert(key)
        case .retry:
            let delay = await queue.retry(key)
            logger.info("will retry pod migration", metadata: ["pod": "\(key)", "in": "\(delay)"])
        }
        if outcome != .heldByGuard { heldByGuard.remove(key) }
        metrics.pending(retrying: await queue.failingCount, heldByGuard: heldByGuard.count)
    }

    /// Forgets the hold announced for a pod that no longer waits.
    private func forgetHold(_ key: String) {
        announcedHolds.removeValue(forKey: key)
    }

    /// Records (once per pod and hold) why a pod waits.
    private func announce(_ hold: MigrationHold, for pod: Pod) {
        guard announcedHolds[pod.key] != hold else { return }
        announcedHolds[pod.key] = hold
        let kind: String
        switch hold {
        case .awaitingConfirmation: kind = "awaiting_confirmation"
        case .sharedClaim: kind = "shared_claim"
        }
        metrics.held(kind)
        logger.warning("pod on failed node waits", metadata: ["pod": "\(pod.key)", "why": "\(hold)"])
        if !settings.dryRun { recorder.record(pod, reason: hold.reason, message: "Not moved yet: \(hold).", warning: true) }
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

    /// A pod's migration, worked out from the caches.
    private enum Preparation {
        case nothing
        case heldByGuard
        case hold(MigrationHold, Pod)
        case ready(MigrationPlan, node: String)
    }

    private nonisolated func prepare(_ key: String, readTemplates: Bool) async -> Preparation {
        guard let pod = await caches.pods.get(key) else { return .nothing }
        if let reason = planner.skipReason(for: pod) {
            if reason != .notOptedIn {
                logger.info("leaving pod on failed node alone", metadata: ["pod": "\(key)", "why": "\(reason.rawValue)"])
            }
            return .nothing
        }
        var nodeName = pod.nodeName
        if nodeName == nil { nodeName = await pinnedFailedNode(of: pod) }
        guard let node = nodeName, case .failed(let reason)? = await state(of: node) else { return .nothing }
        if await isHeldByGuard(node) { return .heldByGuard }

        var claims: [String: PersistentVolumeClaim] = [:]
        var volumes: [String: PersistentVolume] = [:]
        for claimName in pod.claimNames {
            guard let claim = await caches.claims.get("\(pod.namespace ?? "")/\(claimName)") else { continue }
            claims[claimName] = claim
            if let volumeName = claim.volumeName, let volume = await caches.volumes.get(volumeName) { volumes[volumeName] = volume }
        }
        let attachments = await caches.volumeAttachments.items().filter { $0.spec.nodeName == node }
        var templates: [String]?
        if readTemplates, let owner = pod.metadata.controller, owner.kind == "StatefulSet" {
            templates = (try? await client.get(StatefulSet.self, owner.name, namespace: pod.namespace))?.claimTemplateNames
        }
        let plan = planner.plan(
            pod: pod, node: node, nodeLabels: await labels(of: node), reason: reason, claims: claims, volumes: volumes,
            attachments: attachments, claimTemplates: templates)
        var users: [String: [Pod]] = [:]
        for local in plan.localClaims { users[local.claim.key] = await caches.pods.byIndex(Informer<Pod>.claimIndex, local.claim.key) }
        if let hold = planner.hold(for: plan, claimUsers: users, requireConfirmation: settings.networkVolumesRequireConfirmation) {
            return .hold(hold, pod)
        }
        return .ready(plan, node: node)
    }

    /// What a preparation that leads to no migration means for the key; nil when it is ready.
    private nonisolated func outcome(of preparation: Preparation, key: String) async -> Outcome? {
        switch preparation {
        case .nothing:
            await forgetHold(key)
            return .done
        case .heldByGuard:
            return .heldByGuard
        case .hold(let hold, let pod):
            await announce(hold, for: pod)
            return .done
        case .ready:
            return nil
        }
    }

    private nonisolated func process(_ key: String) async -> Outcome {
        // A cheap look first, so pods that wait never spend the rate limit.
        if let outcome = await outcome(of: prepare(key, readTemplates: false), key: key) { return outcome }
        try? await limiter.wait()
        // Level-triggered: decide again on what is true after the wait (the pod may have been
        // replaced, its node may have recovered).
        let preparation = await prepare(key, readTemplates: true)
        if let outcome = await outcome(of: preparation, key: key) { return outcome }
        guard case .ready(let plan, let node) = preparation else { return .done }
        await forgetHold(key)
        let success = await executor.execute(plan)
        if success, let elapsed = await failedDuration(of: node) { metrics.migrationDuration(elapsed) }
        return success ? .done : .retry
    }
}
