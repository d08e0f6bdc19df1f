import Kube

/// The discovery documents (`/api`, `/apis`, resource lists), `/version` and the small OpenAPI v3
/// index kubectl needs to believe the server validates fields itself.
struct SimDiscovery: Sendable {
    let resources: [SimResource]
    let serverAddress: String

    static let version: JSONValue = [
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-rebound-sim", "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean", "buildDate": "2024-12-11T00:00:00Z", "goVersion": "go1.23", "compiler": "gc", "platform": "linux/amd64",
    ]

    var coreVersions: JSONValue {
        ["kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]]]
    }

    /// Non-core group versions, sorted.
    var groupVersions: [(group: String, version: String)] {
        var seen: [String: Set<String>] = [:]
        for resource in resources where !resource.type.group.isEmpty {
            seen[resource.type.group, default: []].insert(resource.type.version)
        }
        return seen.keys.sorted().flatMap { group in seen[group]!.sorted().map { (group, $0) } }
    }

    func group(_ name: String) -> JSONValue? {
        let versions = groupVersions.filter { $0.group == name }
        guard let preferred = versions.first else { return nil }
        return [
            "kind": "APIGroup", "apiVersion": "v1", "name": .string(name),
            "versions": .array(versions.map { ["groupVersion": .string("\($0.group)/\($0.version)"), "version": .string($0.version)] }),
            "preferredVersion": ["groupVersion": .string("\(name)/\(preferred.version)"), "version": .string(preferred.version)],
        ]
    }

    var groupList: JSONValue {
        let names = Array(Set(groupVersions.map(\.group))).sorted()
        var groups: [JSONValue] = []
        for name in names {
            guard case .object(var members) = group(name) else { continue }
            members.removeValue(forKey: "kind")
            members.removeValue(forKey: "apiVersion")
            groups.append(.object(members))
        }
        return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)]
    }

    /// The APIResourceList of one group version, or nil if none is served.
    func resourceList(group: String, version: String) -> JSONValue? {
        let matching = resources.filter { $0.type.group == group && $0.type.version == version }.sorted { $0.type.plural < $1.type.plural }
        guard !matching.isEmpty else { return nil }
        var entries: [JSONValue] = []
        for resource in matching {
            let type = resource.type
            var entry: JSONObject = [
                "name": .string(type.plural), "singularName": .string(type.kind.lowercased()), "namespaced": .bool(type.namespaced),
                "kind": .string(type.kind), "verbs": .array(type.verbs.map { .string($0) }),
            ]
            if !type.shortNames.isEmpty { entry["shortNames"] = .array(type.shortNames.map { .string($0) }) }
            entries.append(.object(entry))
            if resource.hasStatus {
                entries.append([
                    "name": .string(type.plural + "/status"), "singularName": "", "namespaced": .bool(type.namespaced),
                    "kind": .string(type.kind), "verbs": ["get", "patch", "update"],
                ])
            }
        }
        return [
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
            "resources": .array(entries),
        ]
    }

    /// `/openapi/v3`: one entry a group version.
    var openAPIIndex: JSONValue {
        var paths: JSONObject = ["api/v1": ["serverRelativeURL": "/openapi/v3/api/v1?hash=rebound-sim"]]
        for (group, version) in groupVersions {
            paths["apis/\(group)/\(version)"] = ["serverRelativeURL": .string("/openapi/v3/apis/\(group)/\(version)?hash=rebound-sim")]
        }
        return ["paths": .object(paths)]
    }

    /// `/openapi/v3/<gv>`: a PATCH operation per kind that declares `fieldValidation`, which is how
    /// kubectl decides that the server validates fields (so it skips client-side validation).
    func openAPIDocument(group: String, version: String) -> JSONValue? {
        let matching = resources.filter { $0.type.group == group && $0.type.version == version }
        guard !matching.isEmpty else { return nil }
        var paths: JSONObject = [:]
        for resource in matching {
            let type = resource.type
            let path = type.namespaced ? "\(type.basePath)/namespaces/{namespace}/\(type.plural)/{name}" : "\(type.basePath)/\(type.plural)/{name}"
            paths[path] = [
                "patch": [
                    "x-kubernetes-group-version-kind": ["group": .string(group), "version": .string(version), "kind": .string(type.kind)],
                    "parameters": [["name": "fieldValidation", "in": "query", "schema": ["type": "string", "uniqueItems": true]]],
                    "responses": [:],
                ]
            ]
        }
        return ["openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.32.0"], "paths": .object(paths)]
    }
}
