import Capacity
import Kube

/// What the scheduler knows at one moment: nodes with what they have left, and the volume
/// objects that constrain placement.
struct ClusterSnapshot {
    struct NodeInfo {
        var name: String
        var json: JSONValue
        var labels: [String: String]
        var ready: Bool
        var unschedulable: Bool
        var taints: [JSONValue]
        var allocatable: [String: Quantity]
        /// Sum of the requests of the pods already on the node.
        var requested: [String: Quantity]
        var podCount: Int
    }

    var nodes: [NodeInfo]
    var claims: [String: StoredObject]
    var volumes: [String: StoredObject]
    /// Resources the scheduler leaves to extenders (`ignoredByScheduler`).
    var ignored: Set<String>

    static func take(_ store: SimStore, ignoring ignored: Set<String>) async throws -> ClusterSnapshot {
        var requested: [String: [String: Quantity]] = [:]
        var counts: [String: Int] = [:]
        for pod in try await store.list(Pod.resourceType, namespace: nil).items {
            guard let node = pod.value["spec"]?["nodeName"]?.stringValue, !node.isEmpty else { continue }
            let phase = pod.value["status"]?["phase"]?.stringValue
            if phase == "Succeeded" || phase == "Failed" { continue }
            counts[node, default: 0] += 1
            for (resource, amount) in requests(of: pod.value) { requested[node, default: [:]][resource, default: .zero].add(amount) }
        }
        var nodes: [NodeInfo] = []
        for node in try await store.list(Node.resourceType, namespace: nil).items {
            let value = node.value
            let ready = value["status"]?["conditions"]?.arrayValue?.contains { $0["type"] == "Ready" && $0["status"] == "True" } ?? false
            var allocatable: [String: Quantity] = [:]
            for (key, amount) in value["status"]?["allocatable"]?.objectValue ?? [:] {
                if let text = amount.stringValue ?? (amount.intValue.map { String($0) }), let quantity = Quantity(text) { allocatable[key] = quantity }
            }
            nodes.append(NodeInfo(
                name: node.name, json: value, labels: node.labels, ready: ready && !node.isDeleting,
                unschedulable: value["spec"]?["unschedulable"]?.boolValue ?? false, taints: value["spec"]?["taints"]?.arrayValue ?? [],
                allocatable: allocatable, requested: requested[node.name] ?? [:], podCount: counts[node.name] ?? 0))
        }
        var claims: [String: StoredObject] = [:]
        for claim in try await store.list(PersistentVolumeClaim.resourceType, namespace: nil).items { claims[claim.key] = claim }
        var volumes: [String: StoredObject] = [:]
        for volume in try await store.list(PersistentVolume.resourceType, namespace: nil).items { volumes[volume.name] = volume }
        return ClusterSnapshot(nodes: nodes.sorted { $0.name < $1.name }, claims: claims, volumes: volumes, ignored: ignored)
    }

    /// The pod's effective requests: the containers' sum, or the largest init container's if higher.
    static func requests(of pod: JSONValue) -> [String: Quantity] {
        var total: [String: Quantity] = [:]
        for container in pod["spec"]?["containers"]?.arrayValue ?? [] {
            for (resource, amount) in container["resources"]?["requests"]?.objectValue ?? [:] {
                if let quantity = amount.stringValue.flatMap(Quantity.init) ?? amount.intValue.map({ Quantity($0) }) { total[resource, default: .zero].add(quantity) }
            }
        }
        for container in pod["spec"]?["initContainers"]?.arrayValue ?? [] {
            for (resource, amount) in container["resources"]?["requests"]?.objectValue ?? [:] {
                if let quantity = amount.stringValue.flatMap(Quantity.init), quantity > (total[resource] ?? .zero) { total[resource] = quantity }
            }
        }
        return total
    }

    /// Why the pod cannot go to `node`, or nil if it can (as far as the scheduler itself judges).
    func unfit(_ pod: JSONValue, on node: NodeInfo, namespace: String) -> String? {
        let tolerations = pod["spec"]?["tolerations"]?.arrayValue ?? []
        func tolerated(_ taint: JSONValue) -> Bool {
            tolerations.contains { toleration in
                let effect = toleration["effect"]?.stringValue ?? ""
                guard effect.isEmpty || effect == taint["effect"]?.stringValue else { return false }
                if toleration["operator"]?.stringValue == "Exists" {
                    let key = toleration["key"]?.stringValue ?? ""
                    return key.isEmpty || key == taint["key"]?.stringValue
                }
                return toleration["key"]?.stringValue == taint["key"]?.stringValue && (toleration["value"]?.stringValue ?? "") == (taint["value"]?.stringValue ?? "")
            }
        }
        if !node.ready { return "node(s) were not ready" }
        if node.unschedulable && !tolerated(["key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"]) { return "node(s) were unschedulable" }
        for taint in node.taints where ["NoSchedule", "NoExecute"].contains(taint["effect"]?.stringValue ?? "") && !tolerated(taint) {
            return "node(s) had untolerated taint {\(taint["key"]?.stringValue ?? ""): \(taint["value"]?.stringValue ?? "")}"
        }
        for (key, value) in pod["spec"]?["nodeSelector"]?.objectValue ?? [:] where node.labels[key] != value.stringValue {
            return "node(s) didn't match Pod's node affinity/selector"
        }
        let podsCapacity = node.allocatable["pods"].flatMap(\.floorUnits) ?? 110
        if node.podCount + 1 > podsCapacity { return "Too many pods" }
        for (resource, amount) in Self.requests(of: pod) where !ignored.contains(resource) && !amount.isZero {
            let free = (node.allocatable[resource] ?? .zero) - (node.requested[resource] ?? .zero)
            if amount > free { return "Insufficient \(resource)" }
        }
        for volume in pod["spec"]?["volumes"]?.arrayValue ?? [] {
            var claimName = volume["persistentVolumeClaim"]?["claimName"]?.stringValue
            if volume["ephemeral"] != nil, let name = volume["name"]?.stringValue, let podName = pod["metadata"]?["name"]?.stringValue { claimName = PodRules.ephemeralClaimName(pod: podName, volume: name) }
            guard let claimName else { continue }
            guard let claim = claims["\(namespace)/\(claimName)"] else {
                if volume["ephemeral"] != nil { continue }
                return "persistentvolumeclaim \"\(claimName)\" not found"
            }
            if claim.isDeleting { return "persistentvolumeclaim \"\(claimName)\" is being deleted" }
            guard let volumeName = claim.value["spec"]?["volumeName"]?.stringValue, !volumeName.isEmpty else { continue }
            guard let bound = volumes[volumeName] else { return "persistentvolume \"\(volumeName)\" not found" }
            let terms = bound.value["spec"]?["nodeAffinity"]?["required"]?["nodeSelectorTerms"]?.arrayValue ?? []
            if !terms.isEmpty && !terms.contains(where: { term in Self.matches(term, node: node) }) {
                return "node(s) had volume node affinity conflict"
            }
        }
        return nil
    }

    static func matches(_ term: JSONValue, node: NodeInfo) -> Bool {
        guard let term = try? term.decode(as: NodeSelectorTerm.self) else { return false }
        return NodeSelector(nodeSelectorTerms: [term]).matches(labels: node.labels, name: node.name)
    }

    /// kube-scheduler's LeastAllocated score (0…100) over cpu and memory.
    func leastAllocatedScore(_ pod: JSONValue, on node: NodeInfo) -> Int64 {
        let requests = Self.requests(of: pod)
        var total: Int64 = 0
        var counted: Int64 = 0
        for resource in ["cpu", "memory"] {
            guard let capacity = node.allocatable[resource], capacity.nanos > 0 else { continue }
            let used = (node.requested[resource] ?? .zero) + (requests[resource] ?? .zero)
            let free = max(Int128(0), capacity.nanos - used.nanos)
            total += Int64(free * 100 / capacity.nanos)
            counted += 1
        }
        return counted == 0 ? 0 : total / counted
    }
}
