public import Capacity
public import Kube

extension SimScenario {
    /// The scenario with its Carina objects turned into another driver's, so the same story
    /// plays on TopoLVM or OpenEBS LVM LocalPV as that driver would shape it:
    /// - Carina StorageClasses name the driver as provisioner and its volume-group parameter
    ///   (`carina-vg-hdd` becomes the device class or volume group `hdd`);
    /// - each node loses Carina's allocatable resources, gains the driver's topology label and
    ///   reports the same free space the driver's way: TopoLVM's capacity annotations (bytes),
    ///   and CSIStorageCapacity objects per local StorageClass (both TopoLVM, whose Helm chart
    ///   turns capacity tracking on, and OpenEBS);
    /// - the driver's namespace is created for those objects.
    /// Carina (`driver == .carina`) leaves the scenario as it is.
    public func translated(to driver: DriverPreset) -> SimScenario {
        guard driver != .carina else { return self }
        let carina = DriverPreset.carina
        let prefix: String
        if case .allocatable(let value) = carina.capacitySource { prefix = value } else { prefix = "" }
        func rename(_ group: String) -> String {
            let full = carina.legacyVolumeGroups[group] ?? group
            return full.hasPrefix("carina-vg-") ? String(full.dropFirst("carina-vg-".count)) : full
        }

        var objects: [JSONValue] = []
        // Local classes: name → group, after renaming.
        var classes: [(name: String, group: String)] = []
        var nodes: [(name: String, index: Int, freeGiB: [String: Int64])] = []
        for object in self.objects {
            var object = object
            switch object["kind"]?.stringValue {
            case "StorageClass" where carina.provisioners.contains(object["provisioner"]?.stringValue ?? ""):
                var parameters = object["parameters"]?.objectValue ?? [:]
                let group = carina.volumeGroupParameters.lazy.compactMap { parameters[$0]?.stringValue }.first.map(rename) ?? ""
                for key in carina.volumeGroupParameters { parameters.removeValue(forKey: key) }
                parameters[driver.volumeGroupParameters[0]] = .string(group)
                object["provisioner"] = .string(driver.provisioners[0])
                object["parameters"] = .object(parameters)
                classes.append((object["metadata"]?["name"]?.stringValue ?? "", group))
            case "Node":
                let name = object["metadata"]?["name"]?.stringValue ?? ""
                var free: [String: Int64] = [:]
                for field in ["allocatable", "capacity"] {
                    guard var resources = object["status"]?[field]?.objectValue else { continue }
                    for (key, value) in resources where key.hasPrefix(prefix) {
                        if field == "allocatable", let gib = value.stringValue.flatMap({ NodeCapacity.gibibytes($0, unit: .gibibytes) }) {
                            free[rename(String(key.dropFirst(prefix.count)))] = gib
                        }
                        resources.removeValue(forKey: key)
                    }
                    object["status"]?[field] = .object(resources)
                }
                var labels = object["metadata"]?["labels"]?.objectValue ?? [:]
                if !free.isEmpty { labels[driver.topologyKey] = .string(name) }
                object["metadata"]?["labels"] = .object(labels)
                nodes.append((name, objects.count, free))
            default:
                break
            }
            objects.append(object)
        }
        let reports = DriverReport.published(by: driver)
        if reports.contains(.storageCapacity) {
            objects.append(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(DriverReport.namespace(of: driver))]])
        }
        for node in nodes where !node.freeGiB.isEmpty {
            for report in reports {
                switch report {
                case .annotation(let annotationPrefix):
                    var annotations = objects[node.index]["metadata"]?["annotations"]?.objectValue ?? [:]
                    for (group, gib) in node.freeGiB {
                        let bytes = gib.multipliedReportingOverflow(by: 1 << 30)
                        annotations[annotationPrefix + group] = .string(String(bytes.overflow ? Int64.max : bytes.partialValue))
                    }
                    objects[node.index]["metadata"]?["annotations"] = .object(annotations)
                case .storageCapacity:
                    for storageClass in classes {
                        guard let gib = node.freeGiB[storageClass.group] else { continue }
                        objects.append(DriverReport.object(storageClass: storageClass.name, node: node.name, freeGiB: gib, driver: driver))
                    }
                case .allocatable:
                    break
                }
            }
        }
        return SimScenario(objects: objects)
    }
}
