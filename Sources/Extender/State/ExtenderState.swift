import Capacity
import Kube

/// The extender's mutable state: the node summaries kept from the node cache, and the
/// reservation ledger. Decisions that read the ledger and record in it (filter holds the pod on
/// the nodes it passes) happen in one isolated call, so concurrent requests cannot both spend
/// the same free space.
actor ExtenderState {
    /// The nodes to judge in one request.
    enum Candidates: Sendable {
        /// Nodes read from a full NodeList request.
        case scanned([ScannedNode])
        /// Names to look up in the node cache.
        case names([String])

        var names: [String] {
            switch self {
            case .scanned(let nodes): nodes.map(\.name)
            case .names(let names): names
            }
        }
    }

    /// A pod as the ledger knows it.
    struct PodRef: Sendable, Hashable {
        /// `namespace/name`.
        var key: String
        var uid: String?
    }

    let strategy: ScoringStrategy
    private var nodes: [String: NodeSummary] = [:]
    /// The same nodes, laid out for judging many at once.
    private var table = NodeTable()
    private var ledger: ReservationLedger
    /// Free space per StorageClass from CSIStorageCapacity objects; nil when nodes report capacity themselves.
    private var capacities: StorageCapacityIndex?
    /// Node names by the value of each label key CSIStorageCapacity objects are filed under
    /// (their anchor), so a changed object refreshes only the nodes it can reach: a driver
    /// publishing thousands of objects at once must not cost thousands of passes over every node.
    private var nodesByLabel: [String: [String: Set<String>]] = [:]
    /// True once the caches have synced and this state was built from them.
    private(set) var isReady = false
    private var changeWaiters: [CheckedContinuation<Void, Never>] = []

    // Mirroring the shared ledger (see ``SharedLedger``).
    /// Whether reservations are mirrored to a shared ledger.
    private let sharing: Bool
    /// Pods (uid → `namespace/name`) in the shared ledger as last synced.
    private var shared: [String: String] = [:]
    /// Reservations this replica stopped counting (uid → when): never adopted again from the
    /// shared ledger, where they may linger until their removal lands.
    private var releasedLocally: [String: ContinuousClock.Instant] = [:]
    /// Reservations this replica stopped counting that the shared ledger still holds, to remove.
    let removals: AsyncStream<[ReservationLedger.Released]>
    private let removalSink: AsyncStream<[ReservationLedger.Released]>.Continuation
    /// How long a reservation another replica removed from the shared ledger keeps counting here:
    /// the watch that shows this replica the node's new report may trail the one that showed it
    /// the removal.
    static let remoteReleaseGrace: Duration = .seconds(2)

    /// - Parameter capacityFromObjects: capacity comes from CSIStorageCapacity objects
    ///   (``upsertStorageCapacity(key:_:)``), not from the Node objects.
    init(strategy: ScoringStrategy, reservationTTL: Duration, sharing: Bool = false, capacityFromObjects: Bool = false) {
        self.strategy = strategy
        self.capacities = capacityFromObjects ? StorageCapacityIndex() : nil
        self.ledger = ReservationLedger(ttl: reservationTTL)
        self.sharing = sharing
        (removals, removalSink) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    // MARK: Nodes

    func replaceNodes(_ summaries: [NodeSummary]) {
        let names = Set(summaries.map(\.name))
        for name in nodes.keys where !names.contains(name) { removeNode(name) }
        for summary in summaries { upsertNode(summary) }
    }

    func upsertNode(_ summary: NodeSummary) {
        store(summary)
        changed()
    }

    private func store(_ summary: NodeSummary) {
        var summary = summary
        if let capacities {
            summary.capacity = capacities.capacity(labels: summary.labels)
            let previous = nodes[summary.name]?.labels
            for key in Array(nodesByLabel.keys) where previous?[key] != summary.labels[key] {
                if let old = previous?[key] { nodesByLabel[key]![old]?.remove(summary.name) }
                if let new = summary.labels[key] { nodesByLabel[key]![new, default: []].insert(summary.name) }
            }
        }
        nodes[summary.name] = summary
        table.upsert(summary)
        ledger.report(node: summary.name, freeGiB: summary.capacity.freeGiB)
    }

    // MARK: CSIStorageCapacity

    /// Takes a CSIStorageCapacity object (added or changed) into the nodes it reaches, and out of
    /// those it no longer reaches.
    func upsertStorageCapacity(key: String, _ object: CSIStorageCapacity) {
        guard capacities != nil else { return }
        let old = capacities!.upsert(key: key, object)
        refresh(reachedBy: [old, capacities!.entries[key]].compactMap { $0 })
    }

    /// Takes a deleted CSIStorageCapacity object out of the nodes it reached.
    func removeStorageCapacity(key: String) {
        guard capacities != nil, let old = capacities!.remove(key: key) else { return }
        refresh(reachedBy: [old])
    }

    /// Replaces every CSIStorageCapacity object (the first list), then every node's capacity.
    func replaceStorageCapacities(_ objects: [CSIStorageCapacity]) {
        guard capacities != nil else { return }
        var index = StorageCapacityIndex()
        for object in objects { index.upsert(key: object.key, object) }
        capacities = index
        for summary in Array(nodes.values) { store(summary) }
        changed()
    }

    /// Recomputes the capacity of the nodes `entries` select: for an entry filed under a label,
    /// only the nodes carrying that label value; otherwise every node.
    private func refresh(reachedBy entries: [StorageCapacityIndex.Entry]) {
        guard !entries.isEmpty else { return }
        var candidates: Set<String> = []
        for entry in entries {
            guard let anchor = entry.anchor else {
                candidates = Set(nodes.keys)
                break
            }
            candidates.formUnion(nodes(labelled: anchor.key, anchor.value))
        }
        for name in candidates {
            guard let summary = nodes[name], entries.contains(where: { $0.selector.matches(summary.labels) }) else { continue }
            store(summary)
        }
        changed()
    }

    /// The nodes whose label `key` is `value`, from an index of that key built on first use.
    private func nodes(labelled key: String, _ value: String) -> Set<String> {
        if nodesByLabel[key] == nil {
            var byValue: [String: Set<String>] = [:]
            for (name, summary) in nodes { if let value = summary.labels[key] { byValue[value, default: []].insert(name) } }
            nodesByLabel[key] = byValue
        }
        return nodesByLabel[key]?[value] ?? []
    }

    /// The CSIStorageCapacity objects counted (tests and diagnostics).
    var storageCapacityCount: Int { capacities?.count ?? 0 }

    func removeNode(_ name: String) {
        if let labels = nodes[name]?.labels {
            for key in Array(nodesByLabel.keys) { if let value = labels[key] { nodesByLabel[key]![value]?.remove(name) } }
        }
        nodes.removeValue(forKey: name)
        table.remove(name)
        ledger.nodeRemoved(name)
        changed()
    }

    func markReady() {
        isReady = true
        changed()
    }

    /// Returns once `predicate` holds, re-checking after every change (tests and readiness).
    /// The check and the wait happen without a suspension between them, so no change is missed.
    func waitUntil(_ predicate: @Sendable (isolated ExtenderState) -> Bool) async {
        while !predicate(self) { await withCheckedContinuation { changeWaiters.append($0) } }
    }

    private func changed() {
        flushReleased()
        guard !changeWaiters.isEmpty else { return }
        let waiters = changeWaiters
        changeWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    // MARK: Decisions

    /// Judges every candidate for a pod needing `requests`, then holds the request on the nodes
    /// that pass (see ``ReservationLedger``).
    func filter(pod: PodRef, requests: VolumeGroupRequests, pins: [VolumePin], candidates: Candidates, now: ContinuousClock.Instant) -> [PlacementVerdict] {
        ledger.expire(now: now)
        let committed = ledger.committed(excluding: pod.key)
        let (verdicts, _) = judge(rule: PlacementRule(requests: requests), pins: pins, candidates: candidates, committed: committed, computeLeft: false)
        let names = candidates.names
        var passing: [String] = []
        passing.reserveCapacity(names.count)
        for index in names.indices where verdicts[index].fits { passing.append(names[index]) }
        ledger.hold(pod: pod.key, uid: pod.uid, candidates: passing, requests: requests, now: now)
        changed()
        return verdicts
    }

    /// Scores every candidate (0 where the pod does not fit) and narrows the pod's hold to them.
    func prioritize(pod: PodRef, requests: VolumeGroupRequests, pins: [VolumePin], candidates: Candidates, now: ContinuousClock.Instant) -> [Int64] {
        ledger.expire(now: now)
        let committed = ledger.committed(excluding: pod.key)
        let rule = PlacementRule(requests: requests)
        let (verdicts, left) = judge(rule: rule, pins: pins, candidates: candidates, committed: committed, computeLeft: true)
        ledger.narrowHold(pod: pod.key, uid: pod.uid, to: candidates.names)
        changed()
        return CapacityScore.scores(left: left, groupCount: rule.requests.count, fits: verdicts.map(\.fits), strategy: strategy)
    }

    /// The verdict for every candidate and, with `computeLeft`, the GiB each fitting candidate
    /// would have left per requested group, as a matrix (`left[group * count + candidate]`).
    private func judge(rule: PlacementRule, pins: [VolumePin], candidates: Candidates, committed: CommittedCapacity, computeLeft: Bool) -> (verdicts: [PlacementVerdict], left: [Int64]) {
        // Usually nothing is promised: skip the per-node lookup then.
        let promised = committed.byNode.isEmpty ? nil : committed.byNode
        let count: Int
        switch candidates {
        case .scanned(let scanned): count = scanned.count
        case .names(let names): count = names.count
        }
        let groups = rule.requests.count
        var verdicts: [PlacementVerdict] = []
        verdicts.reserveCapacity(count)
        var left = computeLeft ? [Int64](repeating: 0, count: groups * count) : []
        // With CSIStorageCapacity, full Node objects in a request carry no capacity: the cache's do.
        let limited = capacities != nil

        /// Judges candidate `candidate` given its free GiB in requested group `g` (nil: not
        /// reported) and the largest volume the group takes (nil: no limit).
        func judgeCapacity(_ candidate: Int, name: String, free: (Int) -> Int64?, maxVolume: (Int) -> Int64?) -> PlacementVerdict {
            let promisedHere = promised?[name]
            for index in 0..<groups {
                let (group, needed, largest) = rule.requests[index]
                let reported = free(index)
                let promisedGiB = promisedHere?[group] ?? 0
                let maxVolume = maxVolume(index)
                if let shortfall = PlacementRule.shortfall(group: group, needed: needed, free: reported, promised: promisedGiB, largest: largest, maxVolume: maxVolume) {
                    return shortfall
                }
                if computeLeft { left[index * count + candidate] = reported!.saturatingSubtract(promisedGiB).saturatingSubtract(needed) }
            }
            return .fits(leftGiB: [:])
        }

        switch candidates {
        case .scanned(let scanned):
            for index in scanned.indices {
                var summary = scanned[index].summary
                if limited { summary.capacity = nodes[summary.name]?.capacity ?? NodeCapacity() }
                if case .unhealthy(let reasons) = summary.health {
                    verdicts.append(.dropped(.unhealthy, reasons.map(\.description).joined(separator: "; ")))
                } else if let pin = firstViolatedPin(pins, name: summary.name, labels: summary.labels) {
                    verdicts.append(.dropped(.pinned, pin.reason))
                } else {
                    verdicts.append(judgeCapacity(
                        index, name: summary.name, free: { summary.capacity[rule.requests[$0].group] },
                        maxVolume: { summary.capacity.maxVolumeGiB[rule.requests[$0].group] }))
                }
            }
        case .names(let names):
            // A local copy: reaching through the actor's stored property on every node retained
            // and released the table's storage each time.
            let table = self.table
            // The requested groups' columns side by side in one buffer, read without retaining per node.
            let stride = table.slotCount
            var free = [Int64](repeating: NodeTable.notReported, count: stride * groups)
            for (index, request) in rule.requests.enumerated() {
                if let column = table.column(request.group) { free.replaceSubrange(index * stride..<(index + 1) * stride, with: column) }
            }
            // Limits side by side the same way, only when some node has one for a requested group.
            var limits: [Int64]?
            for (index, request) in rule.requests.enumerated() {
                guard let column = table.limitColumn(request.group) else { continue }
                if limits == nil { limits = [Int64](repeating: NodeTable.notReported, count: stride * groups) }
                limits!.replaceSubrange(index * stride..<(index + 1) * stride, with: column)
            }
            for (index, name) in names.enumerated() {
                guard let slot = table.slot(of: name) else {
                    verdicts.append(.dropped(.notFound, "node not found in the extender's node cache"))
                    continue
                }
                if let reason = table.unhealthyReason(at: slot) {
                    verdicts.append(.dropped(.unhealthy, reason))
                } else if let pin = firstViolatedPin(pins, name: name, labels: [:]) {
                    verdicts.append(.dropped(.pinned, pin.reason))
                } else {
                    verdicts.append(judgeCapacity(
                        index, name: name,
                        free: { group in
                            let raw = free[group * stride + slot]
                            return raw == NodeTable.notReported ? nil : raw
                        },
                        maxVolume: { group in
                            guard let raw = limits?[group * stride + slot], raw != NodeTable.notReported else { return nil }
                            return raw
                        }))
                }
            }
        }
        return (verdicts, left)
    }

    /// The first pin the node cannot satisfy. Nodes read from a request carry no labels; the
    /// cache's copy of the node does.
    private func firstViolatedPin(_ pins: [VolumePin], name: String, labels: [String: String]) -> VolumePin? {
        guard !pins.isEmpty else { return nil }
        let labels = nodes[name]?.labels ?? labels
        return pins.first { !$0.allows(labels: labels, name: name) }
    }

    // MARK: Binding

    /// Judges `node` for a pod about to be bound there, by the extender's own rules (the node
    /// is in the cache and healthy, the pod's volume pins allow it, its volume groups have room
    /// after every other pod's holds and reservations) and, when it passes, records the
    /// placement — in one step, so no other pod's filter can slip in between.
    func admitBinding(pod: PodRef, on node: String, requests: VolumeGroupRequests, pins: [VolumePin], now: ContinuousClock.Instant) -> PlacementVerdict {
        ledger.expire(now: now)
        let committed = ledger.committed(excluding: pod.key)
        let (verdicts, _) = judge(rule: PlacementRule(requests: requests), pins: pins, candidates: .names([node]), committed: committed, computeLeft: false)
        let verdict = verdicts.first ?? .dropped(.notFound, "node not found in the extender's node cache")
        if verdict.fits { placed(pod: pod, on: node, requests: requests, now: now) }
        return verdict
    }

    // MARK: Recording placements

    /// The pod is bound (or about to be) to `node`: a held pod's hold becomes a reservation there;
    /// otherwise `requests` is reserved.
    func placed(pod: PodRef, on node: String, requests: VolumeGroupRequests, now: ContinuousClock.Instant) {
        ledger.expire(now: now)
        if !ledger.settle(pod: pod.key, uid: pod.uid, on: node, now: now) {
            ledger.reserve(pod: pod.key, uid: pod.uid, node: node, requests: requests, now: now)
        }
        changed()
    }

    /// The pod's local claims are all bound: its volumes exist.
    func claimsBound(pod: PodRef, now: ContinuousClock.Instant) {
        ledger.claimsBound(pod: pod.key, uid: pod.uid, now: now)
        changed()
    }

    /// The pod is gone or finished, or its placement failed.
    func release(pod: PodRef) {
        ledger.release(pod: pod.key, uid: pod.uid)
        changed()
    }

    // MARK: Shared ledger

    /// Brings the ledger in line with the shared ledger's reservations: those not known here are
    /// reserved on their node; those another replica removed count for
    /// ``remoteReleaseGrace`` more. Returns the reservations this replica already stopped
    /// counting, which the shared ledger should drop.
    @discardableResult
    func adoptShared(_ reservations: [SharedReservation], now: ContinuousClock.Instant) -> [ReservationLedger.Released] {
        var present: [String: String] = [:]
        var stale: [ReservationLedger.Released] = []
        for reservation in reservations {
            present[reservation.uid] = reservation.pod
            if releasedLocally[reservation.uid] != nil {
                stale.append(.init(pod: reservation.pod, uid: reservation.uid, node: reservation.node))
                continue
            }
            if let entry = ledger.entry(pod: reservation.pod) {
                if entry.uid == reservation.uid, entry.node == nil {
                    ledger.settle(pod: reservation.pod, uid: reservation.uid, on: reservation.node, now: now)
                }
                // Reserved here already, or the name now belongs to another pod.
                continue
            }
            ledger.reserve(pod: reservation.pod, uid: reservation.uid, node: reservation.node, requests: reservation.requests, now: now)
        }
        for (uid, pod) in shared where present[uid] == nil {
            ledger.shorten(pod: pod, uid: uid, to: Self.remoteReleaseGrace, now: now)
        }
        shared = present
        let ttl = ledger.ttl
        releasedLocally = releasedLocally.filter { now - $0.value < ttl }
        changed()
        return stale
    }

    /// Asks the shared ledger's remover to drop reservations that no longer hold.
    func requestRemoval(_ stale: [ReservationLedger.Released]) {
        for item in stale { if let uid = item.uid { releasedLocally[uid] = releasedLocally[uid] ?? .now } }
        removalSink.yield(stale)
    }

    /// Hands reservations that stopped counting to the shared ledger's remover.
    private func flushReleased() {
        let released = ledger.takeReleased()
        guard sharing, !released.isEmpty else { return }
        let now = ContinuousClock.now
        var remove: [ReservationLedger.Released] = []
        for item in released {
            guard let uid = item.uid else { continue }
            releasedLocally[uid] = now
            if shared[uid] != nil { remove.append(item) }
        }
        if !remove.isEmpty { removalSink.yield(remove) }
    }

    /// The ledger entry of a pod (tests and diagnostics).
    func entry(pod: String) -> ReservationLedger.Entry? { ledger.entry(pod: pod) }

    /// GiB the ledger counts against a node and group (tests and diagnostics).
    func committed(node: String, group: String) -> Int64 { ledger.committed()[node, group] }
}
