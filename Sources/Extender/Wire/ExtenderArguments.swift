import Capacity
import Kube

/// kube-scheduler's `ExtenderArgs` for filter and prioritize (`k8s.io/kube-scheduler/extender/v1`).
/// The struct has no json tags, so its keys are the Go field names:
///
///     {"Pod": {…v1.Pod…}, "Nodes": {"metadata": {}, "items": [{…v1.Node…}, …]}, "NodeNames": null}   nodeCacheCapable: false
///     {"Pod": {…v1.Pod…}, "Nodes": null, "NodeNames": ["node-1", …]}                                    nodeCacheCapable: true
struct ExtenderArguments: Sendable {
    /// The nodes to judge, in the request's form; the answer uses the same form.
    enum Nodes: Sendable {
        /// A full NodeList: each node summarised, with its bytes' range for echoing it back.
        case list([ScannedNode])
        /// Node names, to be looked up in the extender's cache.
        case names([String])
    }

    var pod: PlacementPod
    var nodes: Nodes

    /// Reads a request body. The Pod and the nodes are scanned for what placement needs (see
    /// ``PlacementPod`` and ``ScannedNode``); nothing else is built.
    static func parse(_ body: UnsafeRawBufferPointer, reader: CapacityKeyReader) throws(ExtenderRequestError) -> ExtenderArguments {
        var pod: PlacementPod?
        var podError: JSONError?
        var list: [ScannedNode]?
        var names: [String]?
        var scanner = JSONScanner(body)
        do throws(JSONError) {
            try scanner.forEachMember { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
                if s.key(key, is: "Pod") {
                    if s.consumeNull() { return }
                    // Valid JSON of the wrong shape is a bad Pod, not bad JSON: check the syntax
                    // first, then read the facts from the same bytes.
                    let range = try s.valueRange()
                    var podScanner = JSONScanner(s.bytes, index: range.lowerBound)
                    do throws(JSONError) {
                        pod = try PlacementPod.read(&podScanner, keys: reader.keys)
                    } catch {
                        podError = error
                    }
                } else if s.key(key, is: "Nodes") {
                    if s.consumeNull() { return }
                    var items: [ScannedNode] = []
                    try s.forEachMember { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
                        guard s.key(key, is: "items") else { return try s.skipValue() }
                        try s.forEachElementUnlessNull { (s: inout JSONScanner) throws(JSONError) in
                            items.append(try ScannedNode.read(&s, reader: reader))
                        }
                    }
                    list = items
                } else if s.key(key, is: "NodeNames") {
                    if s.consumeNull() { return }
                    var collected: [String] = []
                    try s.readArray { (s: inout JSONScanner) throws(JSONError) in collected.append(try s.readString()) }
                    names = collected
                } else {
                    try s.skipValue()
                }
            }
            try scanner.expectEnd()
        } catch {
            throw .malformed(error)
        }
        if let podError { throw .invalid("the Pod in the request could not be read: \(podError)") }
        guard let pod else { throw .invalid("the request has no Pod; kube-scheduler sends ExtenderArgs {\"Pod\": …, \"Nodes\" or \"NodeNames\": …}") }
        if let list { return ExtenderArguments(pod: pod, nodes: .list(list)) }
        if let names { return ExtenderArguments(pod: pod, nodes: .names(names)) }
        throw .invalid("the request has neither Nodes nor NodeNames")
    }
}

/// kube-scheduler's `ExtenderBindingArgs`: `{"PodName": …, "PodNamespace": …, "PodUID": …, "Node": …}`.
struct ExtenderBindingArguments: Sendable, Equatable {
    var podName: String
    var podNamespace: String
    var podUID: String
    var node: String

    /// `namespace/name`, the cache key.
    var podKey: String { "\(podNamespace)/\(podName)" }

    static func parse(_ body: UnsafeRawBufferPointer) throws(ExtenderRequestError) -> ExtenderBindingArguments {
        var fields: [String: String] = [:]
        var scanner = JSONScanner(body)
        do {
            try scanner.forEachMember { (s: inout JSONScanner, key: JSONKey) throws(JSONError) in
                let name = s.string(key)
                if ["PodName", "PodNamespace", "PodUID", "Node"].contains(name) {
                    fields[name] = try s.readOptionalString()
                } else {
                    try s.skipValue()
                }
            }
            try scanner.expectEnd()
        } catch {
            throw .malformed(error)
        }
        let missing = ["PodName", "PodNamespace", "Node"].filter { (fields[$0] ?? "").isEmpty }
        guard missing.isEmpty else {
            throw .invalid("the binding request lacks \(missing.joined(separator: ", ")); kube-scheduler sends ExtenderBindingArgs {\"PodName\", \"PodNamespace\", \"PodUID\", \"Node\"}")
        }
        return ExtenderBindingArguments(podName: fields["PodName"]!, podNamespace: fields["PodNamespace"]!, podUID: fields["PodUID"] ?? "", node: fields["Node"]!)
    }
}
