import Capacity
public import Foundation
public import Kube

/// One placed pod's reservation as every replica sees it: the value stored under the pod's uid in
/// the shared ledger's ConfigMap, e.g.
/// `{"pod":"db/mysql-0","node":"worker-2","gib":{"carina-vg-hdd":30},"at":"2026-12-04T10:00:00Z"}`.
///
/// The ConfigMap is Rebound's own, but anyone with write access to its namespace could edit it:
/// reading is bounded and refuses anything malformed (the entry is then ignored and logged).
public struct SharedReservation: Sendable, Hashable {
    /// `namespace/name`.
    public var pod: String
    public var uid: String
    public var node: String
    /// GiB per volume group.
    public var gib: [String: Int64]
    /// When the reservation was made (wall clock: replicas compare it).
    public var reservedAt: Date

    /// Longest value read (a reservation for a pod needing a handful of groups is ~200 bytes).
    static let maximumValueBytes = 4096
    /// Most volume groups one reservation may name.
    static let maximumGroups = 16

    var requests: VolumeGroupRequests { VolumeGroupRequests(gib) }

    /// The ConfigMap value.
    func encoded() -> String {
        var groups = JSONObject()
        for (group, amount) in gib.sorted(by: { $0.key < $1.key }) { groups[group] = .int(amount) }
        let value: JSONValue = [
            "pod": .string(pod), "node": .string(node), "gib": .object(groups),
            "at": .string(KubeTime.format(reservedAt, micro: false)),
        ]
        return String(decoding: value.serialized(), as: UTF8.self)
    }

    /// Reads the value stored under `key`; nil when either is malformed or out of bounds.
    public init?(key uid: String, value: String) {
        guard Self.isValidKey(uid), value.utf8.count <= Self.maximumValueBytes,
            let json = try? JSONValue(parsing: Array(value.utf8)),
            let pod = json["pod"]?.stringValue, let slash = pod.firstIndex(of: "/"), slash != pod.startIndex, pod.index(after: slash) != pod.endIndex,
            pod.utf8.count <= 253 + 64,
            let node = json["node"]?.stringValue, !node.isEmpty, node.utf8.count <= 253,
            let groups = json["gib"]?.objectValue, !groups.isEmpty, groups.count <= Self.maximumGroups,
            let at = json["at"]?.stringValue, let reservedAt = KubeTime.parse(at)
        else { return nil }
        var gib: [String: Int64] = [:]
        for (group, amount) in groups {
            guard !group.isEmpty, group.utf8.count <= 253, let amount = amount.intValue, amount > 0, amount <= VolumeGroupRequests.maximumGiB else { return nil }
            gib[group] = amount
        }
        self.init(pod: pod, uid: uid, node: node, gib: gib, reservedAt: reservedAt)
    }

    init(pod: String, uid: String, node: String, gib: [String: Int64], reservedAt: Date) {
        self.pod = pod
        self.uid = uid
        self.node = node
        self.gib = gib
        self.reservedAt = reservedAt
    }

    /// A ConfigMap key: a pod uid (letters, digits and `-`, at most 64 characters).
    static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= 64 && key.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || $0 == 0x2D }
    }
}

extension SharedReservation {
    /// Every well-formed reservation in the shared ledger's ConfigMap (malformed entries are left out).
    public static func all(in configMap: ConfigMap) -> [SharedReservation] {
        (configMap.data ?? [:]).compactMap { SharedReservation(key: $0.key, value: $0.value) }.sorted { $0.pod < $1.pod }
    }
}
