import Foundation
import Kube

/// Kubelet heartbeats and kube-controller-manager's node lifecycle controller, for simulated
/// nodes: every live kubelet renews its Lease in `kube-node-lease`; a node whose lease has not
/// been renewed for `gracePeriod` gets `Ready=Unknown` ("Kubelet stopped posting node status.")
/// and the `node.kubernetes.io/unreachable` NoSchedule and NoExecute taints, exactly what a real
/// cluster shows when a node dies. A kubelet that comes back makes its node Ready again.
///
/// ``fail(_:)`` stops a node's kubelet (the seed story's "stop the kubelet on dev1-node-2").
public actor NodeLifecycle {
    public let heartbeatInterval: Duration
    public let gracePeriod: Duration
    let store: SimStore
    private var dead: Set<String>
    private var lastBeat: [String: Date] = [:]
    /// When each node was first seen: like kube-controller-manager's probe timestamp, the grace
    /// period of a node whose kubelet never renewed its Lease runs from here.
    private var firstSeen: [String: Date] = [:]

    /// - Parameter dead: nodes whose kubelet is not running from the start (default: those not Ready).
    public init(store: SimStore, heartbeatInterval: Duration = .seconds(10), gracePeriod: Duration = .seconds(40), dead: Set<String>? = nil) async {
        self.store = store
        self.heartbeatInterval = heartbeatInterval
        self.gracePeriod = gracePeriod
        if let dead {
            self.dead = dead
        } else {
            var notReady: Set<String> = []
            for node in (try? await store.list(Node.resourceType, namespace: nil).items) ?? [] where !Self.isReady(node.value) { notReady.insert(node.name) }
            self.dead = notReady
        }
    }

    /// Stops the node's kubelet: no more heartbeats.
    public func fail(_ node: String) { dead.insert(node) }

    /// Starts the node's kubelet again.
    public func recover(_ node: String) { dead.remove(node) }

    public func isAlive(_ node: String) -> Bool { !dead.contains(node) }

    /// Heartbeats and monitors until cancelled.
    public func run() async {
        let tick = min(heartbeatInterval, gracePeriod / 4)
        while !Task.isCancelled {
            await step()
            try? await Task.sleep(for: tick)
        }
    }

    /// One round: live kubelets beat if due, then every node's health is judged.
    public func step() async {
        let now = Date()
        guard let nodes = try? await store.list(Node.resourceType, namespace: nil).items else { return }
        for node in nodes {
            let name = node.name
            if firstSeen[name] == nil { firstSeen[name] = now }
            if !dead.contains(name) {
                if let last = lastBeat[name], now.timeIntervalSince(last) < heartbeatInterval.seconds { continue }
                lastBeat[name] = now
                await renewLease(name, at: now)
            }
        }
        for node in nodes { await judge(node, now: now) }
    }

    private func renewLease(_ node: String, at now: Date) async {
        let renew = JSONValue.string(KubeTime.format(now, micro: true))
        if (try? await store.patch(Lease.resourceType, namespace: "kube-node-lease", name: node, patchType: .merge, patch: ["spec": ["renewTime": renew]])) == nil {
            _ = try? await store.create(Lease.resourceType, namespace: "kube-node-lease", object: [
                "metadata": ["name": .string(node), "namespace": "kube-node-lease"],
                "spec": ["holderIdentity": .string(node), "leaseDurationSeconds": .int(Int(gracePeriod.seconds)), "renewTime": renew],
            ])
        }
    }

    private func judge(_ node: StoredObject, now: Date) async {
        let renewed = ((try? await store.get(Lease.resourceType, namespace: "kube-node-lease", name: node.name))?.value["spec"]?["renewTime"]?.stringValue)
            .flatMap(KubeTime.parse)
        let fresh = renewed.map { now.timeIntervalSince($0) <= gracePeriod.seconds } ?? false
        // No heartbeat ever: the grace period runs from when the node was first seen.
        let waiting = renewed == nil && (firstSeen[node.name].map { now.timeIntervalSince($0) <= gracePeriod.seconds } ?? true)
        let ready = Self.isReady(node.value)
        let tainted = (node.value["spec"]?["taints"]?.arrayValue ?? []).contains { $0["key"] == "node.kubernetes.io/unreachable" }
        if fresh {
            if !ready || tainted {
                await setReady(node, status: "True", reason: "KubeletReady", message: "kubelet is posting ready status", taint: false, now: now)
            }
        } else if !waiting && (ready || !tainted) {
            await setReady(node, status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status.", taint: true, now: now)
        }
    }

    private func setReady(_ node: StoredObject, status: String, reason: String, message: String, taint: Bool, now: Date) async {
        var conditions = (node.value["status"]?["conditions"]?.arrayValue ?? []).filter { $0["type"]?.stringValue != "Ready" }
        let previous = node.value["status"]?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == "Ready" }
        let changed = previous?["status"]?.stringValue != status
        conditions.append([
            "type": "Ready", "status": .string(status), "reason": .string(reason), "message": .string(message),
            "lastHeartbeatTime": .string(KubeTime.format(now, micro: false)),
            "lastTransitionTime": changed ? .string(KubeTime.format(now, micro: false)) : (previous?["lastTransitionTime"] ?? .string(KubeTime.format(now, micro: false))),
        ])
        _ = try? await store.patch(Node.resourceType, namespace: nil, name: node.name, patchType: .merge, patch: ["status": ["conditions": .array(conditions)]], subresource: "status")
        var taints = (node.value["spec"]?["taints"]?.arrayValue ?? []).filter { $0["key"]?.stringValue != "node.kubernetes.io/unreachable" }
        if taint {
            let added = JSONValue.string(KubeTime.format(now, micro: false))
            taints.append(["key": "node.kubernetes.io/unreachable", "effect": "NoSchedule", "timeAdded": added])
            taints.append(["key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": added])
        }
        _ = try? await store.patch(Node.resourceType, namespace: nil, name: node.name, patchType: .merge, patch: ["spec": ["taints": taints.isEmpty ? .null : .array(taints)]])
    }

    static func isReady(_ node: JSONValue) -> Bool {
        node["status"]?["conditions"]?.arrayValue?.contains { $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True" } ?? false
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
