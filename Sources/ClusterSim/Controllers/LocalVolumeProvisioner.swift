public import Capacity
import Foundation
public import Kube

/// A node-local CSI provisioner (Carina's, TopoLVM's or OpenEBS LVM LocalPV's behaviour, in
/// miniature, per ``DriverPreset``): a claim of a local StorageClass with `WaitForFirstConsumer`
/// binding is provisioned on the node its first pod is scheduled to — a PersistentVolume pinned
/// there by node affinity on the driver's topology key, bound to the claim — and the free space
/// the driver reports for the volume group drops by the claim's size. Releasing a volume with
/// reclaim policy Delete gives the space back; Retain keeps it (and its data) on the node.
///
/// Where the space is reported follows the driver: Carina's node allocatable resources (GiB),
/// TopoLVM's node annotations (bytes) and CSIStorageCapacity objects (TopoLVM with capacity
/// tracking, OpenEBS LVM LocalPV), one per local StorageClass and node. The first report the
/// driver writes is the one read back.
///
/// With a `reportDelay`, the node's report lags as a real node agent's does: the provisioner keeps
/// each volume group's true free space itself (from the first report it sees) and publishes it
/// that long after each change. It never provisions beyond the true free space: a claim that does
/// not fit stays Pending with a Warning Event `ProvisioningFailed`, as external-provisioner records.
public struct LocalVolumeProvisioner: SimController {
    let store: SimStore
    let reportDelay: Duration
    let space = VolumeGroupSpace()
    let driver: DriverPreset
    let reports: [DriverReport]

    public init(store: SimStore, driver: DriverPreset = .carina, reportDelay: Duration = .zero) {
        self.store = store
        self.reportDelay = reportDelay
        self.driver = driver
        self.reports = DriverReport.published(by: driver)
    }

    public var name: String { "local-volume-provisioner" }
    public var watches: [ResourceType] { [PersistentVolumeClaim.resourceType, Pod.resourceType, PersistentVolume.resourceType] }

    public func reconcile() async throws {
        let classes = try await store.list(StorageClass.resourceType, namespace: nil).items
        let local = Self.localClasses(classes, driver: driver)
        try await provision(local)
        try await release(local)
    }

    /// A StorageClass of the driver: the volume group it provisions from.
    struct LocalClass {
        var group: String
        var reclaim: String
        var driver: String
    }

    /// The driver's `WaitForFirstConsumer` classes, by name.
    static func localClasses(_ classes: [StoredObject], driver: DriverPreset) -> [String: LocalClass] {
        var local: [String: LocalClass] = [:]
        for storageClass in classes {
            let value = storageClass.value
            guard let provisioner = value["provisioner"]?.stringValue, driver.provisioners.contains(provisioner),
                value["volumeBindingMode"]?.stringValue == "WaitForFirstConsumer"
            else { continue }
            let parameters = value["parameters"]?.objectValue ?? [:]
            let named = driver.volumeGroupParameters.lazy.compactMap({ parameters[$0]?.stringValue }).first
            guard let raw = named ?? (driver.defaultVolumeGroup.isEmpty ? nil : driver.defaultVolumeGroup) else { continue }
            local[storageClass.name] = LocalClass(group: driver.legacyVolumeGroups[raw] ?? raw, reclaim: value["reclaimPolicy"]?.stringValue ?? "Delete", driver: provisioner)
        }
        return local
    }

    /// The label the volumes' node affinity names: the driver's topology key; the node's
    /// hostname for Carina, whose seed-story nodes carry no topology label.
    var affinityKey: String { driver == .carina ? "kubernetes.io/hostname" : driver.topologyKey }

    /// Provisions pending claims whose pod has been scheduled.
    private func provision(_ local: [String: LocalClass]) async throws {
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
            let free = try await freeGiB(node: node, group: settings.group, local: local)
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
                            "volumeAttributes": volumeAttributes(group: settings.group, node: node)],
                    "nodeAffinity": ["required": ["nodeSelectorTerms": [["matchExpressions": [["key": .string(affinityKey), "operator": "In", "values": [.string(node)]]]]]]],
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
            try await adjustCapacity(node: node, group: settings.group, by: -gib, local: local)
        }
    }

    /// Free GiB per node and volume group, as the driver reports it (its first report).
    public func reportedFree() async throws -> [String: [String: Int64]] {
        guard let report = reports.first else { return [:] }
        let local = Self.localClasses(try await store.list(StorageClass.resourceType, namespace: nil).items, driver: driver)
        return try await report.readAll(store: store, driver: driver, groupOf: local.mapValues(\.group))
    }

    /// GiB of the driver's volumes per node and volume group.
    public func provisioned() async throws -> [String: [String: Int64]] {
        var used: [String: [String: Int64]] = [:]
        for volume in try await store.list(PersistentVolume.resourceType, namespace: nil).items {
            guard let placed = placement(of: volume),
                let gib = Quantity(volume.value["spec"]?["capacity"]?["storage"]?.stringValue ?? "")?.ceiling(binaryPower: 3)
            else { continue }
            used[placed.node, default: [:]][placed.group] = (used[placed.node]?[placed.group] ?? 0).saturatingAdd(gib)
        }
        return used
    }

    /// The node and volume group of one of the driver's volumes: the group from its handle
    /// (`group/name`), the node from its node affinity.
    func placement(of volume: StoredObject) -> (node: String, group: String)? {
        guard let driverName = volume.value["spec"]?["csi"]?["driver"]?.stringValue, driver.provisioners.contains(driverName) else { return nil }
        let handle = volume.value["spec"]?["csi"]?["volumeHandle"]?.stringValue ?? ""
        let term = volume.value["spec"]?["nodeAffinity"]?["required"]?["nodeSelectorTerms"]?[0]?["matchExpressions"]?[0]
        guard let slash = handle.firstIndex(of: "/"), term?["key"]?.stringValue == affinityKey, let node = term?["values"]?[0]?.stringValue else { return nil }
        return (node, String(handle[..<slash]))
    }

    /// Carina records the group and node in the volume's attributes; TopoLVM and OpenEBS only the
    /// provisioner's identity (the node is in the affinity, the group in the handle here).
    private func volumeAttributes(group: String, node: String) -> JSONValue {
        guard driver == .carina else { return ["storage.kubernetes.io/csiProvisionerIdentity": .string("sim-\(driver.name)")] }
        return ["carina.storage.io/disk-group-name": .string(group), "carina.storage.io/node": .string(node)]
    }

    /// Volumes whose claim is gone: Delete frees them (and the space), Retain marks them Released.
    private func release(_ local: [String: LocalClass]) async throws {
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
                if let placed = placement(of: volume), let gib = Quantity(volume.value["spec"]?["capacity"]?["storage"]?.stringValue ?? "")?.ceiling(binaryPower: 3) {
                    try await adjustCapacity(node: placed.node, group: placed.group, by: gib, local: local)
                }
            } else if volume.value["status"]?["phase"]?.stringValue != "Released" {
                _ = try? await store.patch(PersistentVolume.resourceType, namespace: nil, name: volume.name, patchType: .merge,
                                           patch: ["status": ["phase": "Released"]], subresource: "status")
            }
        }
    }

    /// The group's free space: as reported, or, with a report delay, as it truly is.
    private func freeGiB(node: String, group: String, local: [String: LocalClass]) async throws -> Int64 {
        let reported = try await reportedGiB(node: node, group: group, local: local)
        guard reportDelay > .zero else { return reported ?? 0 }
        return await space.free(node: node, group: group, reported: reported ?? 0)
    }

    private func reportedGiB(node: String, group: String, local: [String: LocalClass]) async throws -> Int64? {
        guard let report = reports.first else { return nil }
        return await report.read(node: node, group: group, classes: local.filter { $0.value.group == group }.map(\.key), store: store, driver: driver)
    }

    /// Records a ProvisioningFailed event on the claim (once per claim and reason).
    private func refuse(_ claim: StoredObject, _ message: String) async {
        let name = "\(claim.name).provisioning-failed"
        guard (try? await store.get(Event.resourceType, namespace: claim.namespace, name: name)) == nil else { return }
        let now = JSONValue.string(KubeTime.format(Date(), micro: false))
        _ = try? await store.create(Event.resourceType, namespace: claim.namespace, object: [
            "metadata": ["name": .string(name), "namespace": .string(claim.namespace)],
            "involvedObject": ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": .string(claim.namespace), "name": .string(claim.name), "uid": .string(claim.uid)],
            "reason": "ProvisioningFailed", "message": .string(message), "type": "Warning", "source": ["component": .string(driver.provisioners[0])],
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        ])
    }

    /// Changes the group's free space by `gib`: in the node's report at once, or, with a report
    /// delay, in the true free space now and in the report `reportDelay` later.
    private func adjustCapacity(node: String, group: String, by gib: Int64, local: [String: LocalClass]) async throws {
        let classes = local.filter { $0.value.group == group }.map(\.key).sorted()
        guard reportDelay > .zero else {
            guard let free = try await reportedGiB(node: node, group: group, local: local) else { return }
            return try await publish(node: node, group: group, free: max(0, free + gib), classes: classes)
        }
        let reported = try await reportedGiB(node: node, group: group, local: local) ?? 0
        await space.adjust(node: node, group: group, by: gib, reported: reported)
        Task { [self] in
            try? await Task.sleep(for: reportDelay)
            // The agent reports what the group holds when it looks, not what it held then.
            let free = await space.free(node: node, group: group, reported: 0)
            try? await publish(node: node, group: group, free: free, classes: classes)
        }
    }

    /// Writes the group's free space everywhere the driver reports it.
    private func publish(node: String, group: String, free: Int64, classes: [String]) async throws {
        for report in reports { try await report.write(node: node, group: group, freeGiB: max(0, free), classes: classes, store: store, driver: driver) }
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
