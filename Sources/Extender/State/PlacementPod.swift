import Capacity
import Kube

/// What the extender needs to know about a pod: who it is, whether it requests the routing
/// resource, the requests annotation, and the claims it mounts. Read from a request's Pod by a
/// scanner (no full decode), or from a Pod object of the cache.
struct PlacementPod: Sendable, Hashable {
    var name: String
    var namespace: String
    var uid: String?
    /// Requests (or limits) the routing resource in any container.
    var routed: Bool
    /// The value of the requests annotation, if present.
    var requestsAnnotation: String?
    /// Claims the pod mounts, generic ephemeral volumes' claims (`<pod>-<volume>`) included.
    var claimNames: [String]
    var nodeName: String?
    /// Succeeded or Failed: the pod holds nothing any more.
    var isTerminal: Bool = false

    /// `namespace/name`: how the ledger knows the pod.
    var ledgerKey: String { "\(namespace)/\(name)" }

    var ref: ExtenderState.PodRef { .init(key: ledgerKey, uid: uid) }
}

extension PlacementPod {
    init(pod: Pod, keys: CompatibilityKeys) {
        self.init(
            name: pod.name, namespace: pod.metadata.namespace ?? "", uid: pod.metadata.uid, routed: pod.requestsResource(keys.routingResource),
            requestsAnnotation: pod.metadata.annotations?[keys.requestsAnnotation], claimNames: pod.claimNames, nodeName: pod.nodeName,
            isTerminal: pod.isTerminal)
    }

    /// Reads a `v1.Pod` from `scanner`, building only the facts above and skipping the rest.
    static func read(_ scanner: inout JSONScanner, keys: CompatibilityKeys) throws(JSONError) -> PlacementPod {
        var facts = PlacementPod(name: "", namespace: "", uid: nil, routed: false, requestsAnnotation: nil, claimNames: [], nodeName: nil)
        let annotation = Array(keys.requestsAnnotation.utf8)
        let resource = Array(keys.routingResource.utf8)
        var volumes: [(name: String, claim: String?, ephemeral: Bool)] = []

        func readContainers(_ s: inout JSONScanner) throws(JSONError) {
            try s.forEachElementUnlessNull { (s: inout JSONScanner) throws(JSONError) in
                try s.forEachMember { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
                    guard s.key(key, is: "resources") else { return try s.skipValue() }
                    try s.forEachMemberUnlessNull { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
                        guard s.key(key, is: "requests") || s.key(key, is: "limits") else { return try s.skipValue() }
                        try s.forEachMemberUnlessNull { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
                            if s.key(key, equals: resource) { facts.routed = true }
                            try s.skipValue()
                        }
                    }
                }
            }
        }

        try scanner.forEachMember { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
            if s.key(key, is: "metadata") {
                try s.forEachMemberUnlessNull { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
                    if s.key(key, is: "name") {
                        facts.name = try s.readOptionalString() ?? ""
                    } else if s.key(key, is: "namespace") {
                        facts.namespace = try s.readOptionalString() ?? ""
                    } else if s.key(key, is: "uid") {
                        facts.uid = try s.readOptionalString()
                    } else if s.key(key, is: "annotations") {
                        try s.forEachMemberUnlessNull { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
                            if s.key(key, equals: annotation) { facts.requestsAnnotation = try s.readOptionalString() } else { try s.skipValue() }
                        }
                    } else {
                        try s.skipValue()
                    }
                }
            } else if s.key(key, is: "spec") {
                try s.forEachMemberUnlessNull { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
                    if s.key(key, is: "containers") || s.key(key, is: "initContainers") {
                        try readContainers(&s)
                    } else if s.key(key, is: "nodeName") {
                        facts.nodeName = try s.readOptionalString().flatMap { $0.isEmpty ? nil : $0 }
                    } else if s.key(key, is: "volumes") {
                        try s.forEachElementUnlessNull { (s: inout JSONScanner) throws(JSONError) in
                            var volume: (name: String, claim: String?, ephemeral: Bool) = ("", nil, false)
                            try s.forEachMember { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
                                if s.key(key, is: "name") {
                                    volume.name = try s.readOptionalString() ?? ""
                                } else if s.key(key, is: "persistentVolumeClaim") {
                                    try s.forEachMemberUnlessNull { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
                                        if s.key(key, is: "claimName") { volume.claim = try s.readOptionalString() } else { try s.skipValue() }
                                    }
                                } else if s.key(key, is: "ephemeral") {
                                    volume.ephemeral = !s.consumeNull()
                                    if volume.ephemeral { try s.skipValue() }
                                } else {
                                    try s.skipValue()
                                }
                            }
                            volumes.append(volume)
                        }
                    } else {
                        try s.skipValue()
                    }
                }
            } else if s.key(key, is: "status") {
                try s.forEachMemberUnlessNull { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
                    if s.key(key, is: "phase") {
                        let phase = try s.readOptionalString()
                        facts.isTerminal = PodRules.isTerminal(phase: phase)
                    } else {
                        try s.skipValue()
                    }
                }
            } else {
                try s.skipValue()
            }
        }
        // The same rule as Pod.claimNames, applied once the pod's name is known.
        facts.claimNames = volumes.compactMap { volume in
            if let claim = volume.claim { return claim }
            return volume.ephemeral ? PodRules.ephemeralClaimName(pod: facts.name, volume: volume.name) : nil
        }
        return facts
    }
}
