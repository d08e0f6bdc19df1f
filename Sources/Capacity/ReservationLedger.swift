/// Capacity promised to pods that are being placed, or have been placed, but whose volumes a
/// node's report does not show yet.
///
/// Reported free space lags: kube-scheduler places the next pod before the previous pod's volumes
/// exist, and a node reports new free space only after they do — Carina's node agent and
/// TopoLVM's lvmd on their own schedules, seconds after the volume was made. Without this ledger a
/// burst of pods (the rebuild after a node fails) would all see the same free space and overcommit
/// a group.
///
/// A pod's entry is either
/// - **held** on every node that passed the filter for it: kube-scheduler binds asynchronously,
///   so the next pod can be filtered before the extender learns which node this one got. Until it
///   does, the pod's request counts against every candidate. This is conservative (other pods may
///   briefly see less room than there is) and never overcommits.
/// - **reserved** on the node it was bound to (the bind verb, the claims' selected-node
///   annotation, or the pod's `spec.nodeName`).
///
/// An entry's request stops counting only when the node's report shows it or the entry cannot
/// matter any more:
/// - the node's report for a group drops (``report(node:freeGiB:)``): the drop is attributed first
///   to reservations whose volumes are known to exist (``claimsBound(pod:uid:now:)`` marks them),
///   then to the oldest other reservations on that node — whole reservations only, up to the size
///   of the drop. A rise, or a drop smaller than the next reservation, releases nothing. Bound
///   claims alone release nothing: the volume exists, but the report may not show it for a while;
/// - the pod is deleted (``release(pod:uid:)``), its node is deleted, or the TTL passes.
///
/// Pods are keyed by `namespace/name`; a uid, when known, keeps a recreated pod of the same name
/// (a StatefulSet rebuild) from being confused with the one it replaces. Every reservation that
/// stops counting is also listed in ``released`` until taken with ``takeReleased()``, so a copy of
/// the ledger kept elsewhere (the extender's shared ledger) can follow.
public struct ReservationLedger: Sendable {
    /// Where an entry's request is counted.
    public enum Placement: Sendable, Hashable {
        /// Counted on every candidate node until the chosen node is known. An array, not a set:
        /// holds are rebuilt on every filter call, and hashing thousands of names each time showed
        /// up in the extender's latency.
        case held(candidates: [String])
        /// Counted on the node the pod was bound to.
        case reserved(node: String)
    }

    /// One pod's promised capacity.
    public struct Entry: Sendable, Hashable {
        public var uid: String?
        public var placement: Placement
        /// GiB per volume group still counted against the node(s).
        public var remaining: [String: Int64]
        /// Creation order, for attributing report drops to the oldest reservation first.
        public var sequence: UInt64
        public var expires: ContinuousClock.Instant
        /// The pod's local claims are all bound: its volumes exist, so a drop in its node's report
        /// is most likely them.
        public var provisioned = false

        /// The node the pod is reserved on, if it is reserved rather than held.
        public var node: String? {
            if case .reserved(let node) = placement { return node }
            return nil
        }
    }

    /// A reservation that stopped counting.
    public struct Released: Sendable, Hashable {
        public var pod: String
        public var uid: String?
        public var node: String

        public init(pod: String, uid: String?, node: String) {
            self.pod = pod
            self.uid = uid
            self.node = node
        }
    }

    /// How long an entry counts at most.
    public var ttl: Duration
    /// Entries by pod key (`namespace/name`).
    public private(set) var entries: [String: Entry] = [:]
    /// Reservations that stopped counting since the last ``takeReleased()``.
    public private(set) var released: [Released] = []
    private var lastReported: [String: [String: Int64]] = [:]
    private var nextSequence: UInt64 = 0

    public init(ttl: Duration) { self.ttl = ttl }

    // MARK: Recording placements

    /// Counts `requests` on every node in `candidates` for `pod`, replacing what the pod had:
    /// a pod that is filtered again is on a new scheduling attempt, so its earlier hold or
    /// reservation no longer stands.
    public mutating func hold(pod: String, uid: String?, candidates: [String], requests: VolumeGroupRequests, now: ContinuousClock.Instant) {
        guard !candidates.isEmpty, !requests.isEmpty else {
            remove(pod)
            return
        }
        replace(pod, with: Entry(uid: uid, placement: .held(candidates: candidates), remaining: requests.gibByGroup, sequence: takeSequence(), expires: now + ttl))
    }

    /// Keeps a held pod's hold only on `nodes` (prioritize sees the final candidate set).
    public mutating func narrowHold(pod: String, uid: String?, to nodes: [String]) {
        guard var entry = entries[pod], Self.sameUID(entry.uid, uid), case .held(let candidates) = entry.placement else { return }
        // kube-scheduler asks to score the nodes that passed every filter: the same nodes, or
        // fewer when another extender dropped some. Only fewer can narrow the hold.
        guard nodes.count < candidates.count else { return }
        let keep = Set(nodes)
        let narrowed = candidates.filter { keep.contains($0) }
        guard !narrowed.isEmpty else { return }
        entry.placement = .held(candidates: narrowed)
        entries[pod] = entry
    }

    /// Counts `requests` on `node` for `pod`. A pod already reserved on that node keeps its entry
    /// (and what report drops have released of it); anything else is replaced.
    public mutating func reserve(pod: String, uid: String?, node: String, requests: VolumeGroupRequests, now: ContinuousClock.Instant) {
        if let entry = entries[pod], Self.sameUID(entry.uid, uid), entry.node == node { return }
        guard !requests.isEmpty else {
            remove(pod)
            return
        }
        replace(pod, with: Entry(uid: uid, placement: .reserved(node: node), remaining: requests.gibByGroup, sequence: takeSequence(), expires: now + ttl))
    }

    /// Converts a held pod's hold to a reservation on `node`, keeping its request; does nothing
    /// when the pod is not held. Returns whether it did.
    @discardableResult
    public mutating func settle(pod: String, uid: String?, on node: String, now: ContinuousClock.Instant) -> Bool {
        guard let entry = entries[pod], Self.sameUID(entry.uid, uid), case .held = entry.placement else { return false }
        entries[pod] = Entry(uid: entry.uid ?? uid, placement: .reserved(node: node), remaining: entry.remaining, sequence: entry.sequence, expires: now + ttl)
        return true
    }

    /// Makes a reservation count for at most `duration` more (another replica saw it released).
    public mutating func shorten(pod: String, uid: String?, to duration: Duration, now: ContinuousClock.Instant) {
        guard let entry = entries[pod], Self.sameUID(entry.uid, uid), entry.node != nil else { return }
        entries[pod]?.expires = min(entry.expires, now + duration)
    }

    // MARK: Releasing

    /// Forgets a pod (deleted, or no longer needing capacity).
    public mutating func release(pod: String, uid: String?) {
        guard let entry = entries[pod], Self.sameUID(entry.uid, uid) else { return }
        remove(pod)
    }

    /// All the pod's local claims are bound: its volumes exist. The reservation keeps counting
    /// until the node's report shows them, and is the first a drop is attributed to.
    public mutating func claimsBound(pod: String, uid: String?, now: ContinuousClock.Instant) {
        guard let entry = entries[pod], Self.sameUID(entry.uid, uid), entry.node != nil, !entry.provisioned else { return }
        entries[pod]?.provisioned = true
    }

    /// Takes in a node's latest report and releases the reservations a drop accounts for.
    /// Returns the pods whose entries were released entirely.
    @discardableResult
    public mutating func report(node: String, freeGiB: [String: Int64]) -> [String] {
        let previous = lastReported.updateValue(freeGiB, forKey: node)
        guard let previous else { return [] }
        var releasedPods: [String] = []
        for (group, before) in previous.sorted(by: { $0.key < $1.key }) {
            guard let after = freeGiB[group], after < before else { continue }
            var drop = before.saturatingSubtract(after)
            // Volumes known to exist explain the drop first, then the oldest reservations.
            let candidates = entries.filter { $0.value.node == node && ($0.value.remaining[group] ?? 0) > 0 }
                .sorted { ($0.value.provisioned ? 0 : 1, $0.value.sequence) < ($1.value.provisioned ? 0 : 1, $1.value.sequence) }
            for (pod, entry) in candidates {
                let gib = entry.remaining[group] ?? 0
                guard gib <= drop else { break }
                drop -= gib
                var updated = entry
                updated.remaining[group] = nil
                if updated.remaining.isEmpty {
                    remove(pod)
                    releasedPods.append(pod)
                } else {
                    entries[pod] = updated
                }
            }
        }
        return releasedPods
    }

    /// Forgets a deleted node: its reservations and report; holds no longer count there.
    public mutating func nodeRemoved(_ node: String) {
        lastReported.removeValue(forKey: node)
        for (pod, entry) in entries {
            switch entry.placement {
            case .reserved(let reservedOn) where reservedOn == node:
                remove(pod)
            case .held(var candidates) where candidates.contains(node):
                candidates.removeAll { $0 == node }
                if candidates.isEmpty {
                    entries.removeValue(forKey: pod)
                } else {
                    entries[pod]?.placement = .held(candidates: candidates)
                }
            default: break
            }
        }
    }

    /// Drops entries whose TTL has passed. Returns the pods dropped.
    @discardableResult
    public mutating func expire(now: ContinuousClock.Instant) -> [String] {
        let expired = entries.filter { $0.value.expires <= now }.map(\.key)
        for pod in expired { remove(pod) }
        return expired.sorted()
    }

    /// The reservations that stopped counting since the last call, oldest first.
    public mutating func takeReleased() -> [Released] {
        defer { released = [] }
        return released
    }

    // MARK: Reading

    /// GiB counted per node and group, over every entry but `pod`'s own.
    public func committed(excluding pod: String? = nil) -> CommittedCapacity {
        var byNode: [String: [String: Int64]] = [:]
        for (key, entry) in entries where key != pod {
            switch entry.placement {
            case .reserved(let node):
                for (group, gib) in entry.remaining { byNode[node, default: [:]][group, default: 0].saturatingIncrement(by: gib) }
            case .held(let candidates):
                for node in candidates {
                    for (group, gib) in entry.remaining { byNode[node, default: [:]][group, default: 0].saturatingIncrement(by: gib) }
                }
            }
        }
        return CommittedCapacity(byNode: byNode)
    }

    /// The entry of a pod, if any.
    public func entry(pod: String) -> Entry? { entries[pod] }

    // MARK: Bookkeeping

    /// Sets a pod's entry, noting a reservation it replaces.
    private mutating func replace(_ pod: String, with entry: Entry) {
        if let old = entries.updateValue(entry, forKey: pod), let node = old.node { released.append(Released(pod: pod, uid: old.uid, node: node)) }
    }

    /// Removes a pod's entry, noting it when it was a reservation.
    private mutating func remove(_ pod: String) {
        if let old = entries.removeValue(forKey: pod), let node = old.node { released.append(Released(pod: pod, uid: old.uid, node: node)) }
    }

    private mutating func takeSequence() -> UInt64 {
        nextSequence += 1
        return nextSequence
    }

    /// Uids match when both are known and equal, or either is unknown.
    static func sameUID(_ a: String?, _ b: String?) -> Bool {
        guard let a, let b, !a.isEmpty, !b.isEmpty else { return true }
        return a == b
    }
}

extension Int64 {
    /// Adds `amount`, holding at the bounds instead of trapping: totals of user-supplied requests.
    mutating func saturatingIncrement(by amount: Int64) { self = saturatingAdd(amount) }
}

/// GiB the ledger counts against each node and volume group (totals saturate at `Int64.max`).
public struct CommittedCapacity: Sendable, Hashable {
    public var byNode: [String: [String: Int64]]

    public init(byNode: [String: [String: Int64]] = [:]) { self.byNode = byNode }

    public subscript(node: String, group: String) -> Int64 { byNode[node]?[group] ?? 0 }

    /// Everything counted against one node.
    public subscript(node: String) -> [String: Int64] { byNode[node] ?? [:] }
}
