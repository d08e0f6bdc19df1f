public import Capacity
public import Kube

/// A claim one of a pod's volumes uses, read from the pod's JSON as the API server sent it.
public enum PodClaimReference: Sendable, Hashable {
    /// `persistentVolumeClaim.claimName`: a PVC that should already exist in the pod's namespace.
    case persistentVolumeClaim(claimName: String)
    /// A generic ephemeral volume. Its PVC is created from the template only after the pod is
    /// admitted, so class and size come from the template. `storageClassName` is nil when the
    /// template leaves it unset (the default class applies) and `""` when it asks for no class.
    case ephemeral(volumeName: String, storageClassName: String?, size: Quantity?)

    /// The claim `volume` (an entry of `spec.volumes`) uses, or nil for volumes of other kinds.
    public init?(volume: JSONObject) {
        if let claimName = volume["persistentVolumeClaim"]?["claimName"]?.stringValue, !claimName.isEmpty {
            self = .persistentVolumeClaim(claimName: claimName)
        } else if let template = volume["ephemeral"]?["volumeClaimTemplate"]?.objectValue {
            let spec = template["spec"]?.objectValue
            self = .ephemeral(
                volumeName: volume["name"]?.stringValue ?? "",
                storageClassName: spec?["storageClassName"]?.stringValue,
                size: spec?["resources"]?["requests"]?["storage"].flatMap(Self.quantity))
        } else {
            return nil
        }
    }

    /// Quantities arrive as strings; numbers are accepted too, as the API server accepts them.
    static func quantity(_ value: JSONValue) -> Quantity? {
        switch value {
        case .string(let text): Quantity(text)
        case .number(let text): Quantity(text)
        default: nil
        }
    }
}
