import Foundation
public import Kube

extension SimStore {
    /// `POST pods/{name}/binding`: assigns a pending pod to a node, as the API server's
    /// `BindingREST` does (what kube-scheduler, or an extender's bind verb, calls).
    ///
    /// - Sets `spec.nodeName`, copies the Binding's annotations onto the pod and marks the
    ///   `PodScheduled` condition True, in one write.
    /// - A pod that already has a node, or is being deleted, is a 409 Conflict on
    ///   `pods/binding`; a uid in the Binding that is not the pod's is a failed precondition (409).
    public func bind(namespace: String, binding: JSONValue, podName: String, dryRun: Bool = false) throws(KubeAPIError) -> StoredObject {
        guard case .object = binding else { throw .badRequest("the body must be a Binding object, not \(binding.typeName)") }
        if let kind = binding["kind"]?.stringValue, !kind.isEmpty, kind != "Binding" {
            throw .badRequest("the kind \(kind) in the body does not match the subresource pods/binding (kind Binding)")
        }
        let metadata = binding["metadata"]
        let name = metadata?["name"]?.stringValue ?? ""
        guard name.isEmpty || name == podName else {
            throw .badRequest("name in URL does not match name in Binding object")
        }
        if let bodyNamespace = metadata?["namespace"]?.stringValue, !bodyNamespace.isEmpty, bodyNamespace != namespace {
            throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        let targetKind = binding["target"]?["kind"]?.stringValue ?? ""
        let node = binding["target"]?["name"]?.stringValue ?? ""
        guard targetKind.isEmpty || targetKind == "Node" else {
            throw .invalid(ResourceType(group: "", version: "v1", kind: "Binding", plural: "bindings", namespaced: true), name: podName,
                           "Unsupported value: \"\(targetKind)\": supported values: \"Node\"", field: "target.kind")
        }
        guard !node.isEmpty else {
            throw .invalid(ResourceType(group: "", version: "v1", kind: "Binding", plural: "bindings", namespaced: true), name: podName,
                           "Required value", field: "target.name")
        }

        let current = try get(Pod.resourceType, namespace: namespace, name: podName)
        if let uid = metadata?["uid"]?.stringValue, !uid.isEmpty, uid != current.uid {
            throw .conflict(Pod.resourceType, name: podName, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(current.uid)")
        }
        func conflict(_ problem: String) -> KubeAPIError {
            .make(409, .conflict, "Operation cannot be fulfilled on pods/binding \"\(podName)\": \(problem)",
                  details: Status.Details(name: podName, kind: "pods/binding"))
        }
        if current.isDeleting { throw conflict("pod \(podName) is being deleted, cannot be assigned to a host") }
        if let assigned = current.value["spec"]?["nodeName"]?.stringValue, !assigned.isEmpty {
            throw conflict("pod \(podName) is already assigned to node \"\(assigned)\"")
        }

        var value = current.value
        value["spec"]?["nodeName"] = .string(node)
        if let annotations = metadata?["annotations"]?.objectValue, !annotations.isEmpty {
            var merged = value["metadata"]?["annotations"]?.objectValue ?? [:]
            for (key, annotation) in annotations { merged[key] = annotation }
            value["metadata"]?["annotations"] = .object(merged)
        }
        var status = value["status"]?.objectValue ?? [:]
        var conditions = (status["conditions"]?.arrayValue ?? []).filter { $0["type"]?.stringValue != "PodScheduled" }
        conditions.append(["type": "PodScheduled", "status": "True", "lastTransitionTime": .string(KubeTime.format(now(), micro: false))])
        status["conditions"] = .array(conditions)
        value["status"] = .object(status)
        return try commitUpdate(Pod.resourceType, current: current, proposed: value, dryRun: dryRun)
    }
}
