public import ClusterSim
import Foundation
public import Kube
import Logging

/// A ClusterSim API server started for one test, on an ephemeral loopback port.
public struct RunningSim: Sendable {
    public let server: SimServer
    public let url: String

    public var store: SimStore { server.store }
    public var faults: SimFaults { server.api.faults }
    public var auth: SimAuth { server.api.auth }

    /// Starts a server. With `tls`, it serves the development certificate from `certs/`; with
    /// `requireClientCertificates`, clients must present one signed by the development CA.
    public static func start(
        tls: Bool = false, requireClientCertificates: Bool = false, tokens: Set<String>? = nil, logCapacity: Int = 10_000,
        bookmarkInterval: Duration = .seconds(5)
    ) async throws -> RunningSim {
        let store = SimStore(logCapacity: logCapacity)
        let api = SimAPI(store: store, auth: SimAuth(tokens: tokens))
        let tlsMaterial = tls
            ? SimServer.TLS(
                certificateChainPEM: TestCertificates.serverCertificatePEM, privateKeyPEM: TestCertificates.serverKeyPEM,
                clientCAPEM: requireClientCertificates ? TestCertificates.caPEM : nil)
            : nil
        var logger = Logger(label: "test.sim")
        logger.logLevel = .warning
        let server = SimServer(api: api, tls: tlsMaterial, bookmarkInterval: bookmarkInterval, logger: logger)
        try await server.start()
        return RunningSim(server: server, url: await server.url)
    }

    /// A client for this server without rate limits (unless given).
    public func client(token: String? = nil, qps: Double = 0, configure: (inout KubeClientConfiguration) -> Void = { _ in }) throws -> KubeClient {
        var configuration = KubeClientConfiguration(server: url)
        configuration.qps = qps
        if let token { configuration.token = .fixed(token) }
        if url.hasPrefix("https") { configuration.certificateAuthorityPEM = TestCertificates.caPEM }
        configure(&configuration)
        return try KubeClient(configuration)
    }

    public func stop() async { await server.stop() }
}

/// Runs `body` with a started server and a client, and stops both afterwards whatever happens.
public func withSim<T>(
    tls: Bool = false, tokens: Set<String>? = nil, logCapacity: Int = 10_000, bookmarkInterval: Duration = .seconds(5),
    _ body: (RunningSim, KubeClient) async throws -> T
) async throws -> T {
    let sim = try await RunningSim.start(tls: tls, tokens: tokens, logCapacity: logCapacity, bookmarkInterval: bookmarkInterval)
    let client = try sim.client(token: tokens?.first)
    do {
        let result = try await body(sim, client)
        try? await client.shutdown()
        await sim.stop()
        return result
    } catch {
        try? await client.shutdown()
        await sim.stop()
        throw error
    }
}
