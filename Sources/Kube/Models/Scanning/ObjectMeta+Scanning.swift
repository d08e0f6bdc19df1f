extension ObjectMeta: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        self.init()
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "name": name = try scanner.readOptionalString()
            case "generateName": generateName = try scanner.readOptionalString()
            case "namespace": namespace = try scanner.readOptionalString().map { context.intern($0) }
            case "uid": uid = try scanner.readOptionalString()
            case "resourceVersion": resourceVersion = try scanner.readOptionalString()
            case "generation": generation = try scanner.readOptionalInt()
            case "creationTimestamp": creationTimestamp = try scanner.readTime()
            case "deletionTimestamp": deletionTimestamp = try scanner.readTime()
            case "deletionGracePeriodSeconds": deletionGracePeriodSeconds = try scanner.readOptionalInt()
            case "labels": labels = try scanner.readStringMap(&context)
            case "annotations": annotations = try scanner.readStringMap(&context)
            case "ownerReferences": ownerReferences = try scanner.readArray(of: OwnerReference.self, &context)
            case "finalizers": finalizers = try scanner.readStringArray(&context)
            default: try scanner.skipValue()
            }
        }
    }
}

extension OwnerReference: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        var apiVersion: String?, kind: String?, name: String?, uid: String?
        var controller: Bool?, blockOwnerDeletion: Bool?
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "apiVersion": apiVersion = try scanner.readOptionalString().map { context.intern($0) }
            case "kind": kind = try scanner.readOptionalString().map { context.intern($0) }
            case "name": name = try scanner.readOptionalString()
            case "uid": uid = try scanner.readOptionalString()
            case "controller": controller = try scanner.readOptionalBool()
            case "blockOwnerDeletion": blockOwnerDeletion = try scanner.readOptionalBool()
            default: try scanner.skipValue()
            }
        }
        guard let apiVersion, let kind, let name, let uid else {
            throw scanner.error("an ownerReference needs apiVersion, kind, name and uid")
        }
        self.init(apiVersion: apiVersion, kind: kind, name: name, uid: uid, controller: controller, blockOwnerDeletion: blockOwnerDeletion)
    }
}

extension LabelSelector: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        self.init()
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "matchLabels": matchLabels = try scanner.readStringMap(&context)
            case "matchExpressions": matchExpressions = try scanner.readArray(of: Requirement.self, &context)
            default: try scanner.skipValue()
            }
        }
    }
}

extension LabelSelector.Requirement: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        var key: String?, op: String?, values: [String]?
        try scanner.readObject { (scanner: inout JSONScanner, name: String) throws(JSONError) in
            switch name {
            case "key": key = try scanner.readOptionalString()
            case "operator": op = try scanner.readOptionalString()
            case "values": values = try scanner.readStringArray(&context)
            default: try scanner.skipValue()
            }
        }
        guard let key, let op else { throw scanner.error("a selector requirement needs key and operator") }
        self.init(key: key, operator: op, values: values)
    }
}

extension ListMeta: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        self.init()
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "resourceVersion": resourceVersion = try scanner.readOptionalString()
            case "continue": self.continue = try scanner.readOptionalString()
            case "remainingItemCount": remainingItemCount = try scanner.readOptionalInt()
            default: try scanner.skipValue()
            }
        }
    }
}

extension KubeList: ScannerDecodable where Item: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        var apiVersion: String?, kind: String?
        var metadata = ListMeta()
        var items: [Item] = []
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "apiVersion": apiVersion = try scanner.readOptionalString()
            case "kind": kind = try scanner.readOptionalString()
            case "metadata": metadata = try scanner.readOptional(ListMeta.self, &context) ?? ListMeta()
            case "items": items = try scanner.readArray(of: Item.self, &context) ?? []
            default: try scanner.skipValue()
            }
        }
        self.init(metadata: metadata, items: items)
        self.apiVersion = apiVersion
        self.kind = kind
    }
}
