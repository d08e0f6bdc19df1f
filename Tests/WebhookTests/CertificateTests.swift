import Foundation
import TestSupport
import Testing
import Webhook
import X509

/// Certificates made with swift-certificates, checked by openssl.
@Suite("Webhook certificates", .requiresTools("openssl"))
struct CertificateTests {
    @Test("a generated set verifies with openssl, with the Service's names and the right usages")
    func generatedSetVerifies() async throws {
        let openssl = try tool("openssl", package: "openssl")
        try await withTemporaryDirectory { directory in
            let set = try WebhookCertificates.generate(service: "hook", namespace: "ops", hosts: ["hook.example.com", "10.0.0.7"])
            try set.write(to: directory)
            let verify = try await run(openssl, ["verify", "-CAfile", directory + "/ca.crt", directory + "/tls.crt", directory + "/client.crt"])
            #expect(verify.status == 0, "\(verify.output)")
            let serving = try await run(openssl, ["x509", "-in", directory + "/tls.crt", "-noout", "-text"]).output
            for name in ["DNS:hook", "DNS:hook.ops", "DNS:hook.ops.svc", "DNS:hook.ops.svc.cluster.local", "DNS:localhost", "DNS:hook.example.com",
                         "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1", "IP Address:10.0.0.7", "TLS Web Server Authentication", "prime256v1"] {
                #expect(serving.contains(name), "tls.crt lacks \(name)")
            }
            #expect(!serving.contains("TLS Web Client Authentication"))
            let client = try await run(openssl, ["x509", "-in", directory + "/client.crt", "-noout", "-text"]).output
            #expect(client.contains("TLS Web Client Authentication"))
            let ca = try await run(openssl, ["x509", "-in", directory + "/ca.crt", "-noout", "-text"]).output
            #expect(ca.contains("CA:TRUE, pathlen:0"))
            // Keys are the owner's alone; the caBundle is the CA's PEM in base64.
            let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/tls.key")
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            #expect(Data(base64Encoded: set.caBundle) == FileManager.default.contents(atPath: directory + "/ca.crt"))
            // The key openssl reads is the one in the certificate.
            let fromKey = try await run(openssl, ["pkey", "-in", directory + "/tls.key", "-pubout"]).output
            let fromCertificate = try await run(openssl, ["x509", "-in", directory + "/tls.crt", "-noout", "-pubkey"]).output
            #expect(fromKey == fromCertificate)
        }
    }

    @Test("the committed certs/ serve the in-cluster names and localhost, and chain to certs/ca.crt")
    func committedCertificates() throws {
        let serving = try Certificate(pemEncoded: String(decoding: TestCertificates.serverCertificatePEM, as: UTF8.self))
        let ca = try Certificate(pemEncoded: String(decoding: TestCertificates.caPEM, as: UTF8.self))
        #expect(serving.issuer == ca.subject)
        let names = try #require(try serving.extensions.subjectAlternativeNames)
        let dnsNames = names.compactMap { if case .dnsName(let name) = $0 { name } else { nil } }
        for name in ["rebound", "rebound.rebound-system", "rebound.rebound-system.svc", "rebound.rebound-system.svc.cluster.local", "localhost"] {
            #expect(dnsNames.contains(name), "certs/tls.crt lacks \(name)")
        }
        #expect(names.contains(.ipAddress(.init(contentBytes: [127, 0, 0, 1]))))
        #expect(serving.notValidAfter > Date().addingTimeInterval(180 * 86_400), "certs/tls.crt expires soon; run `rebound certs`")
    }
}
