import Capacity
public import Kube

/// Builds the smallest JSON Patch that brings a pod's annotations and first container's
/// resources to the wanted values. It reads the pod as the API server sent it and writes only
/// the members that change, so fields Rebound's models do not know can never be lost.
public struct PodPatchBuilder: Sendable {
    /// What the builder reads of the pod.
    public let facts: AdmittedPod
    private var annotationOperations: [JSONPatchOperation] = []
    /// Annotations to add when the pod has no annotation map: one `add` creates the map.
    private var newAnnotations = JSONObject()
    private var resourceOperations: [JSONPatchOperation] = []

    public init(facts: AdmittedPod) {
        self.facts = facts
    }

    /// The operations so far: annotations first, then resources.
    public var operations: [JSONPatchOperation] {
        var result: [JSONPatchOperation] = []
        if !newAnnotations.isEmpty {
            if facts.metadata == nil {
                result.append(JSONPatchOperation(op: .add, path: "/metadata", value: .object(["annotations": .object(newAnnotations)])))
            } else {
                result.append(JSONPatchOperation(op: .add, path: "/metadata/annotations", value: .object(newAnnotations)))
            }
        }
        return result + annotationOperations + resourceOperations
    }

    /// Sets annotation `key` to `value`. With `overwrite` false an existing value, whatever it
    /// is, is left alone (the user's choice wins). `isCurrent` decides whether an existing
    /// value already means `value` (for values that have several spellings).
    public mutating func setAnnotation(
        _ key: String, to value: String, overwrite: Bool, isCurrent: (String) -> Bool = { _ in false }
    ) {
        guard let annotations = facts.metadata?.annotations else {
            newAnnotations[key] = .string(value)
            return
        }
        guard let existing = annotations[key] else {
            annotationOperations.append(JSONPatchOperation(op: .add, path: PatchPath.make("metadata", "annotations", key), value: .string(value)))
            return
        }
        guard overwrite else { return }
        if let text = existing.stringValue, text == value || isCurrent(text) { return }
        annotationOperations.append(JSONPatchOperation(op: .replace, path: PatchPath.make("metadata", "annotations", key), value: .string(value)))
    }

    /// Sets resource `name` to `amount` in both `requests` and `limits` of the first regular
    /// container, creating `resources`, `requests` and `limits` as needed. Returns false when
    /// the pod has no container.
    @discardableResult
    public mutating func setFirstContainerResource(_ name: String, to amount: Int64) -> Bool {
        guard let container = facts.firstContainer else { return false }
        let base = "/spec/containers/0/resources"
        let quantity = JSONValue.string(String(amount))
        guard let resources = container.resources else {
            resourceOperations.append(JSONPatchOperation(op: .add, path: base, value: ["requests": .object([name: quantity]), "limits": .object([name: quantity])]))
            return true
        }
        let token = JSONPointer.escape(name)
        for field in ["requests", "limits"] {
            guard let list = resources[field]?.objectValue else {
                resourceOperations.append(JSONPatchOperation(op: .add, path: base + "/" + field, value: .object([name: quantity])))
                continue
            }
            guard let existing = list[name] else {
                resourceOperations.append(JSONPatchOperation(op: .add, path: base + "/" + field + "/" + token, value: quantity))
                continue
            }
            // "2", "2000m" and 2 are the same amount: only a different amount is replaced.
            if PodClaimReference.quantity(existing)?.nanos == Quantity(amount).nanos { continue }
            resourceOperations.append(JSONPatchOperation(op: .replace, path: base + "/" + field + "/" + token, value: quantity))
        }
        return true
    }
}
