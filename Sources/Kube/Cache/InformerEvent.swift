/// A change an informer saw.
public enum InformerEvent<Object: KubeResource>: Sendable {
    case added(Object)
    case modified(old: Object, new: Object)
    case deleted(Object)

    /// The object as it is now (or was, when deleted).
    public var object: Object {
        switch self {
        case .added(let object), .deleted(let object): object
        case .modified(_, let new): new
        }
    }
}
