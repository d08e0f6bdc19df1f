import Capacity
import Testing

/// Each driver's StorageClass shapes, and the largest-volume rule CSIStorageCapacity's
/// `maximumVolumeSize` brings.
@Suite("Driver presets and volume-size limits")
struct DriverPresetTests {
    struct Shape: Sendable, CustomTestStringConvertible {
        var preset: DriverPreset
        var provisioner: String
        var parameters: [String: String]
        var group: String?
        var testDescription: String { "\(preset.name): \(provisioner) \(parameters.sorted { $0.key < $1.key })" }
    }

    static let shapes: [Shape] = [
        Shape(preset: .carina, provisioner: "carina.storage.io", parameters: ["carina.storage.io/disk-group-name": "carina-vg-ssd"], group: "carina-vg-ssd"),
        Shape(preset: .carina, provisioner: "carina.storage.io", parameters: ["carina.storage.io/disk-type": "hdd"], group: "carina-vg-hdd"),
        Shape(preset: .carina, provisioner: "carina.storage.io", parameters: [:], group: nil),
        Shape(preset: .carina, provisioner: "topolvm.io", parameters: ["topolvm.io/device-class": "nvme"], group: nil),
        Shape(preset: .topolvm, provisioner: "topolvm.io", parameters: ["topolvm.io/device-class": "nvme"], group: "nvme"),
        Shape(preset: .topolvm, provisioner: "topolvm.cybozu.com", parameters: ["topolvm.cybozu.com/device-class": "hdd"], group: "hdd"),
        // No device class: TopoLVM's default one, annotated as 00default.
        Shape(preset: .topolvm, provisioner: "topolvm.io", parameters: ["csi.storage.k8s.io/fstype": "xfs"], group: "00default"),
        Shape(preset: .topolvm, provisioner: "carina.storage.io", parameters: ["carina.storage.io/disk-type": "hdd"], group: nil),
        // OpenEBS reports per StorageClass: the class is the group, whatever its volgroup.
        Shape(preset: .openebsLVM, provisioner: "local.csi.openebs.io", parameters: ["volgroup": "lvmvg", "storage": "lvm"], group: "fast-lvm"),
        Shape(preset: .openebsLVM, provisioner: "local.csi.openebs.io", parameters: ["vgpattern": "lvmvg.*"], group: "fast-lvm"),
        Shape(preset: .openebsLVM, provisioner: "rancher.io/local-path", parameters: [:], group: nil),
    ]

    @Test("each preset recognises its driver's StorageClasses and no other's", arguments: shapes)
    func storageClasses(_ shape: Shape) {
        #expect(shape.preset.keys.volumeGroup(storageClass: "fast-lvm", provisioner: shape.provisioner, parameters: shape.parameters) == shape.group)
    }

    @Test("TopoLVM with capacity tracking: its classes become their own groups too")
    func topolvmWithCapacityTracking() {
        var keys = DriverPreset.topolvm.keys
        keys.capacitySource = .storageCapacity
        #expect(keys.volumeGroup(storageClass: "topolvm-provisioner", provisioner: "topolvm.io", parameters: ["topolvm.io/device-class": "ssd"]) == "topolvm-provisioner")
        #expect(keys.capacityKey("capacity.topolvm.io/ssd") == nil, "nothing on the Node is read")
    }

    @Test("presets by name; Carina's are Rebound's defaults")
    func named() {
        #expect(DriverPreset.named("openebs-lvm") == .openebsLVM)
        #expect(DriverPreset.named("longhorn") == nil)
        #expect(DriverPreset.carina.keys == CompatibilityKeys())
    }

    @Test("claims added one by one keep their largest; totals read from an annotation count as one volume")
    func largest() throws {
        var requests = VolumeGroupRequests()
        requests.add(group: "lvm", size: "4Gi")
        requests.add(group: "lvm", size: "1500Mi")
        requests.add(group: "other", size: "1Gi")
        #expect(requests["lvm"] == 6)
        #expect(requests.largest(in: "lvm") == 4)
        #expect(requests.largest(in: "none") == 0)
        let read = try VolumeGroupRequests.read(annotationValue: requests.annotationValue)
        #expect(read == requests, "equal totals are the same request")
        #expect(read.largest(in: "lvm") == 6)
        // Provisioned volumes come off the total; the largest left is never above it.
        #expect(requests.subtracting(VolumeGroupRequests(["lvm": 3])).largest(in: "lvm") == 3)
        #expect(requests.subtracting(VolumeGroupRequests(["other": 1])).largest(in: "lvm") == 4)
    }

    @Test("maximumVolumeSize: a node whose group takes smaller volumes is dropped even with room in total")
    func maximumVolumeSize() {
        var requests = VolumeGroupRequests()
        requests.add(group: "lvm", gib: 4)
        requests.add(group: "lvm", gib: 4)
        let rule = PlacementRule(requests: requests)
        let healthy = NodeHealth.healthy
        let roomy = NodeCapacity(freeGiB: ["lvm": 100], maxVolumeGiB: ["lvm": 5])
        #expect(rule.judge(health: healthy, capacity: roomy, committed: nil).fits)
        let small = NodeCapacity(freeGiB: ["lvm": 100], maxVolumeGiB: ["lvm": 3])
        #expect(rule.judge(health: healthy, capacity: small, committed: nil) == .dropped(
            .insufficientCapacity, "volume group lvm takes volumes of at most 3 GiB (maximumVolumeSize), the pod needs one of 4 GiB"))
        // The limit does not lift the total: 8 GiB do not fit in 7.
        let tight = NodeCapacity(freeGiB: ["lvm": 7], maxVolumeGiB: ["lvm": 50])
        #expect(!rule.judge(health: healthy, capacity: tight, committed: nil).fits)
    }
}
