public import Kube

/// Decides whether a PersistentVolume lives on one node (a local LVM volume: it cannot follow
/// its pod and must be rebuilt) or is network-attached (it follows the pod once detached).
public enum VolumePinning {
    /// Node-affinity keys that name a single node.
    static let nodeKeys: Set<String> = [
        "kubernetes.io/hostname", "topology.carina.storage.io/node", "topology.topolvm.io/node", "topology.topolvm.cybozu.com/node",
        "topology.lvm.csi/node", "openebs.io/nodename", "openebs.io/nodeid",
    ]

    static func namesNode(_ key: String) -> Bool {
        if nodeKeys.contains(key) { return true }
        let last = key.split(separator: "/").last.map(String.init) ?? key
        return last == "node" || last == "hostname" || last == "nodename" || last == "nodeName"
    }

    /// True when `volume` is pinned to the node called `nodeName` (whose labels are `nodeLabels`,
    /// if known): its node affinity selects that node by a node-naming key or by `metadata.name`,
    /// or its CSI attributes name the node.
    public static func isPinned(_ volume: PersistentVolume, to nodeName: String, nodeLabels: [String: String]?) -> Bool {
        let labels = (nodeLabels ?? [:]).merging(["kubernetes.io/hostname": nodeLabels?["kubernetes.io/hostname"] ?? nodeName]) { current, _ in current }
        for term in volume.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [] {
            let expressions = term.matchExpressions ?? []
            let fields = term.matchFields ?? []
            let namesSingleNode = expressions.contains { namesNode($0.key) && $0.operator == "In" } || fields.contains { $0.key == "metadata.name" && $0.operator == "In" }
            guard namesSingleNode else { continue }
            let selected = NodeSelector(nodeSelectorTerms: [term]).matches(labels: labels, name: nodeName)
            if selected { return true }
        }
        if let attributes = volume.spec?.csi?.volumeAttributes {
            for (key, value) in attributes where namesNode(key) && value == nodeName { return true }
        }
        return false
    }
}
