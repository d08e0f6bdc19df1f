import Capacity
public import Kube

/// Decides whether a PersistentVolume lives on one node (a local LVM volume: it cannot follow
/// its pod and must be rebuilt) or can be reached from elsewhere (a network volume, or a local
/// one whose affinity admits several nodes: it follows the pod once detached, and is never
/// rebuilt empty).
public enum VolumePinning {
    /// Node-affinity keys that name a single node: the hostname, each known driver's topology key
    /// (``DriverPreset``) and older or related drivers' keys.
    static let nodeKeys: Set<String> = Set(DriverPreset.all.map(\.topologyKey)).union([
        "kubernetes.io/hostname", "topology.topolvm.cybozu.com/node", "topology.lvm.csi/node",
    ])

    static func namesNode(_ key: String) -> Bool {
        if nodeKeys.contains(key) { return true }
        let last = key.split(separator: "/").last.map(String.init) ?? key
        return last == "node" || last == "hostname" || last == "nodename" || last == "nodeName"
    }

    /// True when `volume` is pinned to the node called `nodeName` (whose labels are `nodeLabels`,
    /// if known): its node affinity admits exactly one node, and that is this one — every term
    /// names a single node (a one-value `In` on a node-naming key or on `metadata.name`) and
    /// selects this node. A volume without node affinity is pinned when its CSI attributes name
    /// the node. Anything looser (`In [n2, n3]`, a zone, a term without a node name) can be
    /// reached from another node, so it is not pinned.
    public static func isPinned(_ volume: PersistentVolume, to nodeName: String, nodeLabels: [String: String]?) -> Bool {
        let labels = (nodeLabels ?? [:]).merging(["kubernetes.io/hostname": nodeLabels?["kubernetes.io/hostname"] ?? nodeName]) { current, _ in current }
        let terms = volume.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []
        if !terms.isEmpty {
            for term in terms {
                guard namesSingleNode(term), NodeSelector(nodeSelectorTerms: [term]).matches(labels: labels, name: nodeName) else { return false }
            }
            return true
        }
        if let attributes = volume.spec?.csi?.volumeAttributes {
            for (key, value) in attributes where namesNode(key) && value == nodeName { return true }
        }
        return false
    }

    /// Whether a node-selector term can select one node only.
    static func namesSingleNode(_ term: NodeSelectorTerm) -> Bool {
        let expressions = term.matchExpressions ?? []
        let fields = term.matchFields ?? []
        if expressions.isEmpty && fields.isEmpty { return false }
        return expressions.contains { namesNode($0.key) && $0.operator == "In" && ($0.values ?? []).count == 1 }
            || fields.contains { $0.key == "metadata.name" && $0.operator == "In" && ($0.values ?? []).count == 1 }
    }
}
