import AsyncHTTPClient
import Foundation
public import Logging
import Metrics
public import NIOCore
public import NIOHTTP1
import NIOSSL

/// A Kubernetes API client on async-http-client: typed get/list/create/update/patch/delete/watch,
/// bearer-token and client-certificate auth, a client-side rate limit, and `Status` answers
/// turned into ``KubeAPIError``.
///
/// Call ``shutdown()`` before releasing it.
public final class KubeClient: Sendable {
    public let configuration: KubeClientConfiguration
    public let limiter: RateLimiter
    let http: HTTPClient
    let tokens: TokenSource
    let logger: Logger

    public init(_ configuration: KubeClientConfiguration, logger: Logger = Logger(label: "rebound.kube")) throws(KubeClientError) {
        self.configuration = configuration
        self.logger = logger
        self.tokens = TokenSource(configuration.token)
        self.limiter = RateLimiter(qps: configuration.qps, burst: configuration.burst)
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = configuration.certificateAuthorityPEM {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
            }
            if let certificate = configuration.clientCertificatePEM, let key = configuration.clientKeyPEM {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            }
        } catch {
            throw .configuration("cannot load TLS material: \(error)")
        }
        if configuration.insecureSkipTLSVerify { tls.certificateVerification = .none }
        var httpConfiguration = HTTPClient.Configuration(tlsConfiguration: tls)
        // No read timeout: watches stay quiet for minutes. Ordinary requests carry a deadline.
        httpConfiguration.timeout = HTTPClient.Configuration.Timeout(connect: .nanoseconds(configuration.connectTimeout.nanoseconds), read: nil)
        httpConfiguration.connectionPool = HTTPClient.Configuration.ConnectionPool(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        httpConfiguration.decompression = .disabled
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
    }

    /// Closes connections. The client cannot be used afterwards.
    public func shutdown() async throws { try await http.shutdown() }

    // MARK: Raw requests

    /// An answer from the server with its body read.
    public struct Response: Sendable {
        public var code: Int
        public var headers: HTTPHeaders
        public var body: ByteBuffer

        public var bytes: [UInt8] { Array(body.readableBytesView) }
    }

    /// Sends a request and reads the whole answer; non-2xx answers throw ``KubeAPIError``.
    public func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil, contentType: String = "application/json"
    ) async throws -> Response {
        // Time in the client, rate limiter included: what a caller (a lease renewal, a failover
        // write) waits for. `rebound_kube_request_seconds{verb}`; watches are not counted.
        let started = ContinuousClock.now
        defer {
            let (seconds, attoseconds) = (ContinuousClock.now - started).components
            Timer(label: "rebound_kube_request_seconds", dimensions: [("verb", method.rawValue)])
                .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        }
        var retriedAuth = false
        while true {
            let response = try await perform(method, path, query: query, body: body, contentType: contentType, timeout: configuration.requestTimeout)
            let collected: ByteBuffer
            do {
                collected = try await response.body.collect(upTo: configuration.maxResponseBytes)
            } catch {
                throw KubeClientError.transport("reading the answer to \(method) \(path): \(error)")
            }
            if response.status.code == 401, !retriedAuth, await tokens.invalidate() {
                retriedAuth = true
                continue
            }
            guard (200..<300).contains(response.status.code) else {
                throw Self.apiError(code: Int(response.status.code), headers: response.headers, body: collected)
            }
            return Response(code: Int(response.status.code), headers: response.headers, body: collected)
        }
    }

    /// Starts a request and returns as soon as the answer's head arrives (for watches).
    func perform(
        _ method: HTTPMethod, _ path: String, query: [(String, String)], body: [UInt8]?, contentType: String, timeout: Duration?
    ) async throws -> HTTPClientResponse {
        try await limiter.wait()
        var request = HTTPClientRequest(url: configuration.server + path + Self.queryString(query))
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: configuration.userAgent)
        if let token = try await tokens.token() { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            if let timeout {
                return try await http.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
            }
            return try await http.execute(request, deadline: .distantFuture)
        } catch let error as HTTPClientError {
            throw KubeClientError.transport("\(method) \(path): \(error)")
        }
    }

    static func apiError(code: Int, headers: HTTPHeaders, body: ByteBuffer) -> KubeAPIError {
        let retryAfter = headers.first(name: "Retry-After").flatMap { Int($0) }
        let bytes = Array(body.readableBytesView)
        if let status = try? JSONDecoder().decode(Status.self, from: Data(bytes)), status.kind == "Status" || status.reason != nil {
            return KubeAPIError(code: code, status: status, retryAfterSeconds: retryAfter)
        }
        var message = String(decoding: bytes.prefix(512), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if message.isEmpty { message = "the server answered HTTP \(code) with no details" }
        return KubeAPIError(code: code, status: Status(status: "Failure", message: message, code: code), retryAfterSeconds: retryAfter)
    }

    /// `?a=b&c=d` with every value percent-encoded.
    static func queryString(_ items: [(String, String)]) -> String {
        guard !items.isEmpty else { return "" }
        return "?" + items.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    static func percentEncode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.append(Character(Unicode.Scalar(byte)))
            default:
                result += String(format: "%%%02X", byte)
            }
        }
        return result
    }

    // MARK: Decoding

    static func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer) throws -> T {
        try body.withUnsafeReadableBytes { buffer in try decode(T.self, from: buffer) }
    }

    /// Decodes with the type's single-pass scanner when it has one, else with JSONDecoder.
    static func decode<T: Decodable>(_ type: T.Type, from buffer: UnsafeRawBufferPointer) throws -> T {
        if let scannable = T.self as? any ScannerDecodable.Type {
            do {
                return try scannable.decode(scanning: buffer) as! T
            } catch {
                throw KubeClientError.decoding("\(T.self): \(error)")
            }
        }
        do {
            let data = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!), count: buffer.count, deallocator: .none)
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw KubeClientError.decoding("\(T.self): \(error)")
        }
    }

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(value))
        } catch {
            throw KubeClientError.decoding("cannot encode \(T.self): \(error)")
        }
    }

    func namespace<T: KubeResource>(for type: T.Type, _ namespace: String?) -> String? {
        T.resourceType.namespaced ? (namespace ?? configuration.namespace) : nil
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
