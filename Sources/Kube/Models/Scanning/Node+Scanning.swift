extension Node: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        var apiVersion: String?, kind: String?
        var metadata = ObjectMeta()
        var spec: NodeSpec?, status: NodeStatus?
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "apiVersion": apiVersion = try scanner.readOptionalString()
            case "kind": kind = try scanner.readOptionalString()
            case "metadata": metadata = try scanner.readOptional(ObjectMeta.self, &context) ?? ObjectMeta()
            case "spec": spec = try scanner.readOptional(NodeSpec.self, &context)
            case "status": status = try scanner.readOptional(NodeStatus.self, &context)
            default: try scanner.skipValue()
            }
        }
        self.init(metadata: metadata, spec: spec, status: status)
        self.apiVersion = apiVersion
        self.kind = kind
    }
}

extension NodeSpec: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        self.init()
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "unschedulable": unschedulable = try scanner.readOptionalBool()
            case "taints": taints = try scanner.readArray(of: Taint.self, &context)
            case "providerID": providerID = try scanner.readOptionalString()
            case "podCIDR": podCIDR = try scanner.readOptionalString()
            default: try scanner.skipValue()
            }
        }
    }
}

extension Taint: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        var key: String?, value: String?, effect: String?, added: KubeTime?
        try scanner.readObject { (scanner: inout JSONScanner, name: String) throws(JSONError) in
            switch name {
            case "key": key = try scanner.readOptionalString().map { context.intern($0) }
            case "value": value = try scanner.readOptionalString()
            case "effect": effect = try scanner.readOptionalString()
            case "timeAdded": added = try scanner.readTime()
            default: try scanner.skipValue()
            }
        }
        guard let key, let effect else { throw scanner.error("a taint needs key and effect") }
        self.init(key: key, value: value, effect: effect, timeAdded: added)
    }
}

extension NodeStatus: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        self.init()
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "capacity": capacity = try scanner.readQuantityMap(&context)
            case "allocatable": allocatable = try scanner.readQuantityMap(&context)
            case "conditions": conditions = try scanner.readArray(of: NodeCondition.self, &context)
            case "addresses": addresses = try scanner.readArray(of: NodeAddress.self, &context)
            default: try scanner.skipValue()
            }
        }
    }
}

extension NodeCondition: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        var type: String?, status: String?, reason: String?, message: String?
        var heartbeat: KubeTime?, transition: KubeTime?
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "type": type = try scanner.readOptionalString()
            case "status": status = try scanner.readOptionalString()
            case "reason": reason = try scanner.readOptionalString().map { context.intern($0) }
            case "message": message = try scanner.readOptionalString().map { context.intern($0) }
            case "lastHeartbeatTime": heartbeat = try scanner.readTime()
            case "lastTransitionTime": transition = try scanner.readTime()
            default: try scanner.skipValue()
            }
        }
        guard let type, let status else { throw scanner.error("a node condition needs type and status") }
        self.init(type: type, status: status, reason: reason, message: message, lastHeartbeatTime: heartbeat, lastTransitionTime: transition)
    }
}

extension NodeAddress: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        var type: String?, address: String?
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "type": type = try scanner.readOptionalString()
            case "address": address = try scanner.readOptionalString()
            default: try scanner.skipValue()
            }
        }
        guard let type, let address else { throw scanner.error("a node address needs type and address") }
        self.init(type: type, address: address)
    }
}
