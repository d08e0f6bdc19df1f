import Capacity

extension CSIStorageCapacity: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        var apiVersion: String?, kind: String?
        var metadata = ObjectMeta()
        var storageClassName: String?
        var nodeTopology: LabelSelector?
        var capacity: Quantity?, maximumVolumeSize: Quantity?
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "apiVersion": apiVersion = try scanner.readOptionalString()
            case "kind": kind = try scanner.readOptionalString()
            case "metadata": metadata = try scanner.readOptional(ObjectMeta.self, &context) ?? ObjectMeta()
            // Thousands of objects name the same few classes.
            case "storageClassName": storageClassName = try scanner.readOptionalString().map { context.intern($0) }
            case "nodeTopology": nodeTopology = try scanner.readOptional(LabelSelector.self, &context)
            case "capacity": capacity = scanner.consumeNull() ? nil : try scanner.readQuantity()
            case "maximumVolumeSize": maximumVolumeSize = scanner.consumeNull() ? nil : try scanner.readQuantity()
            default: try scanner.skipValue()
            }
        }
        guard let storageClassName else { throw scanner.error("a CSIStorageCapacity needs storageClassName") }
        self.init(metadata: metadata, storageClassName: storageClassName, nodeTopology: nodeTopology, capacity: capacity, maximumVolumeSize: maximumVolumeSize)
        self.apiVersion = apiVersion
        self.kind = kind
    }
}
