import ReboundConfig
import Foundation
import Kube
import TestSupport
import Testing

@testable import rebound

/// The install manifests must agree with the code: ports, paths, keys, resource names and RBAC.
@Suite("deploy/ agrees with the code")
struct DeployManifestTests {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("deploy/base").path) { return url.path }
        }
        fatalError("deploy/ not found")
    }()

    func documents(_ path: String) throws -> [JSONValue] {
        let text = try String(contentsOfFile: Self.root + "/" + path, encoding: .utf8)
        return try JSONValue.documents(fromYAML: text)
    }

    func object(_ path: String, kind: String, name: String? = nil) throws -> JSONValue {
        try #require(try documents(path).first { $0["kind"]?.stringValue == kind && (name == nil || $0["metadata"]?["name"]?.stringValue == name) })
    }

    /// The configuration the Deployment runs with, loaded as `rebound serve` would load it.
    func deployedConfig() throws -> ResolvedConfig {
        let map = try object("deploy/base/configmap.yaml", kind: "ConfigMap")
        let text = try #require(map["data"]?["config.yaml"]?.stringValue)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rebound-deployed-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ConfigLoader.load(file: path, environment: [:], overrides: [])
    }

    @Test("RBAC grants exactly the permissions the code uses")
    func rbac() throws {
        func rules(_ object: JSONValue) -> Set<RequiredPermissions.Rule> {
            var result: Set<RequiredPermissions.Rule> = []
            for rule in object["rules"]?.arrayValue ?? [] {
                for group in rule["apiGroups"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                    for resource in rule["resources"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                        result.insert(.init(
                            group: group, resource: resource, verbs: Set(rule["verbs"]?.arrayValue?.compactMap(\.stringValue) ?? []),
                            resourceNames: Set(rule["resourceNames"]?.arrayValue?.compactMap(\.stringValue) ?? [])))
                    }
                }
            }
            return result
        }
        #expect(rules(try object("deploy/base/rbac.yaml", kind: "ClusterRole")) == Set(RequiredPermissions.cluster))
        #expect(rules(try object("deploy/base/rbac.yaml", kind: "Role")) == Set(RequiredPermissions.ownNamespace))
        let binding = try object("deploy/base/rbac.yaml", kind: "ClusterRoleBinding")
        #expect(binding["subjects"]?[0]?["name"] == "rebound" && binding["subjects"]?[0]?["namespace"] == "rebound-system")
        let config = try deployedConfig()
        let role = try object("deploy/base/rbac.yaml", kind: "Role")
        #expect(role["metadata"]?["namespace"]?.stringValue == config.string("leaderElection.namespace"))
        #expect(RequiredPermissions.ownNamespace.first?.resourceNames == [config.string("leaderElection.leaseName")])
        #expect(RequiredPermissions.ownNamespace.first { $0.resource == "configmaps" }?.resourceNames == [config.string("extender.sharedLedger.name")])
        #expect(config.string("extender.sharedLedger.namespace") == config.string("leaderElection.namespace"))
    }

    @Test("ports, probes and mounts match the configuration")
    func deployment() throws {
        let config = try deployedConfig()
        let deployment = try object("deploy/base/deployment.yaml", kind: "Deployment")
        let container = try #require(deployment["spec"]?["template"]?["spec"]?["containers"]?[0])
        var ports: [String: Int64] = [:]
        for port in container["ports"]?.arrayValue ?? [] { ports[port["name"]?.stringValue ?? ""] = port["containerPort"]?.intValue }
        #expect(ports["webhook"] == Int64(config.int("webhook.port")))
        #expect(ports["extender"] == Int64(config.int("extender.port")))
        #expect(ports["health"] == Int64(config.int("health.port")))
        #expect(container["livenessProbe"]?["httpGet"]?["path"] == "/healthz")
        #expect(container["readinessProbe"]?["httpGet"]?["path"] == "/readyz")
        let mounts = container["volumeMounts"]?.arrayValue ?? []
        let tlsMount = try #require(mounts.first { $0["name"] == "tls" }?["mountPath"]?.stringValue)
        #expect(config.string("webhook.tls.certFile").hasPrefix(tlsMount + "/"))
        #expect(config.string("extender.tls.certFile").hasPrefix(tlsMount + "/"))
        #expect(container["securityContext"]?["readOnlyRootFilesystem"] == .bool(true))
        #expect(container["securityContext"]?["allowPrivilegeEscalation"] == .bool(false))
        #expect(container["securityContext"]?["capabilities"]?["drop"] == ["ALL"])
        #expect(deployment["spec"]?["template"]?["spec"]?["securityContext"]?["runAsNonRoot"] == .bool(true))
        #expect(deployment["spec"]?["replicas"] == .number("2"))
        #expect(config.bool("leaderElection.enabled"))

        let service = try object("deploy/base/service.yaml", kind: "Service")
        let targets = Set(service["spec"]?["ports"]?.arrayValue?.compactMap { $0["targetPort"]?.stringValue } ?? [])
        #expect(targets.isSubset(of: Set(ports.keys)))
    }

    @Test("the webhook configuration matches the server and the opt-in label")
    func webhook() throws {
        let config = try deployedConfig()
        let configuration = try object("deploy/base/mutatingwebhookconfiguration.yaml", kind: "MutatingWebhookConfiguration")
        let webhook = try #require(configuration["webhooks"]?[0])
        #expect(webhook["clientConfig"]?["service"]?["path"]?.stringValue == config.string("webhook.path"))
        let service = try object("deploy/base/service.yaml", kind: "Service")
        let port = webhook["clientConfig"]?["service"]?["port"]?.intValue
        #expect(service["spec"]?["ports"]?.arrayValue?.contains { $0["port"]?.intValue == port && $0["targetPort"] == "webhook" } == true)
        let expressions = webhook["namespaceSelector"]?["matchExpressions"]?.arrayValue ?? []
        #expect(expressions.contains { $0["key"]?.stringValue == config.string("compat.namespaceLabel") && $0["values"] == ["true"] })
        #expect(expressions.contains { $0["key"] == "kubernetes.io/metadata.name" && $0["operator"] == "NotIn" && $0["values"]?.arrayValue?.contains("rebound-system") == true })
        #expect(webhook["failurePolicy"] == "Ignore")
        #expect(webhook["reinvocationPolicy"] == "IfNeeded")
        #expect(webhook["admissionReviewVersions"] == ["v1", "v1beta1"])
    }

    @Test("both scheduler configurations name the extender's verbs, port and routing resource", arguments: [
        "deploy/scheduler/kube-scheduler-config.yaml", "deploy/scheduler/second-scheduler.yaml",
    ])
    func scheduler(_ path: String) throws {
        let config = try deployedConfig()
        var document = try #require(try documents(path).first { $0["kind"] == "KubeSchedulerConfiguration" || $0["kind"] == "ConfigMap" })
        if document["kind"] == "ConfigMap" {
            let embedded = try #require(document["data"]?["scheduler-config.yaml"]?.stringValue)
            document = try #require(try JSONValue.documents(fromYAML: embedded).first)
        }
        let extender = try #require(document["extenders"]?[0])
        #expect(extender["filterVerb"]?.stringValue == String(config.string("extender.filterPath").dropFirst()))
        #expect(extender["prioritizeVerb"]?.stringValue == String(config.string("extender.prioritizePath").dropFirst()))
        #expect(extender["bindVerb"]?.stringValue == String(config.string("extender.bindPath").dropFirst()))
        #expect(extender["urlPrefix"]?.stringValue?.hasSuffix(":\(config.int("extender.port"))") == true)
        #expect(extender["enableHTTPS"] == .bool(!config.string("extender.tls.certFile").isEmpty))
        #expect(extender["managedResources"]?[0]?["name"]?.stringValue == config.string("capacity.routingResource"))
        #expect(extender["managedResources"]?[0]?["ignoredByScheduler"] == .bool(true))
    }

    @Test("the example StorageClass is local to Rebound and names a volume group")
    func examples() throws {
        let config = try deployedConfig()
        let storageClass = try object("deploy/examples/storageclass.yaml", kind: "StorageClass").decode(as: StorageClass.self)
        #expect(config.compatibilityKeys.volumeGroup(of: storageClass) == "carina-vg-hdd")
        let namespace = try object("deploy/examples/mysql-statefulset.yaml", kind: "Namespace")
        #expect(namespace["metadata"]?["labels"]?[config.string("compat.namespaceLabel")] == "true")
    }

    @Test(
        "every manifest, the rendered overlays included, validates strictly against the Kubernetes schemas",
        .requiresTools("kubectl", "kubernetes-validate"))
    func schemas() async throws {
        let result = try await runCommand("/bin/bash", [Self.root + "/deploy/validate.sh", ReboundBinary.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("objects valid against Kubernetes"), "\(result.output)")
    }

    @Test("the demo's built-in webhook and extender settings are deploy/'s, apart from addresses")
    func demoBuiltInMatchesDeploy() throws {
        let deployed = try DemoDeployment.load(directory: Self.root + "/deploy")
        let builtIn = DemoDeployment.builtIn(nodeCacheCapable: false, routingResource: try deployedConfig().string("capacity.routingResource"))
        let fields = ["name", "admissionReviewVersions", "sideEffects", "failurePolicy", "timeoutSeconds", "reinvocationPolicy", "matchPolicy", "rules"]
        let ours = try #require(builtIn.webhookConfiguration["webhooks"]?[0])
        let theirs = try #require(deployed.webhookConfiguration["webhooks"]?[0])
        for field in fields { #expect(ours[field] == theirs[field], "webhooks[0].\(field)") }
        #expect(builtIn.webhookPath == deployed.webhookPath)
        let (a, b) = (try #require(builtIn.scheduler.extenders.first), try #require(deployed.scheduler.extenders.first))
        #expect(a.filterVerb == b.filterVerb && a.prioritizeVerb == b.prioritizeVerb && a.bindVerb == b.bindVerb)
        #expect(a.managedResources.map(\.name) == b.managedResources.map(\.name))
        #expect(a.managedResources.map(\.ignoredByScheduler) == b.managedResources.map(\.ignoredByScheduler))
        // Pointed at the demo: URLs on 127.0.0.1, the demo's CA trusted.
        let pointed = deployed.webhookConfiguration(port: 9443, caPEM: Array("PEM".utf8))
        #expect(pointed["webhooks"]?[0]?["clientConfig"] == ["url": "https://127.0.0.1:9443/mutate-pod", "caBundle": "UEVN"])
        let scheduler = deployed.schedulerConfiguration(extenderPort: 9444, caPEM: Array("PEM".utf8), nodeCacheCapable: false)
        #expect(scheduler.extenders.first?.urlPrefix == "https://127.0.0.1:9444")
        #expect(scheduler.extenders.first?.caPEM == Array("PEM".utf8))
        #expect(scheduler.extenders.first?.nodeCacheCapable == true)
    }
}
