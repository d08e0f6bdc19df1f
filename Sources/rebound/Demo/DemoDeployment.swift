import ClusterSim
import Foundation
import Kube

/// How the demo installs Rebound into the simulated cluster: the MutatingWebhookConfiguration the
/// API server follows, the extender entry the scheduler follows, and Rebound's configuration file.
///
/// By default these are built in (plain HTTP to the extender, every pod in full). With
/// `--deploy DIR` they are read from the operator's manifests in `DIR` (the repository's
/// `deploy/`), so the demo exercises exactly what an install applies; only what cannot hold on one
/// machine is adapted, as a port-forward would: Service references become `https://127.0.0.1:PORT`
/// URLs, the caBundle and `tlsConfig.caData` become the demo's own CA, and file paths inside the
/// container become the demo's certificate files.
struct DemoDeployment {
    /// Where the settings came from, for the narration.
    var source: String
    /// The MutatingWebhookConfiguration, before its clientConfig is pointed at the demo's webhook.
    var webhookConfiguration: JSONValue
    /// The scheduler's configuration, before its extenders are pointed at the demo's extender.
    var scheduler: SchedulerConfiguration
    /// Rebound's configuration file (YAML), nil for the defaults.
    var configYAML: String?

    /// The settings the demo uses without `--deploy`.
    static func builtIn(nodeCacheCapable: Bool, routingResource: String) -> DemoDeployment {
        DemoDeployment(
            source: "built-in settings",
            webhookConfiguration: [
                "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration", "metadata": ["name": "rebound"],
                "webhooks": [[
                    "name": "pods.rebound.io", "admissionReviewVersions": ["v1", "v1beta1"], "sideEffects": "None", "failurePolicy": "Ignore",
                    "timeoutSeconds": 5, "reinvocationPolicy": "IfNeeded", "matchPolicy": "Equivalent",
                    "clientConfig": ["service": ["namespace": "rebound-system", "name": "rebound", "path": "/mutate-pod", "port": 443]],
                    "rules": [["operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "scope": "Namespaced"]],
                    "namespaceSelector": ["matchLabels": ["carina.storage.io/allow-pod-migration-if-node-notready": "true"]],
                ]],
            ],
            scheduler: SchedulerConfiguration(extenders: [
                .init(urlPrefix: "http://rebound.rebound-system.svc:8444", filterVerb: "filter", prioritizeVerb: "prioritize", bindVerb: "bind", weight: 1,
                      nodeCacheCapable: nodeCacheCapable, managedResources: [.init(name: routingResource, ignoredByScheduler: true)]),
            ]),
            configYAML: nil)
    }

    /// Reads `base/mutatingwebhookconfiguration.yaml`, `scheduler/kube-scheduler-config.yaml` and
    /// the `config.yaml` of `base/configmap.yaml` under `directory`.
    static func load(directory: String) throws -> DemoDeployment {
        func read(_ path: String) throws -> String {
            let full = (directory as NSString).appendingPathComponent(path)
            guard let data = FileManager.default.contents(atPath: full) else { throw CLIError("--deploy: cannot read \(full); pass the repository's deploy/ directory") }
            return String(decoding: data, as: UTF8.self)
        }
        func documents(_ path: String) throws -> [JSONValue] {
            do { return try JSONValue.documents(fromYAML: try read(path)) } catch let error as CLIError { throw error } catch {
                throw CLIError("--deploy: \(path) is not valid YAML: \(error)")
            }
        }
        guard let webhook = try documents("base/mutatingwebhookconfiguration.yaml").first(where: { $0["kind"] == "MutatingWebhookConfiguration" }),
            !(webhook["webhooks"]?.arrayValue ?? []).isEmpty
        else { throw CLIError("--deploy: base/mutatingwebhookconfiguration.yaml holds no MutatingWebhookConfiguration with webhooks") }
        let scheduler: SchedulerConfiguration
        do {
            scheduler = try SchedulerConfiguration(yaml: try read("scheduler/kube-scheduler-config.yaml"))
        } catch let error as SimScenarioError {
            throw CLIError("--deploy: scheduler/kube-scheduler-config.yaml: \(error.message)")
        }
        guard !scheduler.extenders.isEmpty else { throw CLIError("--deploy: scheduler/kube-scheduler-config.yaml configures no extender") }
        guard let config = try documents("base/configmap.yaml").first(where: { $0["kind"] == "ConfigMap" })?["data"]?["config.yaml"]?.stringValue else {
            throw CLIError("--deploy: base/configmap.yaml has no ConfigMap with data.config.yaml")
        }
        return DemoDeployment(source: "the manifests in \(directory)", webhookConfiguration: webhook, scheduler: scheduler, configYAML: config)
    }

    /// The webhook configuration with every webhook calling `https://127.0.0.1:port` (keeping the
    /// manifest's path) and trusting `caPEM`.
    func webhookConfiguration(port: Int, caPEM: [UInt8]) -> JSONValue {
        var object = webhookConfiguration
        let webhooks = (object["webhooks"]?.arrayValue ?? []).map { entry -> JSONValue in
            var entry = entry
            let path = Self.path(of: entry["clientConfig"])
            entry["clientConfig"] = ["url": .string("https://127.0.0.1:\(port)\(path)"), "caBundle": .string(Data(caPEM).base64EncodedString())]
            return entry
        }
        object["webhooks"] = .array(webhooks)
        return object
    }

    /// The webhook path the configuration calls (the first webhook's), so Rebound serves it there.
    var webhookPath: String { Self.path(of: webhookConfiguration["webhooks"]?[0]?["clientConfig"]) }

    /// Whether the scheduler reaches the extender over HTTPS.
    var extenderUsesTLS: Bool { scheduler.extenders.contains { $0.urlPrefix.hasPrefix("https://") } }

    /// Whether an extender entry presents a client certificate (`tlsConfig.certFile` or `certData`).
    var extenderPresentsClientCertificate: Bool {
        scheduler.extenders.contains { $0.clientCertificateFile != nil || $0.clientCertificatePEM != nil }
    }

    /// The scheduler configuration with every extender at `127.0.0.1:port` (same scheme and path
    /// prefix), trusting `caPEM` over HTTPS and, where the manifest names a client certificate,
    /// presenting the demo's kube-scheduler certificate.
    func schedulerConfiguration(extenderPort: Int, caPEM: [UInt8], nodeCacheCapable: Bool, clientCertificate: (certificate: [UInt8], key: [UInt8])? = nil) -> SchedulerConfiguration {
        var configuration = scheduler
        configuration.extenders = scheduler.extenders.map { extender in
            var extender = extender
            let https = extender.urlPrefix.hasPrefix("https://")
            let rest = extender.urlPrefix.split(separator: "://", maxSplits: 1).last.map(String.init) ?? ""
            let prefixPath = rest.firstIndex(of: "/").map { String(rest[$0...]) } ?? ""
            extender.urlPrefix = "\(https ? "https" : "http")://127.0.0.1:\(extenderPort)\(prefixPath)"
            if https { extender.caPEM = caPEM }
            if https, extender.clientCertificateFile != nil || extender.clientCertificatePEM != nil, let clientCertificate {
                (extender.clientCertificatePEM, extender.clientKeyPEM) = clientCertificate
                (extender.clientCertificateFile, extender.clientKeyFile) = (nil, nil)
            }
            extender.nodeCacheCapable = extender.nodeCacheCapable || nodeCacheCapable
            return extender
        }
        return configuration
    }

    /// The path a webhook's clientConfig calls: its Service's `path`, or the path of its `url`.
    private static func path(of clientConfig: JSONValue?) -> String {
        if let path = clientConfig?["service"]?["path"]?.stringValue { return path }
        if let text = clientConfig?["url"]?.stringValue, let url = URL(string: text), !url.path.isEmpty { return url.path }
        return "/mutate-pod"
    }
}
