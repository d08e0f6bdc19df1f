import Foundation
import TestSupport
import Testing

let kubectlPath = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// `rebound sim` as an operator runs it, driven by the installed kubectl.
@Suite("kubectl against rebound sim", .requiresTools("kubectl"))
struct KubectlTests {
    static let scenario = """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: mysql
          labels:
            carina.storage.io/allow-pod-migration-if-node-notready: "true"
        ---
        apiVersion: v1
        kind: Node
        metadata:
          name: dev1-node-2
          labels: {kubernetes.io/hostname: dev1-node-2}
        status:
          allocatable: {carina.storage.io/carina-vg-hdd: "188", carina.storage.io/carina-vg-ssd: "189", cpu: "4", memory: 8Gi}
          conditions:
          - {type: Ready, status: "True"}
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: my-cluster-mysql-0
          namespace: mysql
        spec:
          nodeName: dev1-node-2
          containers: [{name: mysql, image: mysql:8}]
        status:
          phase: Running
        """

    static let pod = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
          namespace: mysql
          labels: {app: web}
        spec:
          containers:
          - name: c
            image: busybox
        """

    @Test("create -f, get -o json, get --watch, label, annotate, force delete")
    func kubectlWorkflow() async throws {
        let kubectl = try #require(kubectlPath)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rebound-kubectl-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/home", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.scenario.write(toFile: directory + "/scenario.yaml", atomically: true, encoding: .utf8)
        try Self.pod.write(toFile: directory + "/pod.yaml", atomically: true, encoding: .utf8)
        let kubeconfig = directory + "/kubeconfig"

        let sim = try ChildProcess(ReboundBinary.path, ["sim", "--port", "0", "--scenario", directory + "/scenario.yaml", "--kubeconfig-out", kubeconfig, "--log-level", "warning"])
        defer { Task { await sim.stop() } }
        let ready = await sim.waitForLine { $0.hasPrefix("ClusterSim API server:") }
        try #require(ready != nil, "rebound sim did not start: \(sim.printed.joined(separator: "\n"))")

        // A fresh HOME keeps kubectl's discovery cache from leaking between runs.
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = directory + "/home"
        environment["KUBECONFIG"] = kubeconfig
        func kubectlRun(_ arguments: String...) async throws -> (status: Int32, output: String) {
            try await runCommand(kubectl, arguments, environment: environment)
        }

        // The scenario's node and pod came in with their status as written.
        let nodes = try await kubectlRun("get", "nodes")
        #expect(nodes.status == 0)
        #expect(nodes.output.contains("dev1-node-2") && nodes.output.contains("Ready"))
        let scenarioPod = try await kubectlRun("get", "pod", "my-cluster-mysql-0", "-n", "mysql", "-o", "json")
        #expect(scenarioPod.status == 0)
        let podJSON = try JSONSerialization.jsonObject(with: Data(scenarioPod.output.utf8)) as? [String: Any]
        #expect((podJSON?["status"] as? [String: Any])?["phase"] as? String == "Running")

        // A watch started before the create sees it.
        let watch = try ChildProcess(kubectl, ["get", "pods", "-n", "mysql", "--watch", "-o", "json"], environment: environment)
        defer { Task { await watch.stop() } }
        #expect(await watch.waitForLine { $0.contains("\"name\": \"my-cluster-mysql-0\"") } != nil)

        let created = try await kubectlRun("create", "-f", directory + "/pod.yaml")
        #expect(created.status == 0, "\(created.output)")
        #expect(created.output.contains("pod/web created"))
        #expect(await watch.waitForLine { $0.contains("\"name\": \"web\"") } != nil, "the watch did not report the new pod")

        let again = try await kubectlRun("create", "-f", directory + "/pod.yaml")
        #expect(again.status != 0)
        #expect(again.output.contains("AlreadyExists"))

        #expect(try await kubectlRun("label", "pod", "web", "-n", "mysql", "tier=frontend").output.contains("pod/web labeled"))
        #expect(try await kubectlRun("annotate", "pod", "web", "-n", "mysql", "example.com/note=hello").output.contains("pod/web annotated"))
        let fetched = try await kubectlRun("get", "pod", "web", "-n", "mysql", "-o", "json")
        let object = try JSONSerialization.jsonObject(with: Data(fetched.output.utf8)) as? [String: Any]
        let metadata = object?["metadata"] as? [String: Any]
        #expect((metadata?["labels"] as? [String: String]) == ["app": "web", "tier": "frontend"])
        #expect((metadata?["annotations"] as? [String: String])?["example.com/note"] == "hello")

        let selected = try await kubectlRun("get", "pods", "-n", "mysql", "-l", "tier in (frontend,backend)", "-o", "name")
        #expect(selected.output.trimmingCharacters(in: .whitespacesAndNewlines) == "pod/web")

        // The install manifests (kustomize, cert-manager overlay) and the examples go in as a user would send them.
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let installed = try await kubectlRun("create", "-k", repository + "/deploy/overlays/cert-manager")
        #expect(installed.status == 0, "\(installed.output)")
        for line in ["deployment.apps/rebound created", "clusterrole.rbac.authorization.k8s.io/rebound created",
                     "mutatingwebhookconfiguration.admissionregistration.k8s.io/rebound created", "certificate.cert-manager.io/rebound-serving created",
                     "poddisruptionbudget.policy/rebound created"] {
            #expect(installed.output.contains(line), "missing: \(line)")
        }
        // The scenario already made the mysql namespace, so that one object fails, as it would on a cluster.
        let examples = try await kubectlRun("create", "-f", repository + "/deploy/examples/")
        #expect(examples.output.contains("statefulset.apps/my-cluster-mysql created"), "\(examples.output)")
        #expect(examples.output.contains("storageclass.storage.k8s.io/csi-carina-sc created"))
        #expect(examples.output.contains("namespaces \"mysql\" already exists"))

        let deleted = try await kubectlRun("delete", "pod", "web", "-n", "mysql", "--grace-period=0", "--force")
        #expect(deleted.status == 0, "\(deleted.output)")
        #expect(deleted.output.contains("force deleted"))
        let missing = try await kubectlRun("get", "pod", "web", "-n", "mysql")
        #expect(missing.status != 0)
        #expect(missing.output.contains("NotFound"))
    }
}
