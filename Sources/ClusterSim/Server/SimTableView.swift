import Foundation
import Kube

/// Server-side printing: the `meta.k8s.io/v1` Table kubectl asks for, with the columns the real
/// API server shows for the common kinds (and Name/Age for the rest).
enum SimTableView {
    struct Column {
        var name: String
        var type = "string"
        var format = ""
        var priority = 0
        var cell: (JSONValue) -> JSONValue
    }

    static func columns(for type: ResourceType) -> [Column] {
        let name = Column(name: "Name", format: "name") { .string($0["metadata"]?["name"]?.stringValue ?? "") }
        let ageColumn = Column(name: "Age") { .string(age(of: $0)) }
        switch type.kind {
        case "Pod":
            return [
                name,
                Column(name: "Ready") { pod in
                    let total = pod["spec"]?["containers"]?.arrayValue?.count ?? 0
                    let ready = pod["status"]?["containerStatuses"]?.arrayValue?.filter { $0["ready"]?.boolValue == true }.count ?? 0
                    return .string("\(ready)/\(total)")
                },
                Column(name: "Status") { pod in
                    if pod["metadata"]?["deletionTimestamp"] != nil { return "Terminating" }
                    return .string(pod["status"]?["phase"]?.stringValue ?? "Pending")
                },
                Column(name: "Restarts", type: "integer") { _ in 0 },
                ageColumn,
                Column(name: "IP", priority: 1) { .string($0["status"]?["podIP"]?.stringValue ?? "<none>") },
                Column(name: "Node", priority: 1) { .string($0["spec"]?["nodeName"]?.stringValue ?? "<none>") },
            ]
        case "Node":
            return [
                name,
                Column(name: "Status") { node in
                    let ready = node["status"]?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == "Ready" }
                    var status = ready?["status"]?.stringValue == "True" ? "Ready" : (ready == nil ? "Unknown" : "NotReady")
                    if node["spec"]?["unschedulable"]?.boolValue == true { status += ",SchedulingDisabled" }
                    return .string(status)
                },
                Column(name: "Roles") { _ in "<none>" },
                ageColumn,
                Column(name: "Version") { .string($0["status"]?["nodeInfo"]?["kubeletVersion"]?.stringValue ?? "") },
            ]
        case "PersistentVolumeClaim":
            return [
                name,
                Column(name: "Status") { .string($0["status"]?["phase"]?.stringValue ?? "Pending") },
                Column(name: "Volume") { .string($0["spec"]?["volumeName"]?.stringValue ?? "") },
                Column(name: "Capacity") { .string($0["status"]?["capacity"]?["storage"]?.stringValue ?? "") },
                Column(name: "Access Modes") { .string(accessModes($0["spec"]?["accessModes"])) },
                Column(name: "StorageClass") { .string($0["spec"]?["storageClassName"]?.stringValue ?? "") },
                ageColumn,
            ]
        case "PersistentVolume":
            return [
                name,
                Column(name: "Capacity") { .string($0["spec"]?["capacity"]?["storage"]?.stringValue ?? "") },
                Column(name: "Access Modes") { .string(accessModes($0["spec"]?["accessModes"])) },
                Column(name: "Reclaim Policy") { .string($0["spec"]?["persistentVolumeReclaimPolicy"]?.stringValue ?? "") },
                Column(name: "Status") { .string($0["status"]?["phase"]?.stringValue ?? "") },
                Column(name: "Claim") { pv in
                    guard let claim = pv["spec"]?["claimRef"] else { return "" }
                    return .string("\(claim["namespace"]?.stringValue ?? "")/\(claim["name"]?.stringValue ?? "")")
                },
                Column(name: "StorageClass") { .string($0["spec"]?["storageClassName"]?.stringValue ?? "") },
                ageColumn,
            ]
        default:
            return [name, ageColumn]
        }
    }

    static func accessModes(_ value: JSONValue?) -> String {
        let short = ["ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"]
        return (value?.arrayValue ?? []).compactMap { $0.stringValue.map { short[$0] ?? $0 } }.joined(separator: ",")
    }

    static func age(of object: JSONValue) -> String {
        guard let text = object["metadata"]?["creationTimestamp"]?.stringValue, let created = KubeTime.parse(text) else { return "<unknown>" }
        let seconds = max(0, Int(Date().timeIntervalSince(created)))
        if seconds < 120 { return "\(seconds)s" }
        if seconds < 7200 { return "\(seconds / 60)m" }
        if seconds < 172_800 { return "\(seconds / 3600)h" }
        return "\(seconds / 86_400)d"
    }

    static func row(_ object: JSONValue, columns: [Column]) -> JSONValue {
        let metadata: JSONValue = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? .emptyObject]
        return ["cells": .array(columns.map { $0.cell(object) }), "object": metadata]
    }

    static func definitions(_ columns: [Column]) -> JSONValue {
        .array(columns.map {
            ["name": .string($0.name), "type": .string($0.type), "format": .string($0.format), "description": .string($0.name), "priority": .int($0.priority)]
        })
    }

    static func table(for type: ResourceType, objects: [JSONValue], resourceVersion: UInt64, continueToken: String?) -> JSONValue {
        let columns = columns(for: type)
        var metadata: JSONObject = ["resourceVersion": .string(String(resourceVersion))]
        if let continueToken { metadata["continue"] = .string(continueToken) }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": .object(metadata),
            "columnDefinitions": definitions(columns), "rows": .array(objects.map { row($0, columns: columns) }),
        ]
    }

    /// A watch frame whose object is turned into a one-row Table (column definitions in the first only).
    static func frame(_ frame: [UInt8], type: ResourceType, includeColumns: Bool) -> [UInt8]? {
        guard var event = try? JSONValue(parsing: frame), let object = event["object"] else { return nil }
        if event["type"]?.stringValue == "ERROR" || event["type"]?.stringValue == "BOOKMARK" { return nil }
        let columns = columns(for: type)
        event["object"] = [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": ["resourceVersion": object["metadata"]?["resourceVersion"] ?? ""],
            "columnDefinitions": includeColumns ? definitions(columns) : .array([]),
            "rows": [row(object, columns: columns)],
        ]
        var bytes = event.serialized()
        bytes.append(0x0A)
        return bytes
    }
}
