/// Why the filter drops a node, as a bounded set (a metrics label).
public enum DropReason: String, Sendable, Hashable, CaseIterable {
    /// Not Ready, tainted unreachable/not-ready/out-of-service/unschedulable, cordoned or being deleted.
    case unhealthy
    /// The node does not report one of the pod's volume groups.
    case groupMissing = "group_missing"
    /// The node's reported free space is smaller than the request.
    case insufficientCapacity = "insufficient_capacity"
    /// Enough reported space, but pods being placed have it promised.
    case reserved
    /// One of the pod's claims is bound to a volume on another node.
    case pinned
    /// NodeNames mode: the name is not in the extender's node cache.
    case notFound = "not_found"
    /// The pod's own request could not be read, so no node can be judged.
    case unreadableRequest = "unreadable_request"

    /// Whether kube-scheduler's preemption could make the node fit. Evicting pods frees no
    /// volume-group space, so only space promised to in-flight placements can come back.
    public var resolvable: Bool { self == .reserved }
}

/// The filter's answer for one node.
public enum PlacementVerdict: Sendable, Hashable {
    /// The pod fits; `leftGiB` is the free space per requested group after placing it (empty
    /// when the caller asked ``PlacementRule`` not to compute it).
    case fits(leftGiB: [String: Int64])
    /// The node is dropped, with the reason kube-scheduler reports to the user.
    case dropped(DropReason, String)

    public var fits: Bool {
        if case .fits = self { return true }
        return false
    }

    /// Judges one node for a pod needing `requests`: healthy, offering every group, and with room
    /// in each once reported space and space promised to other pods are accounted for.
    ///
    /// - Parameters:
    ///   - health: the node's health verdict.
    ///   - capacity: what the node reports, GiB per group.
    ///   - committed: GiB per group the ledger counts against the node for other pods.
    public static func judge(requests: VolumeGroupRequests, health: NodeHealth, capacity: NodeCapacity, committed: [String: Int64]) -> PlacementVerdict {
        PlacementRule(requests: requests).judge(health: health, capacity: capacity, committed: committed)
    }
}

/// ``PlacementVerdict/judge(requests:health:capacity:committed:)`` prepared once for one pod, to
/// judge thousands of nodes without sorting or allocating per node.
public struct PlacementRule: Sendable {
    /// The requested groups in name order, so a node short in several always reports the same
    /// one, with the GiB of the largest single volume in each.
    public let requests: [(group: String, gib: Int64, largest: Int64)]

    public init(requests: VolumeGroupRequests) {
        self.requests = requests.gibByGroup.sorted { $0.key < $1.key }.map { (group: $0.key, gib: $0.value, largest: requests.largest(in: $0.key)) }
    }

    /// Judges one node. Without `computeLeft` a fitting node's verdict carries no amounts
    /// (the filter needs none; prioritize does).
    public func judge(health: NodeHealth, capacity: NodeCapacity, committed: [String: Int64]?, computeLeft: Bool = true) -> PlacementVerdict {
        if case .unhealthy(let reasons) = health {
            return .dropped(.unhealthy, reasons.map(\.description).joined(separator: "; "))
        }
        var left: [String: Int64] = [:]
        for (group, needed, largest) in requests {
            let free = capacity[group]
            let promised = committed?[group] ?? 0
            if let dropped = Self.shortfall(group: group, needed: needed, free: free, promised: promised, largest: largest, maxVolume: capacity.maxVolumeGiB[group]) {
                return dropped
            }
            if computeLeft { left[group] = free!.saturatingSubtract(promised).saturatingSubtract(needed) }
        }
        return .fits(leftGiB: left)
    }

    /// One group's check: nil when `needed` GiB fit in what the node reports `free` (nil: the
    /// group is not reported) minus what is `promised` to other pods, and the `largest` single
    /// volume fits the group's `maxVolume` (nil: no limit), else why not.
    @inline(__always)
    public static func shortfall(group: String, needed: Int64, free: Int64?, promised: Int64, largest: Int64 = 0, maxVolume: Int64? = nil) -> PlacementVerdict? {
        guard let free else { return .dropped(.groupMissing, "node has no volume group \(group)") }
        if let maxVolume, largest > maxVolume {
            return .dropped(.insufficientCapacity, "volume group \(group) takes volumes of at most \(maxVolume) GiB (maximumVolumeSize), the pod needs one of \(largest) GiB")
        }
        if free < needed {
            return .dropped(.insufficientCapacity, "volume group \(group) has \(free) GiB free, the pod needs \(needed) GiB")
        }
        if free.saturatingSubtract(promised) < needed {
            return .dropped(.reserved, "volume group \(group) has \(free) GiB free but \(promised) GiB are promised to pods being placed; the pod needs \(needed) GiB")
        }
        return nil
    }
}
