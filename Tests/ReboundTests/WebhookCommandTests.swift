import Foundation
import Kube
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `rebound certs` and the webhook inside `rebound serve`, run as an operator runs them.
@Suite("rebound certs and the webhook in rebound serve", .requiresTools("curl", "openssl"))
struct WebhookCommandTests {
    func temporaryDirectory() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rebound-certs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    func read(_ path: String) -> String { String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }

    @Test("rebound certs writes a verifiable set and prints the caBundle; --reuse-ca keeps the CA")
    func certs() async throws {
        let openssl = try #require(["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }, "openssl is not installed")
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let made = try await runCommand(ReboundBinary.path, ["certs", "--out", directory, "--service", "hook", "--namespace", "ops", "--hosts", "hook.example.com,10.9.8.7"])
        #expect(made.status == 0, "\(made.output)")
        let bundle = made.output.split(separator: "\n").last.map(String.init) ?? ""
        #expect(Data(base64Encoded: bundle).map { String(decoding: $0, as: UTF8.self) } == read(directory + "/ca.crt"))
        for name in ["ca.crt", "ca.key", "tls.crt", "tls.key", "client.crt", "client.key", "scheduler.crt", "scheduler.key"] {
            #expect(FileManager.default.fileExists(atPath: directory + "/" + name), "\(name) missing")
            let mode = (try FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == (name.hasSuffix(".key") ? 0o600 : 0o644), "\(name) has mode \(String(mode ?? 0, radix: 8))")
        }
        #expect(try await runCommand(openssl, ["verify", "-CAfile", directory + "/ca.crt", directory + "/tls.crt", directory + "/client.crt", directory + "/scheduler.crt"]).status == 0)
        let scheduler = try await runCommand(openssl, ["x509", "-in", directory + "/scheduler.crt", "-noout", "-subject", "-ext", "extendedKeyUsage"]).output
        #expect(scheduler.contains("CN = kube-scheduler") && scheduler.contains("TLS Web Client Authentication"), "\(scheduler)")
        let text = try await runCommand(openssl, ["x509", "-in", directory + "/tls.crt", "-noout", "-ext", "subjectAltName"]).output
        for name in ["DNS:hook.ops.svc", "DNS:hook.ops.svc.cluster.local", "DNS:hook.example.com", "IP Address:10.9.8.7", "IP Address:127.0.0.1", "DNS:localhost"] {
            #expect(text.contains(name), "missing \(name) in \(text)")
        }

        // The self-signed overlay's two files: the TLS Secret (serving pair and CA, never the CA key) and the caBundle patch.
        let secret = try #require(try JSONValue.documents(fromYAML: read(directory + "/secret.yaml")).first)
        #expect(secret["kind"] == "Secret" && secret["type"] == "kubernetes.io/tls")
        #expect(secret["metadata"]?["name"] == "rebound-tls" && secret["metadata"]?["namespace"] == "ops")
        let data = secret["data"]?.objectValue ?? [:]
        #expect(Set(data.keys) == ["ca.crt", "tls.crt", "tls.key"])
        for (key, file) in [("ca.crt", "ca.crt"), ("tls.crt", "tls.crt"), ("tls.key", "tls.key")] {
            #expect(data[key]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } == read(directory + "/" + file), "\(key)")
        }
        let patch = try #require(try JSONValue.documents(fromYAML: read(directory + "/webhook-ca-patch.yaml")).first?.arrayValue)
        #expect(patch == [["op": "replace", "path": "/webhooks/0/clientConfig/caBundle", "value": .string(bundle)]])
        let named = try await runCommand(ReboundBinary.path, ["certs", "--out", directory + "/named", "--secret-name", "hook-tls"])
        #expect(named.status == 0, "\(named.output)")
        #expect(read(directory + "/named/secret.yaml").contains("name: hook-tls"))
        let invalid = try await runCommand(ReboundBinary.path, ["certs", "--out", directory + "/invalid", "--namespace", "Ops_Team"])
        #expect(invalid.status != 0)
        #expect(invalid.output.contains("--namespace \"Ops_Team\" is not a Kubernetes name"), "\(invalid.output)")

        let caBefore = read(directory + "/ca.crt")
        let servingBefore = read(directory + "/tls.crt")
        let again = try await runCommand(ReboundBinary.path, ["certs", "--out", directory, "--reuse-ca"])
        #expect(again.status == 0, "\(again.output)")
        #expect(read(directory + "/ca.crt") == caBefore)
        #expect(read(directory + "/tls.crt") != servingBefore)
        #expect(again.output.split(separator: "\n").last.map(String.init) == bundle)
        #expect(try await runCommand(openssl, ["verify", "-CAfile", directory + "/ca.crt", directory + "/tls.crt"]).status == 0)

        let bad = try await runCommand(ReboundBinary.path, ["certs", "--out", directory + "/empty", "--reuse-ca"])
        #expect(bad.status != 0)
        #expect(bad.output.contains("cannot read ca.crt and ca.key"))

        // The development CA committed in certs/ (its key is public) signs nothing unless asked to, loudly.
        try FileManager.default.createDirectory(atPath: directory + "/dev", withIntermediateDirectories: true)
        for name in ["ca.crt", "ca.key"] { try FileManager.default.copyItem(atPath: TestCertificates.path(name), toPath: directory + "/dev/" + name) }
        let refused = try await runCommand(ReboundBinary.path, ["certs", "--out", directory + "/dev", "--reuse-ca"])
        #expect(refused.status != 0 && refused.output.contains("development CA committed in Rebound's repository"), "\(refused.output)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/dev/tls.crt"))
        let allowed = try await runCommand(ReboundBinary.path, ["certs", "--out", directory + "/dev", "--reuse-ca", "--allow-development-ca"])
        #expect(allowed.status == 0 && allowed.output.contains("WARNING: signing with the development CA"), "\(allowed.output)")
    }

    @Test("rebound serve answers AdmissionReviews over TLS from its caches and counts them")
    func serveWebhook() async throws {
        let curl = try #require(["/usr/bin/curl", "/usr/local/bin/curl"].first { FileManager.default.isExecutableFile(atPath: $0) }, "curl is not installed")
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let root = URL(fileURLWithPath: TestCertificates.directory).deletingLastPathComponent().path
        let kubeconfig = directory + "/kubeconfig"
        let sim = try ChildProcess(ReboundBinary.path, ["sim", "--port", "0", "--scenario", root + "/Benchmarks/webhook/scenario.yaml", "--kubeconfig-out", kubeconfig, "--log-level", "warning"])
        defer { Task { await sim.stop() } }
        try #require(await sim.waitForLine { $0.hasPrefix("ClusterSim API server:") } != nil, "rebound sim did not start: \(sim.printed)")

        let webhookPort = try freePort(), healthPort = try freePort()
        let serve = try ChildProcess(ReboundBinary.path, [
            "serve", "--kubeconfig", kubeconfig, "--set", "webhook.address=127.0.0.1", "--set", "webhook.port=\(webhookPort)",
            "--set", "webhook.tls.certFile=\(TestCertificates.path("tls.crt"))", "--set", "webhook.tls.keyFile=\(TestCertificates.path("tls.key"))",
            "--set", "health.address=127.0.0.1", "--set", "health.port=\(healthPort)",
        ])
        defer { Task { await serve.stop() } }
        try #require(await serve.waitForLine { $0.contains("admission webhook listening") } != nil, "no webhook: \(serve.printed.joined(separator: "\n"))")
        try #require(await serve.waitForLine { $0.contains("caches synced") } != nil, "caches did not sync: \(serve.printed.joined(separator: "\n"))")

        let post = try await runCommand(curl, [
            "-sS", "--cacert", TestCertificates.path("ca.crt"), "-H", "Content-Type: application/json",
            "--data-binary", "@" + root + "/Benchmarks/webhook/review.json", "https://127.0.0.1:\(webhookPort)/mutate-pod",
        ])
        #expect(post.status == 0, "\(post.output)")
        #expect(post.output.contains(#""patchType":"JSONPatch""#), "\(post.output)")
        #expect(post.output.contains(#""uid":"705ab4f5-6393-11e8-b7cc-42010a800002""#))

        let metrics = try await runCommand(curl, ["-sS", "http://127.0.0.1:\(healthPort)/metrics"]).output
        #expect(metrics.contains(#"rebound_webhook_requests_total{result="patched"} 1"#), "\(metrics)")
    }
}

/// A TCP port nothing listens on right now (for processes that need a fixed port).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}
