import Capacity
import Foundation
public import Kube

/// A node-local CSI provisioner (Carina's or TopoLVM's behaviour, in miniature): a claim of a
/// local StorageClass with `WaitForFirstConsumer` binding is provisioned on the node its first
/// pod is scheduled to — a PersistentVolume pinned there by node affinity, bound to the claim —
/// and the node's reported free space for the volume group (`status.allocatable`, GiB) drops by
/// the claim's size. Releasing a volume with reclaim policy Delete gives the space back; Retain
/// keeps it (and its data) on the node.
///
/// With a `reportDelay`, the node's report lags as a real node agent's does: the provisioner keeps
/// each volume group's true free space itself (from the first report it sees) and publishes it
/// that long after each change. It never provisions beyond the true free space: a claim that does
/// not fit stays Pending with a Warning Event `ProvisioningFailed`, as external-provisioner records.
public struct LocalVolumeProvisioner: SimController {
    let store: SimStore
    let reportDelay: Duration
    let space = VolumeGroupSpace()
    /// Provisioners handled, and where they take the volume group from.
    let provisioners: Set<String>
    let groupParameters: [String]
    let allocatablePrefix: String
    let legacyGroups: [String: String]

    public init(
        store: SimStore, provisioners: Set<String> = ["carina.storage.io"],
        groupParameters: [String] = ["carina.storage.io/disk-group-name", "carina.storage.io/disk-type"],
        allocatablePrefix: String = "carina.storage.io/", legacyGroups: [String: String] = ["ssd": "carina-vg-ssd", "hdd": "carina-vg-hdd"],
        reportDelay: Duration = .zero
    ) {
        self.store = store
        self.reportDelay = reportDelay
        self.provisioners = provisioners
        self.groupParameters = groupParameters
        self.allocatablePrefix = allocatablePrefix
        self.legacyGroups = legacyGroups
    }

    public var name: String { "local-volume-provisioner" }
    public var watches: [ResourceType] { [PersistentVolumeClaim.resourceType, Pod.resourceType, PersistentVolume.resourceType] }

    public func reconcile() async throws {
        let classes = try await store.list(StorageClass.resourceType, namespace: nil).items
        var local: [String: (group: String, reclaim: String, driver: String)] = [:]
        for storageClass in classes {
            let value = storageClass.value
            guard let provisioner = value["provisioner"]?.stringValue, provisioners.contains(provisioner),
                value["volumeBindingMode"]?.stringValue == "WaitForFirstConsumer"
            else { continue }
            let parameters = value["parameters"]?.objectValue ?? [:]
            guard let raw = groupParameters.lazy.compactMap({ parameters[$0]?.stringValue }).first else { continue }
            local[storageClass.name] = (legacyGroups[raw] ?? raw, value["reclaimPolicy"]?.stringValue ?? "Delete", provisioner)
        }
        try await provision(local)
        try await release(local)
    }

    /// Provisions pending claims whose pod has been scheduled.
    private func provision(_ local: [String: (group: String, reclaim: String, driver: String)]) async throws {
        guard !local.isEmpty else { return }
        let claims = try await store.list(PersistentVolumeClaim.resourceType, namespace: nil).items.filter {
            !$0.isDeleting && ($0.value["spec"]?["volumeName"]?.stringValue ?? "").isEmpty
                && local[$0.value["spec"]?["storageClassName"]?.stringValue ?? ""] != nil
        }
        guard !claims.isEmpty else { return }
        var nodeOfClaim: [String: String] = [:]
        for pod in try await store.list(Pod.resourceType, namespace: nil).items where !pod.isDeleting {
            guard let node = pod.value["spec"]?["nodeName"]?.stringValue, !node.isEmpty else { continue }
            for volume in pod.value["spec"]?["volumes"]?.arrayValue ?? [] {
                if let claim = volume["persistentVolumeClaim"]?["claimName"]?.stringValue { nodeOfClaim["\(pod.namespace)/\(claim)"] = node }
                if volume["ephemeral"] != nil, let name = volume["name"]?.stringValue { nodeOfClaim["\(pod.namespace)/\(PodRules.ephemeralClaimName(pod: pod.name, volume: name))"] = node }
            }
        }
        for claim in claims {
            guard let node = nodeOfClaim[claim.key], let storageClassName = claim.value["spec"]?["storageClassName"]?.stringValue,
                let settings = local[storageClassName]
            else { continue }
            let size = claim.value["spec"]?["resources"]?["requests"]?["storage"]?.stringValue ?? "1Gi"
            let gib = Quantity(size)?.ceiling(binaryPower: 3) ?? 1
            // Like Carina, refuse rather than overcommit the volume group.
            let free = try await freeGiB(node: node, group: settings.group)
            guard free >= gib else {
                await refuse(claim, "volume group \(settings.group) on \(node) has \(free) GiB free; the claim needs \(gib) GiB")
                continue
            }
            let volumeName = "pvc-\(claim.uid)"
            let volume: JSONValue = [
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": ["name": .string(volumeName), "annotations": ["pv.kubernetes.io/provisioned-by": .string(settings.driver)]],
                "spec": [
                    "capacity": ["storage": .string("\(gib)Gi")], "accessModes": claim.value["spec"]?["accessModes"] ?? ["ReadWriteOnce"],
                    "persistentVolumeReclaimPolicy": .string(settings.reclaim), "storageClassName": .string(storageClassName), "volumeMode": "Filesystem",
                    "claimRef": ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": .string(claim.namespace), "name": .string(claim.name), "uid": .string(claim.uid)],
                    "csi": ["driver": .string(settings.driver), "volumeHandle": .string("\(settings.group)/\(volumeName)"), "fsType": "xfs",
                            "volumeAttributes": ["carina.storage.io/disk-group-name": .string(settings.group), "carina.storage.io/node": .string(node)]],
                    "nodeAffinity": ["required": ["nodeSelectorTerms": [["matchExpressions": [["key": "kubernetes.io/hostname", "operator": "In", "values": [.string(node)]]]]]]],
                ],
                "status": ["phase": "Bound"],
            ]
            _ = try await store.create(PersistentVolume.resourceType, namespace: nil, object: volume)
            var bound = claim.value
            bound["spec"]?["volumeName"] = .string(volumeName)
            bound["metadata"]?["annotations"] = .object((claim.value["metadata"]?["annotations"]?.objectValue ?? [:]).merging([
                "pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes", "volume.kubernetes.io/selected-node": .string(node),
                "volume.kubernetes.io/storage-provisioner": .string(settings.driver),
            ]) { _, new in new })
            bound["metadata"]?["resourceVersion"] = nil
            _ = try await store.update(PersistentVolumeClaim.resourceType, namespace: claim.namespace, name: claim.name, object: bound)
            _ = try await store.patch(PersistentVolumeClaim.resourceType, namespace: claim.namespace, name: claim.name, patchType: .merge,
                                      patch: ["status": ["phase": "Bound", "accessModes": claim.value["spec"]?["accessModes"] ?? ["ReadWriteOnce"], "capacity": ["storage": .string("\(gib)Gi")]]],
                                      subresource: "status")
            try await adjustCapacity(node: node, group: settings.group, by: -gib)
        }
    }

    /// Volumes whose claim is gone: Delete frees them (and the space), Retain marks them Released.
    private func release(_ local: [String: (group: String, reclaim: String, driver: String)]) async throws {
        var liveClaims: [String: String] = [:]
        for claim in try await store.list(PersistentVolumeClaim.resourceType, namespace: nil).items { liveClaims[claim.key] = claim.uid }
        for volume in try await store.list(PersistentVolume.resourceType, namespace: nil).items {
            guard let reference = volume.value["spec"]?["claimRef"], let uid = reference["uid"]?.stringValue,
                let namespace = reference["namespace"]?.stringValue, let claimName = reference["name"]?.stringValue,
                liveClaims["\(namespace)/\(claimName)"] != uid
            else { continue }
            let policy = volume.value["spec"]?["persistentVolumeReclaimPolicy"]?.stringValue ?? "Delete"
            if policy == "Delete" {
                _ = try? await store.delete(PersistentVolume.resourceType, namespace: nil, name: volume.name)
                if let group = volume.value["spec"]?["csi"]?["volumeAttributes"]?["carina.storage.io/disk-group-name"]?.stringValue,
                    let node = volume.value["spec"]?["csi"]?["volumeAttributes"]?["carina.storage.io/node"]?.stringValue,
                    let gib = Quantity(volume.value["spec"]?["capacity"]?["storage"]?.stringValue ?? "")?.ceiling(binaryPower: 3)
                {
                    try await adjustCapacity(node: node, group: group, by: gib)
                }
            } else if volume.value["status"]?["phase"]?.stringValue != "Released" {
                _ = try? await store.patch(PersistentVolume.resourceType, namespace: nil, name: volume.name, patchType: .merge,
                                           patch: ["status": ["phase": "Released"]], subresource: "status")
            }
        }
    }

    /// The group's free space: as reported, or, with a report delay, as it truly is.
    private func freeGiB(node: String, group: String) async throws -> Int64 {
        let reported = try await reportedGiB(node: node, group: group)
        guard reportDelay > .zero else { return reported ?? 0 }
        return await space.free(node: node, group: group, reported: reported ?? 0)
    }

    private func reportedGiB(node: String, group: String) async throws -> Int64? {
        guard let current = try? await store.get(Node.resourceType, namespace: nil, name: node) else { return nil }
        return Int64(current.value["status"]?["allocatable"]?[allocatablePrefix + group]?.stringValue ?? "")
    }

    /// Records a ProvisioningFailed event on the claim (once per claim and reason).
    private func refuse(_ claim: StoredObject, _ message: String) async {
        let name = "\(claim.name).provisioning-failed"
        guard (try? await store.get(Event.resourceType, namespace: claim.namespace, name: name)) == nil else { return }
        let now = JSONValue.string(KubeTime.format(Date(), micro: false))
        _ = try? await store.create(Event.resourceType, namespace: claim.namespace, object: [
            "metadata": ["name": .string(name), "namespace": .string(claim.namespace)],
            "involvedObject": ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": .string(claim.namespace), "name": .string(claim.name), "uid": .string(claim.uid)],
            "reason": "ProvisioningFailed", "message": .string(message), "type": "Warning", "source": ["component": "carina.storage.io"],
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        ])
    }

    /// Changes the group's free space by `gib`: in the node's report at once, or, with a report
    /// delay, in the true free space now and in the report `reportDelay` later.
    private func adjustCapacity(node: String, group: String, by gib: Int64) async throws {
        guard reportDelay > .zero else {
            guard let free = try await reportedGiB(node: node, group: group) else { return }
            return try await publish(node: node, group: group, free: max(0, free + gib))
        }
        let reported = try await reportedGiB(node: node, group: group) ?? 0
        await space.adjust(node: node, group: group, by: gib, reported: reported)
        Task { [self] in
            try? await Task.sleep(for: reportDelay)
            // The agent reports what the group holds when it looks, not what it held then.
            let free = await space.free(node: node, group: group, reported: 0)
            try? await publish(node: node, group: group, free: free)
        }
    }

    /// Writes the group's free space into the node's status, as the driver's node agent does.
    private func publish(node: String, group: String, free: Int64) async throws {
        guard (try? await store.get(Node.resourceType, namespace: nil, name: node)) != nil else { return }
        let resource = allocatablePrefix + group
        let updated = String(max(0, free))
        _ = try await store.patch(Node.resourceType, namespace: nil, name: node, patchType: .merge,
                                  patch: ["status": ["allocatable": [.init(stringLiteral: resource): .string(updated)], "capacity": [.init(stringLiteral: resource): .string(updated)]]],
                                  subresource: "status")
    }
}

/// The true free space of volume groups whose reports lag (``LocalVolumeProvisioner``'s report delay).
actor VolumeGroupSpace {
    private var free: [String: [String: Int64]] = [:]

    /// The group's true free space; first learned from its report.
    func free(node: String, group: String, reported: Int64) -> Int64 {
        if let known = free[node]?[group] { return known }
        free[node, default: [:]][group] = reported
        return reported
    }

    func adjust(node: String, group: String, by gib: Int64, reported: Int64) {
        let current = free(node: node, group: group, reported: reported)
        free[node, default: [:]][group] = max(0, current.saturatingAdd(gib))
    }
}
