public import Kube

/// Objects loaded into ClusterSim from a multi-document YAML file of ordinary Kubernetes objects
/// (as `kubectl apply -f` takes), with their `status` kept as written, so a scenario can hold
/// Nodes with capacity and conditions, Bound claims and Running pods.
public struct SimScenario: Sendable {
    public var objects: [JSONValue]

    public init(objects: [JSONValue]) { self.objects = objects }

    /// Parses the YAML (`kind: List` documents are expanded into their items).
    public init(yaml: String) throws(SimScenarioError) {
        let documents: [JSONValue]
        do {
            documents = try JSONValue.documents(fromYAML: yaml)
        } catch {
            throw SimScenarioError(message: "the scenario is not valid YAML: \(error)")
        }
        var objects: [JSONValue] = []
        for (index, document) in documents.enumerated() {
            guard case .object = document else {
                throw SimScenarioError(message: "document \(index + 1) is a \(document.typeName), not a Kubernetes object")
            }
            if document["kind"]?.stringValue == "List" {
                objects.append(contentsOf: document["items"]?.arrayValue ?? [])
            } else {
                objects.append(document)
            }
        }
        self.objects = objects
    }

    /// Creation order: namespaces and cluster-wide setup first, so namespaced objects find their
    /// namespace and pods find their claims; otherwise file order.
    static func rank(_ kind: String) -> Int {
        switch kind {
        case "Namespace": 0
        case "StorageClass", "PriorityClass", "CSIDriver": 1
        case "Node": 2
        case "PersistentVolume": 3
        case "PersistentVolumeClaim": 4
        case "Pod": 6
        default: 5
        }
    }

    /// Creates every object in the store, in dependency order; fails on the first it cannot create.
    @discardableResult
    public func load(into store: SimStore) async throws(SimScenarioError) -> [StoredObject] {
        try await load { type, namespace, object throws(KubeAPIError) in try await store.create(type, namespace: namespace, object: object) }
    }

    /// Creates every object through `create` (for instance ``SimAPI/create(_:namespace:object:dryRun:)``,
    /// so admission webhooks run), in dependency order; fails on the first it cannot create.
    @discardableResult
    public func load(
        resources: [SimResource] = SimResource.all, _ create: (ResourceType, String?, JSONValue) async throws(KubeAPIError) -> StoredObject
    ) async throws(SimScenarioError) -> [StoredObject] {
        let ordered = objects.enumerated().sorted { lhs, rhs in
            let (left, right) = (Self.rank(lhs.element["kind"]?.stringValue ?? ""), Self.rank(rhs.element["kind"]?.stringValue ?? ""))
            return left == right ? lhs.offset < rhs.offset : left < right
        }
        var created: [StoredObject] = []
        for (index, object) in ordered {
            let kind = object["kind"]?.stringValue ?? ""
            let apiVersion = object["apiVersion"]?.stringValue ?? ""
            let name = object["metadata"]?["name"]?.stringValue ?? object["metadata"]?["generateName"]?.stringValue ?? "?"
            guard let resource = resources.first(where: { $0.type.apiVersion == apiVersion && $0.type.kind == kind }) else {
                throw SimScenarioError(message: "object \(index + 1) (\(kind.isEmpty ? "no kind" : kind) \(name)): ClusterSim does not serve \(apiVersion.isEmpty ? "?" : apiVersion) \(kind)")
            }
            let namespace = resource.type.namespaced ? (object["metadata"]?["namespace"]?.stringValue ?? "default") : nil
            do {
                created.append(try await create(resource.type, namespace, object))
            } catch {
                throw SimScenarioError(message: "object \(index + 1) (\(kind) \(namespace.map { "\($0)/" } ?? "")\(name)): \(error.message)")
            }
        }
        return created
    }
}

/// A scenario that cannot be loaded; the message names the object and the reason.
public struct SimScenarioError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
