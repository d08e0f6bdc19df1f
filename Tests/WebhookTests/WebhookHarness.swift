import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle
import TestSupport
import Testing
import Serving
import Webhook

/// A webhook server started for one test on an ephemeral loopback port.
struct RunningWebhook {
    let port: Int
    let reloader: CertificateReloader
    let group: ServiceGroup
    let task: Task<Void, any Error>

    var url: String { "https://127.0.0.1:\(port)/mutate-pod" }

    static func start(
        certificates directory: String = TestCertificates.directory, clientCAFile: String? = nil,
        reloadInterval: Duration = .seconds(1), maxBodyBytes: Int = 3 * 1024 * 1024, idleTimeout: Duration = .seconds(120),
        handler: AdmissionHandler = testHandler()
    ) async throws -> RunningWebhook {
        var configuration = WebhookServer.Configuration(certificateFile: directory + "/tls.crt", keyFile: directory + "/tls.key")
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.clientCAFile = clientCAFile
        configuration.reloadInterval = reloadInterval
        configuration.limits.maxBodyBytes = maxBodyBytes
        configuration.limits.idleTimeout = idleTimeout
        let (listening, continuation) = AsyncStream<(Int, CertificateReloader)>.makeStream()
        var logger = Logger(label: "test.webhook")
        logger.logLevel = .error
        let server = WebhookServer(configuration: configuration, handler: handler, logger: logger) { port, reloader in
            continuation.yield((port, reloader))
            continuation.finish()
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [server], logger: logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = listening.makeAsyncIterator()
        guard let (port, reloader) = await iterator.next() else {
            let failure: any Error
            do {
                try await task.value
                failure = FixtureError("the webhook server stopped before listening")
            } catch {
                failure = error
            }
            throw failure
        }
        return RunningWebhook(port: port, reloader: reloader, group: group, task: task)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}

/// Runs `body` with a started webhook and stops it afterwards whatever happens.
func withWebhook<T>(
    certificates directory: String = TestCertificates.directory, clientCAFile: String? = nil, reloadInterval: Duration = .seconds(1),
    maxBodyBytes: Int = 3 * 1024 * 1024, _ body: (RunningWebhook) async throws -> T
) async throws -> T {
    let webhook = try await RunningWebhook.start(certificates: directory, clientCAFile: clientCAFile, reloadInterval: reloadInterval, maxBodyBytes: maxBodyBytes)
    do {
        let result = try await body(webhook)
        await webhook.stop()
        return result
    } catch {
        await webhook.stop()
        throw error
    }
}

/// A handler over fixed values: the mysql namespace opted in, its claim pending on the HDD class.
func testHandler() -> AdmissionHandler {
    var logger = Logger(label: "test.webhook")
    logger.logLevel = .error
    return AdmissionHandler(
        lookups: StaticLookups(namespaces: ["mysql": optedIn], claims: [claim("data-my-cluster-mysql-0", size: "1Gi", storageClass: "csi-carina-sc")], storageClasses: allClasses),
        logger: logger)
}

