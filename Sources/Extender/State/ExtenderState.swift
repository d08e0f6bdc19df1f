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
    /// True once the caches have synced and this state was built from them.
    private(set) var isReady = false
    private var changeWaiters: [CheckedContinuation<Void, Never>] = []

    init(strategy: ScoringStrategy, reservationTTL: Duration) {
        self.strategy = strategy
        self.ledger = ReservationLedger(ttl: reservationTTL)
    }

    // MARK: Nodes

    func replaceNodes(_ summaries: [NodeSummary]) {
        let names = Set(summaries.map(\.name))
        for name in nodes.keys where !names.contains(name) { removeNode(name) }
        for summary in summaries { upsertNode(summary) }
    }

    func upsertNode(_ summary: NodeSummary) {
        nodes[summary.name] = summary
        table.upsert(summary)
        ledger.report(node: summary.name, freeGiB: summary.capacity.freeGiB)
        changed()
    }

    func removeNode(_ name: String) {
        nodes.removeValue(forKey: name)
        table.remove(name)
        ledger.nodeRemoved(name)
        changed()
    }

    func node(_ name: String) -> NodeSummary? { nodes[name] }

    var nodeCount: Int { nodes.count }

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
        let verdicts = judge(requests: requests, pins: pins, candidates: candidates, committed: committed, computeLeft: false)
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
        let verdicts = judge(requests: requests, pins: pins, candidates: candidates, committed: committed, computeLeft: true)
        var left: [[String: Int64]?] = []
        left.reserveCapacity(verdicts.count)
        for verdict in verdicts {
            if case .fits(let amounts) = verdict { left.append(amounts) } else { left.append(nil) }
        }
        ledger.narrowHold(pod: pod.key, uid: pod.uid, to: candidates.names)
        changed()
        return CapacityScore.scores(left: left, groups: requests.gibByGroup.keys, strategy: strategy)
    }

    private func judge(requests: VolumeGroupRequests, pins: [VolumePin], candidates: Candidates, committed: CommittedCapacity, computeLeft: Bool) -> [PlacementVerdict] {
        let rule = PlacementRule(requests: requests)
        // Usually nothing is promised: skip the per-node lookup then.
        let promised = committed.byNode.isEmpty ? nil : committed.byNode
        var verdicts: [PlacementVerdict] = []
        switch candidates {
        case .scanned(let scanned):
            verdicts.reserveCapacity(scanned.count)
            for node in scanned {
                verdicts.append(verdict(for: node.summary, requests: rule, pins: pins, committed: promised?[node.name], computeLeft: computeLeft))
            }
        case .names(let names):
            verdicts.reserveCapacity(names.count)
            let columns = rule.requests.map { table.column($0.group) }
            for name in names {
                guard let slot = table.slot(of: name) else {
                    verdicts.append(.dropped(.notFound, "node not found in the extender's node cache"))
                    continue
                }
                if let reason = table.unhealthyReason(at: slot) {
                    verdicts.append(.dropped(.unhealthy, reason))
                    continue
                }
                if !pins.isEmpty, let pin = pins.first(where: { !$0.allows(labels: nodes[name]?.labels ?? [:], name: name) }) {
                    verdicts.append(.dropped(.pinned, pin.reason))
                    continue
                }
                let promisedHere = promised?[name]
                var left: [String: Int64] = [:]
                var dropped: PlacementVerdict?
                for index in rule.requests.indices {
                    let (group, needed) = rule.requests[index]
                    let raw = columns[index]?[slot] ?? NodeTable.notReported
                    let free: Int64? = raw == NodeTable.notReported ? nil : raw
                    let promisedGiB = promisedHere?[group] ?? 0
                    if let shortfall = PlacementRule.shortfall(group: group, needed: needed, free: free, promised: promisedGiB) {
                        dropped = shortfall
                        break
                    }
                    if computeLeft { left[group] = raw - promisedGiB - needed }
                }
                verdicts.append(dropped ?? .fits(leftGiB: left))
            }
        }
        return verdicts
    }

    private func verdict(for summary: borrowing NodeSummary, requests rule: PlacementRule, pins: [VolumePin], committed: [String: Int64]?, computeLeft: Bool) -> PlacementVerdict {
        if case .unhealthy(let reasons) = summary.health {
            return .dropped(.unhealthy, reasons.map(\.description).joined(separator: "; "))
        }
        if !pins.isEmpty {
            // Nodes read from a request carry no labels; the cache's copy of the node does.
            let labels = nodes[summary.name]?.labels ?? summary.labels
            for pin in pins where !pin.allows(labels: labels, name: summary.name) { return .dropped(.pinned, pin.reason) }
        }
        return rule.judge(health: summary.health, capacity: summary.capacity, committed: committed, computeLeft: computeLeft)
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

    /// The ledger entry of a pod (tests and diagnostics).
    func entry(pod: String) -> ReservationLedger.Entry? { ledger.entry(pod: pod) }

    /// GiB the ledger counts against a node and group (tests and diagnostics).
    func committed(node: String, group: String) -> Int64 { ledger.committed()[node, group] }
}
