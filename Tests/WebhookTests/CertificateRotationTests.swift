import AsyncHTTPClient
import Foundation
import Kube
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import TestSupport
import Testing
import Serving
import Webhook

/// cert-manager rotates the serving certificate in place; the webhook must follow without
/// dropping the listener or failing requests in flight.
@Suite("Certificate rotation", .requiresTools("openssl"))
struct CertificateRotationTests {
    /// Copies the development CA and serving pair into `directory`.
    func copyCertificates(to directory: String) throws {
        for name in ["ca.crt", "ca.key", "tls.crt", "tls.key"] {
            try FileManager.default.copyItem(atPath: TestCertificates.path(name), toPath: directory + "/" + name)
        }
    }

    /// The leaf certificate a fresh handshake is served, as `openssl x509 -text`.
    func servedCertificate(port: Int, ca: String) async throws -> String {
        let openssl = try tool("openssl", package: "openssl")
        let handshake = try await run(openssl, ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", ca, "-verify_return_error"], input: "")
        #expect(handshake.output.contains("Verify return code: 0 (ok)"), "\(handshake.output)")
        guard let begin = handshake.output.range(of: "-----BEGIN CERTIFICATE-----"),
            let end = handshake.output.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<handshake.output.endIndex)
        else { throw FixtureError("no certificate in openssl's output: \(handshake.output)") }
        let pem = String(handshake.output[begin.lowerBound..<end.upperBound]) + "\n"
        return try await run(openssl, ["x509", "-noout", "-text"], input: pem).output
    }

    func makeClient(ca: String) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
        tls.shutdownTimeout = .milliseconds(200)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
    }

    @Test("a new pair on disk is served to new handshakes; the listener stays up and an in-flight request succeeds")
    func rotation() async throws {
        try await withTemporaryDirectory { directory in
            try copyCertificates(to: directory)
            let ca = directory + "/ca.crt"
            try await withWebhook(certificates: directory, reloadInterval: .milliseconds(100)) { webhook in
                let before = try await servedCertificate(port: webhook.port, ca: ca)
                #expect(before.contains("DNS:rebound.rebound-system.svc"))
                #expect(!before.contains("rotated.rebound.test"))

                let client = try makeClient(ca: ca)
                do {
                    // Warm up: the connection (and its handshake with the old certificate) exists before the swap.
                    var warmUp = HTTPClientRequest(url: webhook.url)
                    warmUp.method = .POST
                    warmUp.body = .bytes(ByteBuffer(bytes: admissionReview(pod: statefulSetPod(), uid: "warm-up").serialized()))
                    let warmResponse = try await client.execute(warmUp, timeout: .seconds(10))
                    _ = try await warmResponse.body.collect(upTo: 1 << 20)
                    #expect(warmResponse.status == .ok)

                    // A request whose body is only half sent when the certificate changes.
                    let body = admissionReview(pod: statefulSetPod(), uid: "in-flight").serialized()
                    let (chunks, writer) = AsyncStream<ByteBuffer>.makeStream()
                    writer.yield(ByteBuffer(bytes: body[..<(body.count / 2)]))
                    var inFlight = HTTPClientRequest(url: webhook.url)
                    inFlight.method = .POST
                    inFlight.body = .stream(chunks, length: .known(Int64(body.count)))
                    let pending = Task { () throws -> (HTTPResponseStatus, ByteBuffer) in
                        let response = try await client.execute(inFlight, timeout: .seconds(30))
                        return (response.status, try await response.body.collect(upTo: 1 << 20))
                    }

                    let changes = await webhook.reloader.changes()
                    let authority = CertificateAuthority(root: try IssuedCertificate(
                        certificatePEM: try String(contentsOfFile: ca, encoding: .utf8),
                        privateKeyPEM: try String(contentsOfFile: directory + "/ca.key", encoding: .utf8)))
                    let rotated = try authority.issue(commonName: "rotated", hosts: ["rotated.rebound.test", "localhost", "127.0.0.1"], usages: [.server])
                    // Written one file after the other, as a naive rotation would: the reloader must
                    // not serve the new certificate with the old key in between.
                    try Data(rotated.certificatePEM.utf8).write(to: URL(fileURLWithPath: directory + "/tls.crt"), options: .atomic)
                    try Data(rotated.privateKeyPEM.utf8).write(to: URL(fileURLWithPath: directory + "/tls.key"), options: .atomic)
                    let reloaded = await first(changes) { if case .reloaded = $0 { true } else { false } }
                    try #require(reloaded != nil, "the webhook did not reload the rotated certificate")

                    writer.yield(ByteBuffer(bytes: body[(body.count / 2)...]))
                    writer.finish()
                    let (status, answer) = try await pending.value
                    #expect(status == .ok)
                    let review = try JSONValue(parsing: Array(answer.readableBytesView))
                    #expect(review["response"]?["uid"] == "in-flight")
                    #expect(try decodedPatch(review).count == 3)

                    let after = try await servedCertificate(port: webhook.port, ca: ca)
                    #expect(after.contains("DNS:rotated.rebound.test"))
                    #expect(after.contains("Subject: CN = rotated"))

                    // A broken write keeps the rotated pair in service.
                    try Data("-----BEGIN CERTIFICATE-----\ngarbage\n".utf8).write(to: URL(fileURLWithPath: directory + "/tls.crt"), options: .atomic)
                    let rejected = await first(changes) { if case .rejected = $0 { true } else { false } }
                    #expect(rejected != nil)
                    #expect(try await servedCertificate(port: webhook.port, ca: ca).contains("DNS:rotated.rebound.test"))
                    #expect(webhook.reloader.identity.generation == 1)
                } catch {
                    try? await client.shutdown()
                    throw error
                }
                try await client.shutdown()
            }
        }
    }

    @Test("a key that does not belong to the certificate is rejected; the old pair stays")
    func mismatchedKey() async throws {
        try await withTemporaryDirectory { directory in
            try copyCertificates(to: directory)
            let reloader = try CertificateReloader(certificateFile: directory + "/tls.crt", keyFile: directory + "/tls.key", logger: quietLogger)
            let servedBefore = reloader.identity.current.summary
            let other = try WebhookCertificates.generate()
            try Data(other.serving.privateKeyPEM.utf8).write(to: URL(fileURLWithPath: directory + "/tls.key"), options: .atomic)
            let check = await reloader.check()
            guard case .rejected(let message) = check else {
                Issue.record("expected a rejection, got \(check)")
                return
            }
            #expect(message.contains("does not belong to the certificate"))
            #expect(reloader.identity.current.summary == servedBefore)
            #expect(await reloader.check() == .unchanged)
            // Completing the rotation with the matching certificate is taken.
            try Data(other.serving.certificatePEM.utf8).write(to: URL(fileURLWithPath: directory + "/tls.crt"), options: .atomic)
            guard case .reloaded = await reloader.check() else {
                Issue.record("the matching pair was not taken")
                return
            }
            #expect(reloader.identity.generation == 1)
        }
    }
}
