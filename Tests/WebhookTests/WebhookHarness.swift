import Foundation
import Logging
import ServiceLifecycle
import TestSupport
import Testing
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
        reloadInterval: Duration = .seconds(1), maxBodyBytes: Int = 3 * 1024 * 1024, handler: AdmissionHandler = testHandler()
    ) async throws -> RunningWebhook {
        var configuration = WebhookServer.Configuration(certificateFile: directory + "/tls.crt", keyFile: directory + "/tls.key")
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.clientCAFile = clientCAFile
        configuration.reloadInterval = reloadInterval
        configuration.maxBodyBytes = maxBodyBytes
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

/// The path of an installed command-line tool, or a failure saying how to install it.
func tool(_ name: String, package: String) throws -> String {
    for directory in ["/usr/bin", "/usr/local/bin", "/usr/sbin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
        return "\(directory)/\(name)"
    }
    throw FixtureError("\(name) is not installed; install Debian's \(package) (apt-get install \(package); .ci/run does)")
}

/// A temporary directory removed when `body` ends.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rebound-webhook-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
}

/// The first element of `stream` that satisfies `predicate`, or nil when the time is up first.
func first<T: Sendable>(_ stream: AsyncStream<T>, within timeout: Duration = .seconds(15), where predicate: @escaping @Sendable (T) -> Bool) async -> T? {
    await withTaskGroup(of: T?.self) { group in
        group.addTask {
            for await element in stream where predicate(element) { return element }
            return nil
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let result = await group.next() ?? nil
        group.cancelAll()
        return result
    }
}

/// Runs a command to completion on a thread of its own and returns its exit status and combined
/// output. Waiting for a child process blocks its thread, and a blocked thread of Swift's small
/// cooperative pool can starve the very server the child talks to, so tests never wait for a
/// child on a pool thread. A child still running after `timeout` is killed, so a broken server
/// fails the test instead of hanging it.
func run(_ executable: String, _ arguments: [String], input: String? = nil, timeout: Duration = .seconds(60)) async throws -> (status: Int32, output: String) {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            let stdin = Pipe()
            process.standardInput = stdin
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
                return
            }
            try? stdin.fileHandleForWriting.write(contentsOf: Data((input ?? "").utf8))
            try? stdin.fileHandleForWriting.close()
            let (seconds, attoseconds) = timeout.components
            DispatchQueue.global().asyncAfter(deadline: .now() + Double(seconds) + Double(attoseconds) / 1e18) {
                if process.isRunning { process.terminate() }
            }
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
        }
        thread.start()
    }
}
