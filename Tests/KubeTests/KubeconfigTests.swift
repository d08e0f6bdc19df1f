import ClusterSim
import Foundation
import Kube
import TestSupport
import Testing

/// A scratch directory removed at the end of a test.
struct ScratchDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("rebound-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ contents: String) throws {
        try contents.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
    }

    func write(_ name: String, bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path + "/" + name))
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

/// Connects with a configuration and reads the default namespace, proving the whole path works.
func canReadDefaultNamespace(_ configuration: KubeClientConfiguration) async throws -> Bool {
    let client = try KubeClient(configuration)
    do {
        let namespace = try await client.get(Namespace.self, "default")
        try await client.shutdown()
        return namespace.name == "default"
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// A kubeconfig with a `main` context (the current one) and an `elsewhere` context; `cluster` and
/// `user` are extra lines for the cluster and user entries.
func kubeconfig(server: String, cluster: [String], user: [String], namespace: String = "default") -> String {
    var lines = ["apiVersion: v1", "kind: Config", "current-context: main", "clusters:", "- name: sim", "  cluster:", "    server: \(server)"]
    lines += cluster.map { "    " + $0 }
    lines += ["- name: other", "  cluster:", "    server: https://192.0.2.1:6443", "users:", "- name: me", "  user:"]
    lines += user.isEmpty ? ["    {}"] : user.map { "    " + $0 }
    lines += ["contexts:", "- name: main", "  context:", "    cluster: sim", "    user: me", "    namespace: \(namespace)"]
    lines += ["- name: elsewhere", "  context:", "    cluster: other", "    user: me"]
    return lines.joined(separator: "\n") + "\n"
}

@Suite("Kubeconfig and in-cluster configuration over real TLS")
struct KubeconfigTests {
    @Test("certificate-authority file (relative) and a static token")
    func caFileAndToken() async throws {
        let sim = try await RunningSim.start(tls: true, tokens: ["s3cret"])
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write("ca.pem", bytes: TestCertificates.caPEM)
        try scratch.write("config", kubeconfig(server: sim.url, cluster: ["certificate-authority: ca.pem"], user: ["token: s3cret"], namespace: "apps"))
        let configuration = try KubeClientConfiguration.kubeconfig(path: scratch.path + "/config")
        #expect(configuration.namespace == "apps")
        #expect(try await canReadDefaultNamespace(configuration))

        // The wrong token is refused with a typed error.
        var wrong = configuration
        wrong.token = .fixed("nope")
        let refused = await #expect(throws: KubeAPIError.self) { _ = try await canReadDefaultNamespace(wrong) }
        #expect(refused?.reason == .unauthorized)
        await sim.stop()
    }

    @Test("certificate-authority-data and a token file")
    func caDataAndTokenFile() async throws {
        let sim = try await RunningSim.start(tls: true, tokens: ["from-file"])
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write("token", "from-file\n")
        try scratch.write("config", kubeconfig(server: sim.url, cluster: ["certificate-authority-data: \(base64(TestCertificates.caPEM))"], user: ["tokenFile: token"]))
        #expect(try await canReadDefaultNamespace(try .kubeconfig(path: scratch.path + "/config")))
        await sim.stop()
    }

    @Test("client certificate and key files, with the server requiring them")
    func clientCertificateFiles() async throws {
        let sim = try await RunningSim.start(tls: true, requireClientCertificates: true)
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write("client.crt", bytes: TestCertificates.clientCertificatePEM)
        try scratch.write("client.key", bytes: TestCertificates.clientKeyPEM)
        try scratch.write("config", kubeconfig(
            server: sim.url, cluster: ["certificate-authority-data: \(base64(TestCertificates.caPEM))"],
            user: ["client-certificate: \(scratch.path)/client.crt", "client-key: client.key"]))
        let configuration = try KubeClientConfiguration.kubeconfig(path: scratch.path + "/config")
        #expect(try await canReadDefaultNamespace(configuration))

        // Without the certificate the TLS handshake fails.
        var anonymous = configuration
        anonymous.clientCertificatePEM = nil
        anonymous.clientKeyPEM = nil
        await #expect(throws: (any Error).self) { _ = try await canReadDefaultNamespace(anonymous) }
        await sim.stop()
    }

    @Test("client certificate and key data with insecure-skip-tls-verify")
    func clientCertificateDataInsecure() async throws {
        let sim = try await RunningSim.start(tls: true, requireClientCertificates: true)
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try scratch.write("config", kubeconfig(
            server: sim.url, cluster: ["insecure-skip-tls-verify: true"],
            user: ["client-certificate-data: \(base64(TestCertificates.clientCertificatePEM))", "client-key-data: \(base64(TestCertificates.clientKeyPEM))"]))
        let configuration = try KubeClientConfiguration.kubeconfig(path: scratch.path + "/config")
        #expect(configuration.insecureSkipTLSVerify)
        #expect(try await canReadDefaultNamespace(configuration))

        // Verification on and no CA: the development CA is not a system root, so this fails.
        var verifying = configuration
        verifying.insecureSkipTLSVerify = false
        verifying.connectTimeout = .milliseconds(500)
        await #expect(throws: (any Error).self) { _ = try await canReadDefaultNamespace(verifying) }
        await sim.stop()
    }

    @Test("contexts: current-context by default, another by name, clear errors for missing parts")
    func contexts() throws {
        let text = kubeconfig(server: "https://127.0.0.1:1", cluster: ["insecure-skip-tls-verify: true"], user: ["token: t"])
        let current = try KubeClientConfiguration.kubeconfig(yaml: text, baseDirectory: "/")
        #expect(current.server == "https://127.0.0.1:1")
        let other = try KubeClientConfiguration.kubeconfig(yaml: text, baseDirectory: "/", context: "elsewhere")
        #expect(other.server == "https://192.0.2.1:6443")
        #expect(other.token == .fixed("t"))

        #expect(throws: KubeClientError.self) { try KubeClientConfiguration.kubeconfig(yaml: text, baseDirectory: "/", context: "missing") }
        let missingFile = #expect(throws: KubeClientError.self) { try KubeClientConfiguration.kubeconfig(path: "/nonexistent/config") }
        #expect(missingFile?.description.contains("/nonexistent/config") == true)
        let halfCertificate = kubeconfig(server: "https://x", cluster: [], user: ["client-certificate-data: \(base64(TestCertificates.clientCertificatePEM))"])
        let certificateError = #expect(throws: KubeClientError.self) { try KubeClientConfiguration.kubeconfig(yaml: halfCertificate, baseDirectory: "/") }
        #expect(certificateError?.description.contains("without a key") == true)
        #expect(throws: KubeClientError.self) { try KubeClientConfiguration.kubeconfig(yaml: "not: [valid", baseDirectory: "/") }
    }

    @Test("in-cluster: service-account token, CA and namespace; a rotated token is picked up after a 401")
    func inClusterWithRotation() async throws {
        let sim = try await RunningSim.start(tls: true, tokens: ["token-1"])
        let account = try ScratchDirectory()
        defer { account.remove() }
        try account.write("token", "token-1")
        try account.write("ca.crt", bytes: TestCertificates.caPEM)
        try account.write("namespace", "rebound-system\n")
        let port = await sim.server.port
        let configuration = try KubeClientConfiguration.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": String(port)],
            serviceAccountDirectory: account.path)
        #expect(configuration.server == "https://127.0.0.1:\(port)")
        #expect(configuration.namespace == "rebound-system")

        let client = try KubeClient(configuration)
        #expect(try await client.get(Namespace.self, "default").name == "default")
        // The kubelet rotates the projected token; the server stops accepting the old one.
        try account.write("token", "token-2")
        await sim.auth.setTokens(["token-2"])
        let namespace = try await client.get(Namespace.self, "kube-system")
        #expect(namespace.name == "kube-system")
        try await client.shutdown()

        #expect(throws: KubeClientError.self) { try KubeClientConfiguration.inCluster(environment: [:], serviceAccountDirectory: account.path) }
        await sim.stop()
    }
}
