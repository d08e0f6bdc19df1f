import Foundation
import Kube

/// The part of a `kubescheduler.config.k8s.io/v1` KubeSchedulerConfiguration the simulated
/// scheduler honours: profiles' scheduler names and the extenders.
public struct SchedulerConfiguration: Sendable {
    /// One `extenders[]` entry.
    public struct Extender: Sendable {
        public struct ManagedResource: Sendable {
            public var name: String
            public var ignoredByScheduler: Bool

            public init(name: String, ignoredByScheduler: Bool) {
                self.name = name
                self.ignoredByScheduler = ignoredByScheduler
            }
        }

        public var urlPrefix: String
        public var filterVerb: String?
        public var prioritizeVerb: String?
        public var bindVerb: String?
        public var weight: Int64
        public var nodeCacheCapable: Bool
        public var managedResources: [ManagedResource]
        public var ignorable: Bool
        public var httpTimeout: Duration
        /// PEM of the CA that signs the extender's certificate (`tlsConfig.caData`), for HTTPS.
        public var caPEM: [UInt8]?
        public var insecure: Bool
        /// The client certificate and key the scheduler presents (`tlsConfig.certData`/`keyData`,
        /// or `certFile`/`keyFile` read at load), for extenders that require one.
        public var clientCertificatePEM: [UInt8]?
        public var clientKeyPEM: [UInt8]?
        /// `tlsConfig.certFile` and `keyFile` as written (paths on kube-scheduler's host).
        public var clientCertificateFile: String?
        public var clientKeyFile: String?

        public init(urlPrefix: String, filterVerb: String? = "filter", prioritizeVerb: String? = "prioritize", bindVerb: String? = nil,
                    weight: Int64 = 1, nodeCacheCapable: Bool = false, managedResources: [ManagedResource] = [], ignorable: Bool = false,
                    httpTimeout: Duration = .seconds(30), caPEM: [UInt8]? = nil, insecure: Bool = false) {
            self.urlPrefix = urlPrefix
            self.filterVerb = filterVerb
            self.prioritizeVerb = prioritizeVerb
            self.bindVerb = bindVerb
            self.weight = weight
            self.nodeCacheCapable = nodeCacheCapable
            self.managedResources = managedResources
            self.ignorable = ignorable
            self.httpTimeout = httpTimeout
            self.caPEM = caPEM
            self.insecure = insecure
        }

        /// kube-scheduler consults an extender with managed resources only for pods requesting one.
        func isInterested(in pod: JSONValue) -> Bool {
            guard !managedResources.isEmpty else { return true }
            let names = Set(managedResources.map(\.name))
            for field in ["containers", "initContainers"] {
                for container in pod["spec"]?[field]?.arrayValue ?? [] {
                    for kind in ["requests", "limits"] {
                        if let resources = container["resources"]?[kind]?.objectValue, resources.keys.contains(where: names.contains) { return true }
                    }
                }
            }
            return false
        }
    }

    /// Scheduler names this scheduler serves (`profiles[].schedulerName`).
    public var schedulerNames: Set<String>
    public var extenders: [Extender]

    public init(schedulerNames: Set<String> = ["default-scheduler"], extenders: [Extender] = []) {
        self.schedulerNames = schedulerNames
        self.extenders = extenders
    }

    /// Reads a KubeSchedulerConfiguration (YAML or JSON).
    public init(yaml: String) throws(SimScenarioError) {
        let documents: [JSONValue]
        do {
            documents = try JSONValue.documents(fromYAML: yaml)
        } catch {
            throw SimScenarioError(message: "the scheduler configuration is not valid YAML: \(error)")
        }
        guard let document = documents.first(where: { $0["kind"]?.stringValue == "KubeSchedulerConfiguration" }) else {
            throw SimScenarioError(message: "no KubeSchedulerConfiguration document found")
        }
        var names = Set((document["profiles"]?.arrayValue ?? []).compactMap { $0["schedulerName"]?.stringValue })
        if names.isEmpty { names = ["default-scheduler"] }
        var extenders: [Extender] = []
        for entry in document["extenders"]?.arrayValue ?? [] {
            guard let prefix = entry["urlPrefix"]?.stringValue else { throw SimScenarioError(message: "an extender has no urlPrefix") }
            var extender = Extender(
                urlPrefix: prefix, filterVerb: entry["filterVerb"]?.stringValue, prioritizeVerb: entry["prioritizeVerb"]?.stringValue,
                bindVerb: entry["bindVerb"]?.stringValue, weight: entry["weight"]?.intValue ?? 1, nodeCacheCapable: entry["nodeCacheCapable"]?.boolValue ?? false,
                managedResources: (entry["managedResources"]?.arrayValue ?? []).compactMap { resource in
                    resource["name"]?.stringValue.map { Extender.ManagedResource(name: $0, ignoredByScheduler: resource["ignoredByScheduler"]?.boolValue ?? false) }
                },
                ignorable: entry["ignorable"]?.boolValue ?? false)
            if let timeout = entry["httpTimeout"]?.stringValue, let seconds = Self.seconds(timeout) { extender.httpTimeout = .milliseconds(Int64(seconds * 1000)) }
            if let caData = entry["tlsConfig"]?["caData"]?.stringValue, let pem = Data(base64Encoded: caData) { extender.caPEM = Array(pem) }
            extender.insecure = entry["tlsConfig"]?["insecure"]?.boolValue ?? false
            if let data = entry["tlsConfig"]?["certData"]?.stringValue, let pem = Data(base64Encoded: data) { extender.clientCertificatePEM = Array(pem) }
            if let data = entry["tlsConfig"]?["keyData"]?.stringValue, let pem = Data(base64Encoded: data) { extender.clientKeyPEM = Array(pem) }
            extender.clientCertificateFile = entry["tlsConfig"]?["certFile"]?.stringValue
            extender.clientKeyFile = entry["tlsConfig"]?["keyFile"]?.stringValue
            extenders.append(extender)
        }
        self.init(schedulerNames: names, extenders: extenders)
    }

    /// Parses Go durations like `30s`, `1m30s`, `500ms`.
    static func seconds(_ text: String) -> Double? {
        var total = 0.0
        var number = ""
        var unit = ""
        func flush() -> Bool {
            guard let value = Double(number) else { return false }
            switch unit {
            case "h": total += value * 3600
            case "m": total += value * 60
            case "s": total += value
            case "ms": total += value / 1000
            default: return false
            }
            number = ""
            unit = ""
            return true
        }
        for character in text {
            if character.isNumber || character == "." {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(character)
            } else {
                unit.append(character)
            }
        }
        guard flush() else { return nil }
        return total
    }
}
