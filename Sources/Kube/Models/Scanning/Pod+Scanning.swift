extension Pod: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        var apiVersion: String?, kind: String?
        var metadata = ObjectMeta()
        var spec: PodSpec?, status: PodStatus?
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "apiVersion": apiVersion = try scanner.readOptionalString()
            case "kind": kind = try scanner.readOptionalString()
            case "metadata": metadata = try scanner.readOptional(ObjectMeta.self, &context) ?? ObjectMeta()
            case "spec": spec = try scanner.readOptional(PodSpec.self, &context)
            case "status": status = try scanner.readOptional(PodStatus.self, &context)
            default: try scanner.skipValue()
            }
        }
        self.init(metadata: metadata, spec: spec, status: status)
        self.apiVersion = apiVersion
        self.kind = kind
    }
}

extension PodSpec: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        self.init(containers: [])
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "nodeName": nodeName = try scanner.readOptionalString()
            case "schedulerName": schedulerName = try scanner.readOptionalString().map { context.intern($0) }
            case "containers": containers = try scanner.readArray(of: Container.self, &context) ?? []
            case "initContainers": initContainers = try scanner.readArray(of: Container.self, &context)
            case "volumes": volumes = try scanner.readArray(of: Volume.self, &context)
            case "nodeSelector": nodeSelector = try scanner.readStringMap(&context)
            case "tolerations": tolerations = try scanner.readArray(of: Toleration.self, &context)
            case "priority": priority = try scanner.readOptionalInt().map { Int32(truncatingIfNeeded: $0) }
            case "priorityClassName": priorityClassName = try scanner.readOptionalString()
            case "serviceAccountName": serviceAccountName = try scanner.readOptionalString().map { context.intern($0) }
            case "restartPolicy": restartPolicy = try scanner.readOptionalString()
            case "terminationGracePeriodSeconds": terminationGracePeriodSeconds = try scanner.readOptionalInt()
            case "hostname": hostname = try scanner.readOptionalString()
            case "subdomain": subdomain = try scanner.readOptionalString().map { context.intern($0) }
            case "affinity": affinity = scanner.consumeNull() ? nil : try scanner.readValue()
            default: try scanner.skipValue()
            }
        }
    }
}

extension Container: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        var name: String?, image: String?, resources: ResourceRequirements?
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "name": name = try scanner.readOptionalString().map { context.intern($0) }
            case "image": image = try scanner.readOptionalString().map { context.intern($0) }
            case "resources": resources = try scanner.readOptional(ResourceRequirements.self, &context)
            default: try scanner.skipValue()
            }
        }
        guard let name else { throw scanner.error("a container needs a name") }
        self.init(name: name, image: image, resources: resources)
    }
}

extension ResourceRequirements: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        self.init()
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "requests": requests = try scanner.readQuantityMap(&context)
            case "limits": limits = try scanner.readQuantityMap(&context)
            default: try scanner.skipValue()
            }
        }
    }
}

extension Volume: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        var name: String?
        var claim: PersistentVolumeClaimVolumeSource?
        var ephemeral: EphemeralVolumeSource?
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "name": name = try scanner.readOptionalString().map { context.intern($0) }
            case "persistentVolumeClaim": claim = try scanner.readOptional(PersistentVolumeClaimVolumeSource.self, &context)
            case "ephemeral": ephemeral = try scanner.readOptional(EphemeralVolumeSource.self, &context)
            default: try scanner.skipValue()
            }
        }
        guard let name else { throw scanner.error("a volume needs a name") }
        self.init(name: name, persistentVolumeClaim: claim, ephemeral: ephemeral)
    }
}

extension PersistentVolumeClaimVolumeSource: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        var claimName: String?, readOnly: Bool?
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "claimName": claimName = try scanner.readOptionalString()
            case "readOnly": readOnly = try scanner.readOptionalBool()
            default: try scanner.skipValue()
            }
        }
        guard let claimName else { throw scanner.error("a persistentVolumeClaim volume needs a claimName") }
        self.init(claimName: claimName, readOnly: readOnly)
    }
}

extension EphemeralVolumeSource: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        var template: ClaimTemplate?
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "volumeClaimTemplate": template = try scanner.readOptional(ClaimTemplate.self, &context)
            default: try scanner.skipValue()
            }
        }
        self.init(volumeClaimTemplate: template)
    }
}

extension EphemeralVolumeSource.ClaimTemplate: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        var metadata: ObjectMeta?, spec: PersistentVolumeClaimSpec?
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "metadata": metadata = try scanner.readOptional(ObjectMeta.self, &context)
            case "spec": spec = try scanner.readOptional(PersistentVolumeClaimSpec.self, &context)
            default: try scanner.skipValue()
            }
        }
        guard let spec else { throw scanner.error("a volumeClaimTemplate needs a spec") }
        self.init(metadata: metadata, spec: spec)
    }
}

extension PersistentVolumeClaimSpec: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        self.init()
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "accessModes": accessModes = try scanner.readStringArray(&context)
            case "selector": selector = try scanner.readOptional(LabelSelector.self, &context)
            case "resources": resources = try scanner.readOptional(ResourceRequirements.self, &context)
            case "volumeName": volumeName = try scanner.readOptionalString()
            case "storageClassName": storageClassName = try scanner.readOptionalString().map { context.intern($0) }
            case "volumeMode": volumeMode = try scanner.readOptionalString()
            case "dataSource": dataSource = scanner.consumeNull() ? nil : try scanner.readValue()
            case "dataSourceRef": dataSourceRef = scanner.consumeNull() ? nil : try scanner.readValue()
            case "volumeAttributesClassName": volumeAttributesClassName = try scanner.readOptionalString()
            default: try scanner.skipValue()
            }
        }
    }
}

extension Toleration: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        self.init()
        try scanner.readObject { (scanner: inout JSONScanner, name: String) throws(JSONError) in
            switch name {
            case "key": key = try scanner.readOptionalString().map { context.intern($0) }
            case "operator": self.operator = try scanner.readOptionalString()
            case "value": value = try scanner.readOptionalString()
            case "effect": effect = try scanner.readOptionalString()
            case "tolerationSeconds": tolerationSeconds = try scanner.readOptionalInt()
            default: try scanner.skipValue()
            }
        }
    }
}

extension PodStatus: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        self.init()
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "phase": phase = try scanner.readOptionalString()
            case "conditions": conditions = try scanner.readArray(of: PodCondition.self, &context)
            case "hostIP": hostIP = try scanner.readOptionalString()
            case "podIP": podIP = try scanner.readOptionalString()
            case "startTime": startTime = try scanner.readTime()
            case "reason": reason = try scanner.readOptionalString()
            case "message": message = try scanner.readOptionalString()
            default: try scanner.skipValue()
            }
        }
    }
}

extension PodCondition: ScannerDecodable {
    public init(scanning scanner: inout JSONScanner, context: inout ScanContext) throws(JSONError) {
        var type: String?, status: String?, reason: String?, message: String?, transition: KubeTime?
        try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
            switch key {
            case "type": type = try scanner.readOptionalString()
            case "status": status = try scanner.readOptionalString()
            case "reason": reason = try scanner.readOptionalString()
            case "message": message = try scanner.readOptionalString()
            case "lastTransitionTime": transition = try scanner.readTime()
            default: try scanner.skipValue()
            }
        }
        guard let type, let status else { throw scanner.error("a pod condition needs type and status") }
        self.init(type: type, status: status, reason: reason, message: message, lastTransitionTime: transition)
    }
}
