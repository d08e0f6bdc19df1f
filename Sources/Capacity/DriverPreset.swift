/// A node-local CSI driver Rebound knows, and the keys its StorageClasses, volumes and nodes
/// carry: an operator names the driver (`compat.preset`) instead of setting each key. Where each
/// fact comes from is in docs/drivers.md.
public struct DriverPreset: Sendable, Hashable {
    /// The preset's name in the configuration.
    public var name: String
    /// The driver's CSI name, which its StorageClasses name as `provisioner` (current name first).
    public var provisioners: [String]
    /// StorageClass parameters naming the volume group (device class), tried in order.
    public var volumeGroupParameters: [String]
    /// Old short group names and the groups they mean.
    public var legacyVolumeGroups: [String: String]
    /// The group of a class that names none; empty: none.
    public var defaultVolumeGroup: String
    /// Where the driver reports free space by default.
    public var capacitySource: CompatibilityKeys.CapacitySource
    /// The node label the driver's CSI topology uses; its volumes' node affinity names it.
    public var topologyKey: String

    /// Carina (`carina.storage.io`): free GiB per volume group in the node's allocatable
    /// resources. Rebound's defaults.
    public static let carina = DriverPreset(
        name: "carina", provisioners: ["carina.storage.io"],
        volumeGroupParameters: ["carina.storage.io/disk-group-name", "carina.storage.io/disk-type"],
        legacyVolumeGroups: ["ssd": "carina-vg-ssd", "hdd": "carina-vg-hdd"], defaultVolumeGroup: "",
        capacitySource: .allocatable(prefix: "carina.storage.io/"), topologyKey: "topology.carina.storage.io/node")

    /// TopoLVM (`topolvm.io`, formerly `topolvm.cybozu.com`): free bytes per device class in the
    /// node annotations `capacity.topolvm.io/<device-class>`; a class without the device-class
    /// parameter uses the default device class, annotated as `00default`. With storage capacity
    /// tracking on, it publishes CSIStorageCapacity objects too (`capacity.source: csistoragecapacity`).
    public static let topolvm = DriverPreset(
        name: "topolvm", provisioners: ["topolvm.io", "topolvm.cybozu.com"],
        volumeGroupParameters: ["topolvm.io/device-class", "topolvm.cybozu.com/device-class"],
        legacyVolumeGroups: [:], defaultVolumeGroup: "00default",
        capacitySource: .annotation(prefix: "capacity.topolvm.io/"), topologyKey: "topology.topolvm.io/node")

    /// OpenEBS LVM LocalPV (`local.csi.openebs.io`): no capacity on the Node; it publishes
    /// CSIStorageCapacity objects per StorageClass, selecting nodes by `openebs.io/nodename`.
    public static let openebsLVM = DriverPreset(
        name: "openebs-lvm", provisioners: ["local.csi.openebs.io"],
        volumeGroupParameters: ["volgroup", "vgpattern"], legacyVolumeGroups: [:], defaultVolumeGroup: "",
        capacitySource: .storageCapacity, topologyKey: "openebs.io/nodename")

    /// Every preset, Carina's first.
    public static let all: [DriverPreset] = [.carina, .topolvm, .openebsLVM]

    /// The preset called `name`, nil when there is none.
    public static func named(_ name: String) -> DriverPreset? { all.first { $0.name == name } }

    /// The compatibility keys the preset sets (the opt-in annotation and label, the routing
    /// resource and the requests annotation are Rebound's and stay as they are).
    public var keys: CompatibilityKeys {
        var keys = CompatibilityKeys()
        keys.provisioners = Set(provisioners)
        keys.volumeGroupParameters = volumeGroupParameters
        keys.legacyVolumeGroups = legacyVolumeGroups
        keys.defaultVolumeGroup = defaultVolumeGroup.isEmpty ? nil : defaultVolumeGroup
        keys.capacitySource = capacitySource
        return keys
    }
}
