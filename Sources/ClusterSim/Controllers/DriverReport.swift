import Capacity
import Kube

/// One place a simulated node-local driver reports a volume group's free space, as the real
/// driver does (see ``DriverPreset``).
enum DriverReport: Sendable, Hashable {
    /// `status.allocatable["<prefix><group>"]`, in GiB (Carina).
    case allocatable(prefix: String)
    /// `metadata.annotations["<prefix><group>"]`, in bytes (TopoLVM's node agent).
    case annotation(prefix: String)
    /// One CSIStorageCapacity object per local StorageClass and node (the external-provisioner
    /// with storage capacity tracking), in the driver's namespace.
    case storageCapacity

    /// Where a driver reports, the report read back first. TopoLVM annotates its nodes and, with
    /// capacity tracking (on in its Helm chart), publishes CSIStorageCapacity objects too.
    static func published(by driver: DriverPreset) -> [DriverReport] {
        switch driver.capacitySource {
        case .allocatable(let prefix): [.allocatable(prefix: prefix)]
        case .annotation(let prefix): [.annotation(prefix: prefix), .storageCapacity]
        case .storageCapacity: [.storageCapacity]
        }
    }

    /// The namespace the driver's controller, and so its CSIStorageCapacity objects, live in.
    static func namespace(of driver: DriverPreset) -> String {
        switch driver.name {
        case DriverPreset.topolvm.name: "topolvm-system"
        case DriverPreset.openebsLVM.name: "openebs"
        default: "kube-system"
        }
    }

    /// The name the simulated external-provisioner gives the object of one class on one node.
    static func objectName(storageClass: String, node: String) -> String { "csisc-\(storageClass)-\(node)" }

    /// The group's free GiB on the node as reported, nil when not reported. `classes` are the
    /// local StorageClasses of the group.
    func read(node: String, group: String, classes: [String], store: SimStore, driver: DriverPreset) async -> Int64? {
        switch self {
        case .allocatable(let prefix):
            let object = try? await store.get(Node.resourceType, namespace: nil, name: node)
            return object?.value["status"]?["allocatable"]?[prefix + group]?.stringValue.flatMap { NodeCapacity.gibibytes($0, unit: .gibibytes) }
        case .annotation(let prefix):
            let object = try? await store.get(Node.resourceType, namespace: nil, name: node)
            return object?.value["metadata"]?["annotations"]?[prefix + group]?.stringValue.flatMap { NodeCapacity.gibibytes($0, unit: .bytes) }
        case .storageCapacity:
            let objects = (try? await store.list(CSIStorageCapacity.resourceType, namespace: Self.namespace(of: driver)).items) ?? []
            for object in objects {
                guard let storageClass = object.value["storageClassName"]?.stringValue, classes.contains(storageClass),
                    object.value["nodeTopology"]?["matchLabels"]?[driver.topologyKey]?.stringValue == node,
                    let free = object.value["capacity"]?.stringValue.flatMap({ NodeCapacity.gibibytes($0, unit: .bytes) })
                else { continue }
                return free
            }
            return nil
        }
    }

    /// Every group's free GiB on every node, as reported. `groupOf` maps a local StorageClass to its group.
    func readAll(store: SimStore, driver: DriverPreset, groupOf: [String: String]) async throws -> [String: [String: Int64]] {
        var result: [String: [String: Int64]] = [:]
        switch self {
        case .allocatable(let prefix), .annotation(let prefix):
            let inAllocatable = if case .allocatable = self { true } else { false }
            for node in try await store.list(Node.resourceType, namespace: nil).items {
                let entries = inAllocatable ? node.value["status"]?["allocatable"]?.objectValue : node.value["metadata"]?["annotations"]?.objectValue
                for (key, value) in entries ?? [:] where key.hasPrefix(prefix) {
                    result[node.name, default: [:]][String(key.dropFirst(prefix.count))] =
                        value.stringValue.flatMap { NodeCapacity.gibibytes($0, unit: inAllocatable ? .gibibytes : .bytes) } ?? 0
                }
            }
        case .storageCapacity:
            for object in try await store.list(CSIStorageCapacity.resourceType, namespace: Self.namespace(of: driver)).items {
                guard let group = object.value["storageClassName"]?.stringValue.flatMap({ groupOf[$0] }),
                    let node = object.value["nodeTopology"]?["matchLabels"]?[driver.topologyKey]?.stringValue,
                    let free = object.value["capacity"]?.stringValue.flatMap({ NodeCapacity.gibibytes($0, unit: .bytes) })
                else { continue }
                result[node, default: [:]][group] = free
            }
        }
        return result
    }

    /// Writes the group's free GiB on the node.
    func write(node: String, group: String, freeGiB: Int64, classes: [String], store: SimStore, driver: DriverPreset) async throws {
        switch self {
        case .allocatable(let prefix):
            guard (try? await store.get(Node.resourceType, namespace: nil, name: node)) != nil else { return }
            let resource = prefix + group
            _ = try await store.patch(Node.resourceType, namespace: nil, name: node, patchType: .merge,
                                      patch: ["status": ["allocatable": [resource: .string(String(freeGiB))], "capacity": [resource: .string(String(freeGiB))]]],
                                      subresource: "status")
        case .annotation(let prefix):
            guard (try? await store.get(Node.resourceType, namespace: nil, name: node)) != nil else { return }
            let bytes = freeGiB.multipliedReportingOverflow(by: 1 << 30)
            _ = try await store.patch(Node.resourceType, namespace: nil, name: node, patchType: .merge,
                                      patch: ["metadata": ["annotations": [prefix + group: .string(String(bytes.overflow ? Int64.max : bytes.partialValue))]]])
        case .storageCapacity:
            let namespace = Self.namespace(of: driver)
            for storageClass in classes {
                let name = Self.objectName(storageClass: storageClass, node: node)
                if (try? await store.get(CSIStorageCapacity.resourceType, namespace: namespace, name: name)) != nil {
                    _ = try await store.patch(CSIStorageCapacity.resourceType, namespace: namespace, name: name, patchType: .merge, patch: ["capacity": .string("\(freeGiB)Gi")])
                } else {
                    _ = try await store.create(CSIStorageCapacity.resourceType, namespace: namespace, object: Self.object(
                        storageClass: storageClass, node: node, freeGiB: freeGiB, driver: driver))
                }
            }
        }
    }

    /// The labels a node's segment is selected by: the driver's topology keys. OpenEBS's Helm
    /// chart adds the hostname to them (`allowedTopologies`).
    static func topology(node: String, driver: DriverPreset) -> JSONObject {
        var labels: JSONObject = [driver.topologyKey: .string(node)]
        if driver == .openebsLVM { labels["kubernetes.io/hostname"] = .string(node) }
        return labels
    }

    /// A CSIStorageCapacity object as the external-provisioner writes it for a node-local driver.
    static func object(storageClass: String, node: String, freeGiB: Int64, driver: DriverPreset) -> JSONValue {
        [
            "apiVersion": "storage.k8s.io/v1", "kind": "CSIStorageCapacity",
            "metadata": [
                "name": .string(objectName(storageClass: storageClass, node: node)), "namespace": .string(namespace(of: driver)),
                "labels": ["csi.storage.k8s.io/drivername": .string(driver.provisioners[0]), "csi.storage.k8s.io/managed-by": "external-provisioner"],
            ],
            "storageClassName": .string(storageClass),
            "nodeTopology": ["matchLabels": .object(topology(node: node, driver: driver))],
            "capacity": .string("\(freeGiB)Gi"),
        ]
    }
}
