public import Foundation
public import Kube

/// The simulated API server's storage: every object of every served resource, a single
/// monotonically increasing resource version (as etcd's revision), a bounded change log per
/// resource for watch resumption, and the watchers.
///
/// It implements the server-side semantics clients depend on: `generateName`, uids, conflicts on
/// stale resource versions, graceful deletion and finalizers, delete preconditions, filtered
/// watches (an object that stops matching is a deletion), bookmarks and 410 for history that has
/// been compacted away.
public actor SimStore {
    /// How many changes each resource keeps for watches that resume from an older version.
    public let logCapacity: Int
    /// The current revision: the resource version of the newest change.
    public private(set) var revision: UInt64 = 1
    var tables: [String: SimTable] = [:]
    private var nextWatcherID = 0
    let now: @Sendable () -> Date

    /// Creates a store serving `resources`, with the four namespaces every cluster starts with.
    public init(resources: [SimResource] = SimResource.all, logCapacity: Int = 10_000, now: @escaping @Sendable () -> Date = { Date() }) {
        self.logCapacity = logCapacity
        self.now = now
        for resource in resources { tables[resource.id] = SimTable(resource: resource) }
        let created = KubeTime.format(now(), micro: false)
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            revision += 1
            let namespace: JSONValue = [
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": [
                    "name": .string(name), "uid": .string(UUID().uuidString.lowercased()),
                    "resourceVersion": .string(String(revision)), "creationTimestamp": .string(created),
                ],
                "status": ["phase": "Active"],
            ]
            tables[Namespace.resourceType.description]?.put(StoredObject(value: namespace, resourceVersion: revision))
        }
    }

    /// The resources served.
    public var resources: [SimResource] { tables.values.map(\.resource).sorted { $0.id < $1.id } }

    /// The served resource with this group, version and plural, if any.
    public func resource(group: String, version: String, plural: String) -> SimResource? {
        tables.values.first { $0.resource.type.group == group && $0.resource.type.version == version && $0.resource.type.plural == plural }?.resource
    }

    /// The served resource for a kind and apiVersion (as a manifest names it).
    public func resource(apiVersion: String, kind: String) -> SimResource? {
        tables.values.first { $0.resource.type.apiVersion == apiVersion && $0.resource.type.kind == kind }?.resource
    }

    func nextWatchID() -> Int {
        nextWatcherID += 1
        return nextWatcherID
    }

    func table(_ type: ResourceType) throws(KubeAPIError) -> SimTable {
        guard let table = tables[type.description] else { throw .make(404, .notFound, "the server could not find the requested resource (\(type))") }
        return table
    }

    // MARK: Reads

    /// The object, or 404.
    public func get(_ type: ResourceType, namespace: String?, name: String) throws(KubeAPIError) -> StoredObject {
        let table = try table(type)
        guard let object = table.objects[Self.key(type, namespace, name)] else { throw .notFound(type, name: name) }
        return object
    }

    /// One page of a list.
    public struct ListPage: Sendable {
        public var items: [StoredObject]
        public var resourceVersion: UInt64
        public var continueToken: String?
        public var remainingItemCount: Int?
    }

    /// Lists objects in key order, `limit` at a time; `continueToken` resumes after the last one.
    public func list(
        _ type: ResourceType, namespace: String?, labels: LabelSelectorExpression = .init(), fields: FieldSelectorExpression = .init(),
        limit: Int? = nil, continueToken: String? = nil
    ) throws(KubeAPIError) -> ListPage {
        let table = try table(type)
        var listRevision = revision
        var startAfter: String?
        if let continueToken, !continueToken.isEmpty {
            guard let token = ContinueToken(encoded: continueToken) else { throw .badRequest("continue key is not valid: the token could not be decoded") }
            if token.revision < table.compactedRevision {
                throw .expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
            }
            listRevision = token.revision
            startAfter = token.lastKey
        }
        let keys = table.sortedKeys()
        var range = keys.startIndex..<keys.endIndex
        if type.namespaced, let namespace {
            let prefix = namespace + "/"
            let lower = keys.partitioningIndex { $0 >= prefix }
            let upper = keys[lower...].partitioningIndex { !$0.hasPrefix(prefix) }
            range = lower..<upper
        }
        if let startAfter {
            range = keys[range].partitioningIndex { $0 > startAfter }..<range.upperBound
        }
        let filtered = !labels.isEmpty || !fields.terms.isEmpty
        var items: [StoredObject] = []
        var position = range.lowerBound
        while position < range.upperBound {
            if let limit, limit > 0, items.count >= limit { break }
            let object = table.objects[keys[position]]!
            if !filtered || (labels.matches(object.labels) && fields.matches({ object.fieldValue($0) })) {
                items.append(object)
            }
            position += 1
        }
        var page = ListPage(items: items, resourceVersion: listRevision)
        if position < range.upperBound, let last = items.last {
            page.continueToken = ContinueToken(revision: listRevision, lastKey: last.key).encoded
            if !filtered { page.remainingItemCount = range.upperBound - position }
        }
        return page
    }

    // MARK: Writes

    /// Creates an object. `namespace` is the request's namespace (nil for cluster-scoped requests).
    public func create(_ type: ResourceType, namespace: String?, object: JSONValue, dryRun: Bool = false) throws(KubeAPIError) -> StoredObject {
        let table = try table(type)
        var value = try Self.checkedBody(object, type: type)
        var metadata = value["metadata"]?.objectValue ?? [:]
        let bodyNamespace = metadata["namespace"]?.stringValue
        if type.namespaced {
            if let namespace, let bodyNamespace, !bodyNamespace.isEmpty, bodyNamespace != namespace {
                throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            guard let effective = namespace ?? bodyNamespace, !effective.isEmpty else {
                throw .badRequest("the server could not find the requested resource: a namespace is required for \(type)")
            }
            metadata["namespace"] = .string(effective)
            try checkNamespaceAcceptsContent(effective)
        } else {
            metadata.removeValue(forKey: "namespace")
        }
        var name = metadata["name"]?.stringValue ?? ""
        if name.isEmpty {
            guard let prefix = metadata["generateName"]?.stringValue, !prefix.isEmpty else {
                throw .invalid(type, name: "", "name or generateName is required", field: "metadata.name")
            }
            repeat {
                name = prefix + Self.randomSuffix()
            } while table.objects[Self.key(type, metadata["namespace"]?.stringValue, name)] != nil
            metadata["name"] = .string(name)
        }
        try Self.validateName(name, type: type)
        let key = Self.key(type, metadata["namespace"]?.stringValue, name)
        if table.objects[key] != nil { throw .alreadyExists(type, name: name) }

        let newRevision = revision + 1
        metadata["uid"] = .string(UUID().uuidString.lowercased())
        metadata["resourceVersion"] = .string(String(newRevision))
        metadata["creationTimestamp"] = .string(KubeTime.format(now(), micro: false))
        metadata.removeValue(forKey: "deletionTimestamp")
        metadata.removeValue(forKey: "deletionGracePeriodSeconds")
        if metadata["generation"] == nil && value["spec"] != nil { metadata["generation"] = 1 }
        value["metadata"] = .object(metadata)
        if type == Namespace.resourceType && value["status"]?["phase"] == nil {
            value["status"] = ["phase": "Active"]
        }
        let stored = StoredObject(value: value, resourceVersion: newRevision)
        if dryRun { return stored }
        revision = newRevision
        table.put(stored)
        publish(ChangeRecord(kind: .added, object: stored, previous: nil), in: type)
        return stored
    }

    /// Replaces an object (PUT). `subresource` "status" replaces only the status; a write to the
    /// main resource of a type with a status subresource keeps the stored status, as the API does.
    public func update(
        _ type: ResourceType, namespace: String?, name: String, object: JSONValue, subresource: String? = nil, dryRun: Bool = false
    ) throws(KubeAPIError) -> StoredObject {
        let current = try get(type, namespace: namespace, name: name)
        var value = try Self.checkedBody(object, type: type)
        let bodyName = value["metadata"]?["name"]?.stringValue ?? name
        guard bodyName == name else {
            throw .badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        if let sent = value["metadata"]?["resourceVersion"]?.stringValue, !sent.isEmpty, sent != String(current.resourceVersion) {
            throw .conflict(type, name: name, "the object has been modified; please apply your changes to the latest version and try again")
        }
        let resource = try table(type).resource
        if subresource == "status" {
            var replaced = current.value
            replaced["status"] = value["status"] ?? .null
            value = replaced
        } else if let subresource {
            throw .make(404, .notFound, "the server could not find the requested resource (\(subresource) of \(type))")
        } else if resource.hasStatus {
            value["status"] = current.value["status"]
            if value["status"] == nil || value["status"]?.isNull == true { value = Self.removing("status", from: value) }
        }
        return try commitUpdate(type, current: current, proposed: value, dryRun: dryRun)
    }

    /// The kinds of patch the server accepts.
    public enum PatchType: String, Sendable {
        case json = "application/json-patch+json"
        case merge = "application/merge-patch+json"
        /// Applied as a merge patch: ClusterSim has no schemas to merge lists by key.
        case strategicMerge = "application/strategic-merge-patch+json"
    }

    /// Applies a patch document to an object.
    public func patch(
        _ type: ResourceType, namespace: String?, name: String, patchType: PatchType, patch: JSONValue, subresource: String? = nil, dryRun: Bool = false
    ) throws(KubeAPIError) -> StoredObject {
        let current = try get(type, namespace: namespace, name: name)
        var patched: JSONValue
        switch patchType {
        case .json:
            do {
                patched = try JSONPatch.apply(JSONPatch.operations(from: patch), to: current.value)
            } catch {
                throw .make(422, .invalid, "the server rejected our request due to an error in our request: \(error)")
            }
        case .merge, .strategicMerge:
            guard case .object = patch else { throw .badRequest("a merge patch must be a JSON object") }
            patched = JSONPatch.merge(patch, into: current.value)
        }
        // Stale-version checks apply only when the patch itself names a resource version.
        if patched["metadata"]?["resourceVersion"] == current.value["metadata"]?["resourceVersion"] {
            patched["metadata"]?["resourceVersion"] = nil
        }
        if subresource == nil, try table(type).resource.hasStatus {
            patched["status"] = current.value["status"]
            if patched["status"] == nil || patched["status"]?.isNull == true { patched = Self.removing("status", from: patched) }
        } else if let subresource, subresource != "status" {
            throw .make(404, .notFound, "the server could not find the requested resource (\(subresource) of \(type))")
        }
        return try update(type, namespace: namespace, name: name, object: patched, subresource: subresource, dryRun: dryRun)
    }

    func commitUpdate(_ type: ResourceType, current: StoredObject, proposed: JSONValue, dryRun: Bool) throws(KubeAPIError) -> StoredObject {
        var value = proposed
        var metadata = value["metadata"]?.objectValue ?? [:]
        let oldMetadata = current.metadata
        // Identity and lifecycle fields belong to the server.
        for field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "namespace", "name"] {
            if let old = oldMetadata[field] { metadata[field] = old } else { metadata.removeValue(forKey: field) }
        }
        metadata["resourceVersion"] = oldMetadata["resourceVersion"]
        let specChanged = value["spec"] != current.value["spec"]
        if specChanged, let generation = oldMetadata["generation"]?.intValue { metadata["generation"] = .int(generation + 1) }
        value["metadata"] = .object(metadata)
        if value == current.value { return current }

        let newRevision = revision + 1
        value["metadata"]?["resourceVersion"] = .string(String(newRevision))
        let stored = StoredObject(value: value, resourceVersion: newRevision)
        if dryRun { return stored }
        revision = newRevision
        let table = try table(type)
        if stored.isDeleting && stored.finalizers.isEmpty {
            table.remove(stored.key)
            publish(ChangeRecord(kind: .deleted, object: stored, previous: current), in: type)
            return stored
        }
        table.put(stored)
        publish(ChangeRecord(kind: .modified, object: stored, previous: current), in: type)
        return stored
    }

    /// What a delete request asks for.
    public struct DeleteOptions: Sendable {
        public var gracePeriodSeconds: Int64?
        public var preconditionUID: String?
        public var preconditionResourceVersion: String?
        public var propagationPolicy: String?
        public var dryRun: Bool

        public init(gracePeriodSeconds: Int64? = nil, preconditionUID: String? = nil, preconditionResourceVersion: String? = nil, propagationPolicy: String? = nil, dryRun: Bool = false) {
            self.gracePeriodSeconds = gracePeriodSeconds
            self.preconditionUID = preconditionUID
            self.preconditionResourceVersion = preconditionResourceVersion
            self.propagationPolicy = propagationPolicy
            self.dryRun = dryRun
        }
    }

    /// The result of a delete: gone now, or still present until a grace period or finalizers end.
    public enum DeleteOutcome: Sendable {
        case deleted(StoredObject)
        case pending(StoredObject)

        public var object: StoredObject {
            switch self {
            case .deleted(let object), .pending(let object): object
            }
        }
    }

    /// Deletes an object with the API server's rules for grace periods, finalizers and preconditions.
    public func delete(_ type: ResourceType, namespace: String?, name: String, options: DeleteOptions = .init()) throws(KubeAPIError) -> DeleteOutcome {
        let current = try get(type, namespace: namespace, name: name)
        if let uid = options.preconditionUID, uid != current.uid {
            throw .conflict(type, name: name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(current.uid)")
        }
        if let version = options.preconditionResourceVersion, version != String(current.resourceVersion) {
            throw .conflict(type, name: name, "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(current.resourceVersion)")
        }
        if let policy = options.propagationPolicy, !["Orphan", "Background", "Foreground"].contains(policy) {
            throw .invalid(type, name: name, "Unsupported value: \"\(policy)\": supported values: \"Foreground\", \"Background\", \"Orphan\"", field: "propagationPolicy")
        }
        if let grace = options.gracePeriodSeconds, grace < 0 {
            throw .invalid(type, name: name, "must be greater than or equal to 0", field: "gracePeriodSeconds")
        }
        let resource = try table(type).resource
        var grace: Int64 = 0
        if resource.gracefulDeletion {
            grace = options.gracePeriodSeconds ?? current.value["spec"]?["terminationGracePeriodSeconds"]?.intValue ?? 30
            let phase = current.value["status"]?["phase"]?.stringValue
            let bound = !(current.value["spec"]?["nodeName"]?.stringValue ?? "").isEmpty
            if !bound || phase == "Succeeded" || phase == "Failed" { grace = 0 }
        }
        let finalizers = current.finalizers
        if current.isDeleting {
            if grace == 0 && finalizers.isEmpty { return try removeNow(type, current: current, dryRun: options.dryRun) }
            // A second delete may only shorten the grace period.
            let existingGrace = current.metadata["deletionGracePeriodSeconds"]?.intValue ?? 0
            if grace >= existingGrace { return .pending(current) }
        }
        if grace == 0 && finalizers.isEmpty { return try removeNow(type, current: current, dryRun: options.dryRun) }
        var value = current.value
        value["metadata"]?["deletionTimestamp"] = .string(KubeTime.format(now().addingTimeInterval(TimeInterval(grace)), micro: false))
        value["metadata"]?["deletionGracePeriodSeconds"] = .int(grace)
        let newRevision = revision + 1
        value["metadata"]?["resourceVersion"] = .string(String(newRevision))
        let stored = StoredObject(value: value, resourceVersion: newRevision)
        if options.dryRun { return .pending(stored) }
        revision = newRevision
        let table = try table(type)
        table.put(stored)
        publish(ChangeRecord(kind: .modified, object: stored, previous: current), in: type)
        return .pending(stored)
    }

    private func removeNow(_ type: ResourceType, current: StoredObject, dryRun: Bool) throws(KubeAPIError) -> DeleteOutcome {
        if dryRun { return .deleted(current) }
        if type == Namespace.resourceType {
            // The namespace controller's job, done at once: remove everything in the namespace.
            for table in tables.values where table.resource.type.namespaced {
                for object in table.objects.values where object.namespace == current.name {
                    _ = try? removeNow(table.resource.type, current: object, dryRun: false)
                }
            }
        }
        let newRevision = revision + 1
        revision = newRevision
        var value = current.value
        value["metadata"]?["resourceVersion"] = .string(String(newRevision))
        let tombstone = StoredObject(value: value, resourceVersion: newRevision)
        let table = try table(type)
        table.remove(current.key)
        publish(ChangeRecord(kind: .deleted, object: tombstone, previous: current), in: type)
        return .deleted(tombstone)
    }

    // MARK: Helpers

    static func key(_ type: ResourceType, _ namespace: String?, _ name: String) -> String {
        type.namespaced ? "\(namespace ?? "")/\(name)" : name
    }

    static func checkedBody(_ object: JSONValue, type: ResourceType) throws(KubeAPIError) -> JSONValue {
        guard case .object = object else { throw .badRequest("the body must be a JSON object, not \(object.typeName)") }
        if let kind = object["kind"]?.stringValue, !kind.isEmpty, kind != type.kind {
            throw .badRequest("the kind \(kind) in the body does not match the resource \(type) (kind \(type.kind))")
        }
        if let apiVersion = object["apiVersion"]?.stringValue, !apiVersion.isEmpty, apiVersion != type.apiVersion {
            throw .badRequest("the apiVersion \(apiVersion) in the body does not match the resource \(type) (\(type.apiVersion))")
        }
        if let metadata = object["metadata"], metadata.objectValue == nil, !metadata.isNull {
            throw .badRequest("metadata must be an object, not \(metadata.typeName)")
        }
        var value = object
        value["apiVersion"] = .string(type.apiVersion)
        value["kind"] = .string(type.kind)
        if value["metadata"] == nil || value["metadata"]?.isNull == true { value["metadata"] = .emptyObject }
        return value
    }

    static func validateName(_ name: String, type: ResourceType) throws(KubeAPIError) {
        guard ObjectName.isDNSSubdomain(name, allowing: type == Event.resourceType ? UInt8(ascii: ":") : nil) else {
            throw .invalid(type, name: name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", field: "metadata.name")
        }
    }

    static func removing(_ key: String, from value: JSONValue) -> JSONValue {
        guard case .object(var members) = value else { return value }
        members.removeValue(forKey: key)
        return .object(members)
    }

    private func checkNamespaceAcceptsContent(_ name: String) throws(KubeAPIError) {
        guard let namespace = tables[Namespace.resourceType.description]?.objects[name] else {
            throw .notFound(Namespace.resourceType, name: name)
        }
        if namespace.isDeleting {
            throw .make(403, .forbidden, "unable to create new content in namespace \(name) because it is being terminated")
        }
    }

    static func randomSuffix() -> String {
        // The API server's alphabet: no vowels, no ambiguous characters.
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }
}

extension RandomAccessCollection {
    /// The first index where `predicate` becomes true, for a predicate false then true along the collection.
    func partitioningIndex(where predicate: (Element) -> Bool) -> Index {
        var low = startIndex
        var count = distance(from: startIndex, to: endIndex)
        while count > 0 {
            let half = count / 2
            let middle = index(low, offsetBy: half)
            if predicate(self[middle]) {
                count = half
            } else {
                low = index(after: middle)
                count -= half + 1
            }
        }
        return low
    }
}
