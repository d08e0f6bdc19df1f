/// The cluster's StorageClasses by name, with Kubernetes' rule for the default class — the one
/// home of that rule: the webhook routes and the extender places by it.
public struct StorageClassIndex: Sendable {
    /// Annotations that mark the default class (the beta one is still honoured upstream).
    static let defaultClassAnnotations = [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]

    public let byName: [String: StorageClass]
    /// The class a claim without `storageClassName` gets, if any.
    public let defaultClass: StorageClass?

    public init(_ classes: [StorageClass]) {
        var byName: [String: StorageClass] = [:]
        for storageClass in classes {
            if let name = storageClass.metadata.name { byName[name] = storageClass }
        }
        self.byName = byName
        defaultClass = Self.defaultClass(among: classes)
    }

    /// The default class as kube-apiserver's DefaultStorageClass admission picks it: classes
    /// marked by the GA or the beta annotation; with several, the newest; the name breaks ties
    /// so the choice never depends on list order.
    public static func defaultClass(among classes: some Sequence<StorageClass>) -> StorageClass? {
        classes.filter { storageClass in
            defaultClassAnnotations.contains { storageClass.metadata.annotations?[$0] == "true" }
        }.max { a, b in
            if let ta = a.metadata.creationTimestamp, let tb = b.metadata.creationTimestamp, ta != tb { return ta < tb }
            return (a.metadata.name ?? "") > (b.metadata.name ?? "")
        }
    }

    /// The class a claim with this `storageClassName` uses: nil picks the default class, `""`
    /// means "no class" (a statically provisioned volume), so no StorageClass at all.
    public func resolve(_ storageClassName: String?) -> StorageClass? {
        guard let storageClassName else { return defaultClass }
        if storageClassName.isEmpty { return nil }
        return byName[storageClassName]
    }
}
