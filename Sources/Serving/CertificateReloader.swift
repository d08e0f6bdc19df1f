public import Logging

/// Watches the serving certificate and key files and swaps them into a ``ServingIdentity``
/// when they change (cert-manager and kubelet rotate Secret volumes in place).
///
/// It polls the files' contents; a new pair is taken only when both parse and the key belongs to
/// the certificate, so a half-written rotation keeps the old pair in service until the other
/// file catches up. Listeners and open connections are never touched.
public actor CertificateReloader {
    /// What one check of the files found.
    public enum Check: Sendable, Equatable {
        case unchanged
        /// The new material is in service.
        case reloaded(summary: String)
        /// The files changed but cannot be served; the previous pair stays.
        case rejected(String)
    }

    public nonisolated let identity: ServingIdentity
    public nonisolated let certificateFile: String
    public nonisolated let keyFile: String
    let interval: Duration
    let logger: Logger
    /// The file contents last looked at (served or rejected), to act once per change.
    private var lastSeen: CertificatePair.Contents
    private var watchers: [Int: AsyncStream<Check>.Continuation] = [:]
    private var nextWatcher = 0

    /// Loads the pair; failing here is a start-up error the operator must fix.
    public init(certificateFile: String, keyFile: String, interval: Duration = .seconds(1), logger: Logger = Logger(label: "rebound.tls")) throws(CertificateLoadError) {
        let contents = try CertificatePair.read(certificateFile: certificateFile, keyFile: keyFile)
        let material = try CertificatePair.parse(contents, certificateFile: certificateFile, keyFile: keyFile)
        self.identity = ServingIdentity(material)
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.interval = interval
        self.logger = logger
        self.lastSeen = contents
        logger.info("serving certificate loaded", metadata: ["certificate": "\(material.summary)"])
    }

    /// Checks the files every `interval` until the calling task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { break }
            check()
        }
        for watcher in watchers.values { watcher.finish() }
        watchers = [:]
    }

    /// Reads the files now and reloads if they changed.
    @discardableResult
    public func check() -> Check {
        let result: Check
        do {
            let contents = try CertificatePair.read(certificateFile: certificateFile, keyFile: keyFile)
            guard contents != lastSeen else { return .unchanged }
            lastSeen = contents
            do {
                let material = try CertificatePair.parse(contents, certificateFile: certificateFile, keyFile: keyFile)
                identity.replace(with: material)
                logger.info("serving certificate reloaded", metadata: ["certificate": "\(material.summary)"])
                result = .reloaded(summary: material.summary)
            } catch {
                logger.warning("certificate files changed but cannot be served; keeping the previous pair", metadata: ["error": "\(error)"])
                result = .rejected(error.message)
            }
        } catch {
            // A file missing for a moment (an atomic swap in progress) is not worth a change:
            // keep serving and look again next time. Log once per disappearance.
            if lastSeen.certificate.isEmpty { return .unchanged }
            lastSeen = .init(certificate: [], key: [])
            logger.warning("certificate files unreadable; keeping the previous pair", metadata: ["error": "\(error)"])
            result = .rejected(error.message)
        }
        for watcher in watchers.values { watcher.yield(result) }
        return result
    }

    /// Every check that found a change from now on (reloads and rejections), for tests and tools.
    public func changes() -> AsyncStream<Check> {
        let (stream, continuation) = AsyncStream<Check>.makeStream()
        nextWatcher += 1
        let id = nextWatcher
        watchers[id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.removeWatcher(id) }
        }
        return stream
    }

    private func removeWatcher(_ id: Int) { watchers.removeValue(forKey: id) }
}
