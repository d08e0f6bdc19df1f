import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Kube
import Logging
import TestSupport
import Testing
import Serving
import Webhook

/// The webhook over real TLS with real clients that verify the served chain against certs/ca.crt.
@Suite("WebhookServer over TLS with curl, h2load and openssl", .requiresTools("curl", "h2load", "openssl"), .requiresPython("h2"))
struct TLSServerTests {
    let ca = TestCertificates.path("ca.crt")

    /// Writes a realistic AdmissionReview to a file in `directory`.
    func reviewFile(in directory: String, uid: String = "705ab4f5-6393-11e8-b7cc-42010a800002") throws -> String {
        let path = directory + "/review.json"
        try admissionReview(pod: statefulSetPod(), uid: uid).jsonString.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// POSTs `file` with curl; returns the exit status, "code version" and the body.
    func curl(_ url: String, file: String, _ extra: [String]) async throws -> (status: Int32, info: String, body: String) {
        let curl = try tool("curl", package: "curl")
        let marker = "\n--curl-info--"
        let result = try await run(curl, ["-sS", "--max-time", "20", "-H", "Content-Type: application/json", "--data-binary", "@" + file,
                                        "-w", marker + "%{http_code} %{http_version}"] + extra + [url])
        guard let range = result.output.range(of: marker, options: .backwards) else { return (result.status, "", result.output) }
        return (result.status, String(result.output[range.upperBound...]), String(result.output[..<range.lowerBound]))
    }

    @Test("HTTP/1.1 and HTTP/2 (ALPN) with curl verifying the chain; the answer carries the patch")
    func curlBothVersions() async throws {
        try await withTemporaryDirectory { directory in
            let file = try reviewFile(in: directory)
            try await withWebhook { webhook in
                for (flag, version) in [("--http1.1", "1.1"), ("--http2", "2")] {
                    let result = try await curl(webhook.url, file: file, ["--cacert", ca, flag])
                    #expect(result.status == 0, "curl \(flag): \(result.body)")
                    #expect(result.info == "200 \(version)")
                    let review = try JSONValue(parsing: result.body)
                    #expect(review["response"]?["uid"] == "705ab4f5-6393-11e8-b7cc-42010a800002")
                    #expect(try decodedPatch(review).count == 3)
                }
                // kube-apiserver appends ?timeout=10s to the configured URL.
                let withQuery = try await curl(webhook.url + "?timeout=10s", file: file, ["--cacert", ca])
                #expect(withQuery.info == "200 2")
                #expect(try decodedPatch(try JSONValue(parsing: withQuery.body)).count == 3)
                // localhost (a DNS SAN) verifies as well as the IP SAN.
                let byName = try await curl("https://localhost:\(webhook.port)/mutate-pod", file: file, ["--cacert", ca, "--resolve", "localhost:\(webhook.port):127.0.0.1"])
                #expect(byName.info == "200 2")
                // Without the CA the chain does not verify.
                let untrusted = try await curl(webhook.url, file: file, [])
                #expect(untrusted.status != 0)
            }
        }
    }

    @Test("h2load over HTTP/2 completes with no failures; openssl verifies the chain and ALPN h2")
    func h2loadAndOpenSSL() async throws {
        let h2load = try tool("h2load", package: "nghttp2-client")
        let openssl = try tool("openssl", package: "openssl")
        try await withTemporaryDirectory { directory in
            let file = try reviewFile(in: directory)
            try await withWebhook { webhook in
                // h2load does not verify certificates, so openssl checks the chain and the names.
                let handshake = try await run(openssl, [
                    "s_client", "-connect", "127.0.0.1:\(webhook.port)", "-servername", "rebound.rebound-system.svc", "-CAfile", ca,
                    "-verify_return_error", "-verify_hostname", "rebound.rebound-system.svc", "-alpn", "h2",
                ], input: "")
                #expect(handshake.output.contains("Verify return code: 0 (ok)"), "\(handshake.output)")
                #expect(handshake.output.contains("ALPN protocol: h2"))
                let byIP = try await run(openssl, ["s_client", "-connect", "127.0.0.1:\(webhook.port)", "-CAfile", ca, "-verify_return_error", "-verify_ip", "127.0.0.1"], input: "")
                #expect(byIP.output.contains("Verify return code: 0 (ok)"))

                let load = try await run(h2load, ["-n", "400", "-c", "4", "-m", "8", "-d", file, "-H", "content-type: application/json", webhook.url])
                #expect(load.status == 0, "\(load.output)")
                #expect(load.output.contains("Application protocol: h2"), "\(load.output)")
                #expect(load.output.contains("400 succeeded, 0 failed, 0 errored, 0 timeout"), "\(load.output)")
                #expect(load.output.contains("status codes: 400 2xx"), "\(load.output)")
            }
        }
    }

    @Test("a body several times the HTTP/2 flow-control window arrives whole, over both versions and on h2load's reused connections")
    func largeBodies() async throws {
        try await withTemporaryDirectory { directory in
            var pod = statefulSetPod()
            pod.set(["metadata", "annotations"], ["example.com/blob": .string(String(repeating: "0123456789abcdef", count: 16_384))])
            let file = directory + "/large.json"
            try admissionReview(pod: pod).jsonString.write(toFile: file, atomically: true, encoding: .utf8)
            try await withWebhook { webhook in
                for flag in ["--http1.1", "--http2"] {
                    let result = try await curl(webhook.url, file: file, ["--cacert", ca, flag])
                    #expect(result.info.hasPrefix("200"), "\(flag): \(result.info) \(result.body.prefix(300))")
                    // One add per annotation (the pod has annotations) and two for the resources.
                    #expect(try decodedPatch(try JSONValue(parsing: result.body)).count == 4)
                }
                let load = try await run(try tool("h2load", package: "nghttp2-client"), ["-n", "40", "-c", "2", "-m", "4", "-d", file, webhook.url])
                #expect(load.output.contains("40 succeeded, 0 failed"), "\(load.output)")
            }
        }
    }

    @Test("TLS 1.0 and 1.1 are refused; 1.2 and 1.3 are served")
    func tlsVersions() async throws {
        let openssl = try tool("openssl", package: "openssl")
        try await withWebhook { webhook in
            func handshake(_ flag: String) async throws -> String {
                try await run(openssl, ["s_client", "-connect", "127.0.0.1:\(webhook.port)", flag, "-cipher", "DEFAULT:@SECLEVEL=0", "-CAfile", ca], input: "").output
            }
            #expect(try await handshake("-tls1_2").contains("New, TLSv1.2, Cipher is ECDHE"))
            #expect(try await handshake("-tls1_3").contains("New, TLSv1.3, Cipher is TLS_"))
            for old in ["-tls1", "-tls1_1"] {
                let output = try await handshake(old)
                #expect(output.contains("Cipher is (NONE)"), "\(old) was accepted: \(output)")
                #expect(output.contains("alert protocol version"), "\(old): \(output)")
            }
        }
    }

    /// Connects to 127.0.0.1:`port` with a plain TCP socket, sends nothing, and waits (on a
    /// thread of its own, up to 10 s) for the server to close: the seconds it took, or nil.
    func secondsUntilClosed(port: Int) async -> Double? {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(fd) }
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(port).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                var timeout = timeval(tv_sec: 10, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                guard connected == 0 else { return continuation.resume(returning: nil) }
                let started = Date()
                var byte: UInt8 = 0
                // 0: the server closed the connection; -1: still open when the wait ran out.
                let received = recv(fd, &byte, 1, 0)
                continuation.resume(returning: received == 0 ? Date().timeIntervalSince(started) : nil)
            }
        }
    }

    @Test("a connection with no traffic (here, a TLS handshake never started) is closed after the idle timeout; fresh connections are served")
    func idleConnectionsClosed() async throws {
        let webhook = try await RunningWebhook.start(idleTimeout: .milliseconds(600))
        let seconds = await secondsUntilClosed(port: webhook.port)
        try await withTemporaryDirectory { directory in
            let file = try reviewFile(in: directory)
            for flag in ["--http1.1", "--http2"] {
                let served = try await curl(webhook.url, file: file, ["--cacert", ca, flag])
                #expect(served.info.hasPrefix("200"), "\(flag): \(served.info) \(served.body)")
            }
        }
        await webhook.stop()
        let closedAfter = try #require(seconds, "the idle connection was still open after 10 s")
        #expect(closedAfter >= 0.5, "closed after \(closedAfter) s, before the idle timeout")
    }

    /// An HTTP/2 client (Python's ssl, ALPN h2) that opens a connection, sends the preface and an
    /// empty SETTINGS, then only listens: prints `GOAWAY <seconds>` and `CLOSED <seconds>`.
    static let idleHTTP2Client = """
        import socket, ssl, sys, time
        context = ssl.create_default_context(cafile=sys.argv[2])
        context.set_alpn_protocols(["h2"])
        sock = context.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))), server_hostname="localhost")
        assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
        sock.sendall(b"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]))
        start, pending = time.time(), b""
        sock.settimeout(10)
        while True:
            data = sock.recv(65536)
            if not data:
                print(f"CLOSED {time.time() - start:.2f}")
                break
            pending += data
            while len(pending) >= 9 and len(pending) >= 9 + int.from_bytes(pending[:3], "big"):
                length = int.from_bytes(pending[:3], "big")
                if pending[3] == 7:
                    print(f"GOAWAY {time.time() - start:.2f}")
                pending = pending[9 + length:]
        """

    @Test("an idle HTTP/2 connection is sent GOAWAY at half the idle timeout and closed by the full timeout")
    func idleHTTP2GoAway() async throws {
        let webhook = try await RunningWebhook.start(idleTimeout: .milliseconds(1200))
        do {
            let client = try await run("/usr/bin/env", ["python3", "-c", Self.idleHTTP2Client, String(webhook.port), ca], timeout: .seconds(30))
            let goAway = client.output.firstMatch(of: #/GOAWAY ([0-9.]+)/#).flatMap { Double($0.output.1) }
            let closed = client.output.firstMatch(of: #/CLOSED ([0-9.]+)/#).flatMap { Double($0.output.1) }
            let sentAt = try #require(goAway, "no GOAWAY: \(client.output)")
            let closedAt = try #require(closed, "not closed within 10 s: \(client.output)")
            #expect(sentAt >= 0.5, "GOAWAY after \(sentAt) s, before half the idle timeout")
            #expect(closedAt >= sentAt && closedAt <= 5, "closed after \(closedAt) s")
        } catch {
            await webhook.stop()
            throw error
        }
        await webhook.stop()
    }

    @Test("wrong path, wrong method and a body over the limit get clear answers")
    func badRequests() async throws {
        try await withTemporaryDirectory { directory in
            let file = try reviewFile(in: directory)
            try "{}".write(toFile: directory + "/small.json", atomically: true, encoding: .utf8)
            try await withWebhook(maxBodyBytes: 2048) { webhook in
                let wrongPath = try await curl("https://127.0.0.1:\(webhook.port)/validate", file: directory + "/small.json", ["--cacert", ca])
                #expect(wrongPath.info == "404 2")
                #expect(wrongPath.body.contains("POST /mutate-pod"))
                let get = try await run(try tool("curl", package: "curl"), ["-sS", "--cacert", ca, "-w", "%{http_code}", webhook.url])
                #expect(get.output.hasSuffix("405"))
                // The realistic review is larger than 2 KiB.
                for flag in ["--http1.1", "--http2"] {
                    let large = try await curl(webhook.url, file: file, ["--cacert", ca, flag])
                    #expect(large.info.hasPrefix("400"), "\(flag): \(large.info) \(large.body)")
                    #expect(large.body.contains("larger than 2048 bytes (webhook.maxBodyBytes)"))
                }
                // The listener stays usable: a small invalid body is judged on its own.
                let small = try await curl(webhook.url, file: directory + "/small.json", ["--cacert", ca])
                #expect(small.info == "400 2" && small.body.contains("apiVersion is missing"))
            }
        }
    }

    @Test("HTTP/1.1 requests pipelined behind one waiting for the API server are answered in order; a request that is not HTTP gets a 400 and the connection closes")
    func pipeliningAndGarbage() async throws {
        let openssl = try tool("openssl", package: "openssl")
        let body = admissionReview(pod: statefulSetPod(), uid: "705ab4f5-6393-11e8-b7cc-42010a800002").jsonString
        func post(_ extra: String = "") -> String {
            "POST /mutate-pod HTTP/1.1\r\nhost: rebound\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n\(extra)\r\n" + body
        }
        // The claim is never in memory: every review waits ~200 ms for a fetch, off the event loop.
        let webhook = try await RunningWebhook.start(handler: AdmissionHandler(lookups: SlowClaimLookups(), logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        do {
            let pipelined = post() + "GET /elsewhere HTTP/1.1\r\nhost: rebound\r\n\r\n" + post("connection: close\r\n")
            let session = try await run(openssl, ["s_client", "-connect", "127.0.0.1:\(webhook.port)", "-CAfile", ca, "-verify_return_error", "-quiet"],
                                        input: pipelined, timeout: .seconds(30))
            // (A body has no final newline, so the next status line may follow it on the same line.)
            let statuses = session.output.matches(of: #/HTTP/1\.1 (\d{3}) /#).map { String($0.output.1) }
            #expect(statuses == ["200", "404", "200"], "\(session.output)")
            #expect(session.output.components(separatedBy: #""patchType":"JSONPatch""#).count == 3, "both reviews patched: \(session.output)")

            let garbage = try await run(openssl, ["s_client", "-connect", "127.0.0.1:\(webhook.port)", "-CAfile", ca, "-verify_return_error", "-quiet"],
                                        input: "NOT HTTP AT ALL\r\n\r\n" + post(), timeout: .seconds(30))
            #expect(garbage.output.contains("HTTP/1.1 400 Bad Request"), "\(garbage.output)")
            #expect(garbage.output.contains("connection: close") && !garbage.output.contains("200 OK"), "\(garbage.output)")

            // The server still serves new connections.
            try await withTemporaryDirectory { directory in
                let after = try await curl(webhook.url, file: try reviewFile(in: directory), ["--cacert", ca, "--http1.1"])
                #expect(after.info == "200 1.1", "\(after)")
            }
        } catch {
            await webhook.stop()
            throw error
        }
        await webhook.stop()
    }

    @Test("with a client CA, only clients presenting a certificate from it are served")
    func clientCertificates() async throws {
        try await withTemporaryDirectory { directory in
            let file = try reviewFile(in: directory)
            let stranger = try WebhookCertificates.generate()
            try stranger.write(to: directory + "/stranger")
            try await withWebhook(clientCAFile: ca) { webhook in
                let without = try await curl(webhook.url, file: file, ["--cacert", ca])
                #expect(without.status != 0 || without.info.hasPrefix("000"), "served without a client certificate")
                let wrongCA = try await curl(webhook.url, file: file, ["--cacert", ca, "--cert", directory + "/stranger/client.crt", "--key", directory + "/stranger/client.key"])
                #expect(wrongCA.status != 0 || wrongCA.info.hasPrefix("000"), "served a client certificate from another CA")
                for flag in ["--http1.1", "--http2"] {
                    let with = try await curl(webhook.url, file: file, ["--cacert", ca, flag, "--cert", TestCertificates.path("client.crt"), "--key", TestCertificates.path("client.key")])
                    #expect(with.status == 0 && with.info.hasPrefix("200"), "\(flag): \(with.body)")
                }
            }
        }
    }

    @Test("a server whose certificate files are unusable fails at start with a message naming the file")
    func badCertificatesAtStart() async throws {
        try await withTemporaryDirectory { directory in
            try "not a certificate".write(toFile: directory + "/tls.crt", atomically: true, encoding: .utf8)
            try Data(TestCertificates.serverKeyPEM).write(to: URL(fileURLWithPath: directory + "/tls.key"))
            let error = await #expect(throws: CertificateLoadError.self) { try await RunningWebhook.start(certificates: directory) }
            #expect(error?.message.contains("tls.crt holds no PEM certificate") == true)
            let missing = await #expect(throws: CertificateLoadError.self) { try await RunningWebhook.start(certificates: directory + "/nowhere") }
            #expect(missing?.message.contains("cannot read the certificate file") == true)
        }
    }
}

/// Lookups that hold the opted-in namespace and the classes but never the claim, which a fetch
/// returns after a delay: every review takes the webhook's slow path.
struct SlowClaimLookups: AdmissionLookups {
    func namespaceLabels(_ name: String) throws(LookupError) -> Lookup<[String: String]> { .found(optedIn) }
    func claim(namespace: String, name: String) throws(LookupError) -> Lookup<PersistentVolumeClaim> { .unknown }
    func storageClasses() throws(LookupError) -> StorageClassIndex { StorageClassIndex(allClasses) }
    func fetch(_ object: ClusterObjectReference) async throws(LookupError) -> FetchedObject? {
        try? await Task.sleep(for: .milliseconds(200))
        guard case .claim(_, let name) = object else { return nil }
        return .claim(WebhookTests.claim(name, size: "1Gi", storageClass: "csi-carina-sc"))
    }
}
