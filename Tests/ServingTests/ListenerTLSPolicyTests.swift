import Foundation
import Serving
import TestSupport
import Testing

/// TLS hygiene on every listener: the suites offered, client certificates (CA, names) and the
/// client CA's rotation without a restart.
@Suite("Listener TLS policy and client certificates", .serialized, .requiresTools("curl", "openssl"))
struct ListenerTLSPolicyTests {
    static let limits = ListenerLimits()

    /// Runs `openssl s_client` against the listener; true when the handshake completed.
    func handshake(_ port: Int, _ options: [String]) async throws -> (ok: Bool, output: String) {
        let openssl = try tool("openssl", package: "openssl")
        let result = try await run(openssl, ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost"] + options, input: "", timeout: .seconds(20))
        let ok = result.status == 0 && result.output.contains("Cipher is") && !result.output.contains("Cipher is (NONE)")
        return (ok, result.output)
    }

    @Test("TLS 1.3 is preferred; TLS 1.2 offers ECDHE with AES-GCM or ChaCha20-Poly1305 only: RSA key exchange and CBC suites are refused")
    func cipherSuites() async throws {
        try await RunningListener.with(limits: Self.limits) { listener in
            let modern = try await handshake(listener.port, [])
            #expect(modern.ok && modern.output.contains("TLSv1.3"), "\(modern.output)")
            for suite in ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"] {
                let accepted = try await handshake(listener.port, ["-tls1_2", "-cipher", suite])
                #expect(accepted.ok && accepted.output.contains(suite), "\(suite) refused: \(accepted.output)")
            }
            for suite in ["ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-ECDSA-AES128-SHA", "AES128-GCM-SHA256", "AES256-SHA256", "AES128-SHA"] {
                let refused = try await handshake(listener.port, ["-tls1_2", "-cipher", suite])
                #expect(!refused.ok, "\(suite) was accepted")
            }
            let old = try await handshake(listener.port, ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
            #expect(!old.ok, "TLS 1.1 was accepted")
        }
    }

    /// Writes a CA certificate of its own (made with openssl) to `file`.
    func writeStrangerCA(to file: String) async throws {
        let openssl = try tool("openssl", package: "openssl")
        let result = try await run(openssl, [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", file + ".key",
            "-out", file, "-subj", "/CN=stranger CA", "-days", "1",
        ])
        #expect(result.status == 0, "\(result.output)")
    }

    func tls(clientCA: String, names: [String] = []) -> ListenerTLS {
        var tls = ListenerTLS(certificateFile: TestCertificates.path("tls.crt"), keyFile: TestCertificates.path("tls.key"), clientCAFile: clientCA)
        tls.allowedClientNames = names
        tls.reloadInterval = .milliseconds(100)
        return tls
    }

    static let clientCertificate = ["--cert", TestCertificates.path("client.crt"), "--key", TestCertificates.path("client.key")]

    @Test("with a client CA and allowed names, only a certificate from that CA carrying an allowed name is served")
    func allowedNames() async throws {
        let allowed = tls(clientCA: TestCertificates.path("ca.crt"), names: ["rebound-client", "kube-scheduler"])
        let listener = try await RunningListener.start(limits: Self.limits, tlsSettings: allowed)
        let without = try await listener.curl([])
        #expect(without.code != "200", "served without a client certificate")
        for version in ["--http1.1", "--http2"] {
            let with = try await listener.curl([version] + Self.clientCertificate)
            #expect(with.code == "200", "\(version): \(with)")
        }
        await listener.stop()

        let others = tls(clientCA: TestCertificates.path("ca.crt"), names: ["kube-scheduler"])
        let strict = try await RunningListener.start(limits: Self.limits, tlsSettings: others)
        let wrongName = try await strict.curl(Self.clientCertificate)
        #expect(wrongName.code != "200", "served a certificate naming rebound-client, not kube-scheduler")
        await strict.stop()
    }

    @Test("a rotated client CA is used for new connections without restarting the listener")
    func clientCARotation() async throws {
        try await withTemporaryDirectory { directory in
            let caFile = directory + "/client-ca.crt"
            try await writeStrangerCA(to: caFile)
            let listener = try await RunningListener.start(limits: Self.limits, tlsSettings: tls(clientCA: caFile))
            let before = try await listener.curl(Self.clientCertificate)
            #expect(before.code != "200", "served a client certificate the configured CA did not sign")

            try Data(TestCertificates.caPEM).write(to: URL(fileURLWithPath: caFile), options: .atomic)
            var after = (status: Int32(0), code: "", body: "")
            for _ in 0..<50 {
                after = try await listener.curl(Self.clientCertificate)
                if after.code == "200" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(after.code == "200", "the new client CA was not taken: \(after)")

            // A broken rewrite keeps the CA in service.
            try "not a certificate".write(toFile: caFile, atomically: true, encoding: .utf8)
            try await Task.sleep(for: .milliseconds(400))
            let kept = try await listener.curl(Self.clientCertificate)
            #expect(kept.code == "200", "\(kept)")
            await listener.stop()
        }
    }
}
