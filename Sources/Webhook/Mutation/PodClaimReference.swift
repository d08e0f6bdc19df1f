public import Capacity
public import Kube

/// A claim one of a pod's volumes uses, read from the pod's JSON as the API server sent it.
public enum PodClaimReference: Sendable, Hashable {
    /// `persistentVolumeClaim.claimName`: a PVC that should already exist in the pod's namespace.
    case persistentVolumeClaim(claimName: String)
    /// A generic ephemeral volume. Its PVC is created from the template only after the pod is
    /// admitted, so class and size come from the template. `storageClassName` is nil when the
    /// template leaves it unset (the default class applies) and `""` when it asks for no class.
    /// `size` is nil when the template requests no storage, a failure when its request cannot be read.
    case ephemeral(volumeName: String, storageClassName: String?, size: Result<Quantity, UnreadableStorageRequest>?)

    /// The claim `volume` (entry `index` of `spec.volumes`) uses, or nil for volumes of other kinds.
    public init?(volume: JSONObject, index: Int) {
        if let claimName = volume["persistentVolumeClaim"]?["claimName"]?.stringValue, !claimName.isEmpty {
            self = .persistentVolumeClaim(claimName: claimName)
        } else if let template = volume["ephemeral"]?["volumeClaimTemplate"]?.objectValue {
            let spec = template["spec"]?.objectValue
            let field = "spec.volumes[\(index)].ephemeral.volumeClaimTemplate.spec.resources.requests.storage"
            self = .ephemeral(
                volumeName: volume["name"]?.stringValue ?? "",
                storageClassName: spec?["storageClassName"]?.stringValue,
                size: spec?["resources"]?["requests"]?["storage"].map { Self.quantity($0, field: field) })
        } else {
            return nil
        }
    }

    /// Quantities arrive as strings; numbers are accepted too, as the API server accepts them.
    static func quantity(_ value: JSONValue, field: String) -> Result<Quantity, UnreadableStorageRequest> {
        let text: String
        switch value {
        case .string(let string): text = string
        case .number(let number): text = number
        default: return .failure(UnreadableStorageRequest(field: field, problem: "not a string or a number"))
        }
        do {
            return .success(try Quantity(parsing: text))
        } catch {
            return .failure(UnreadableStorageRequest(field: field, problem: error.description))
        }
    }

    /// A quantity value (string or number), or nil when it is not one.
    static func quantity(_ value: JSONValue) -> Quantity? {
        try? quantity(value, field: "").get()
    }
}

/// A storage request Rebound cannot read, with the field it is in: the pod is admitted, with a
/// warning, but not routed to the extender.
public struct UnreadableStorageRequest: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where the request is, e.g. `spec.volumes[0].ephemeral.volumeClaimTemplate.spec.resources.requests.storage`.
    public var field: String
    public var problem: String

    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }

    public var description: String { "\(field): \(problem)" }
}
