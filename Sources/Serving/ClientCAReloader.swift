import Foundation
public import Logging
import NIOSSL
import Synchronization

/// Watches a listener's client CA file and, when it changes, puts a TLS context trusting the new
/// CAs in service for new connections (cert-manager rotates CAs in place, like serving pairs).
/// A change that does not parse keeps the previous CAs.
public actor ClientCAReloader {
    public nonisolated let file: String
    let listener: String
    let interval: Duration
    let logger: Logger
    private let apply: @Sendable ([NIOSSLCertificate]) throws -> Void
    private var lastSeen: [UInt8]

    /// - Parameter apply: builds and installs a TLS context trusting the given CAs.
    init(file: String, listener: String, interval: Duration, logger: Logger, apply: @escaping @Sendable ([NIOSSLCertificate]) throws -> Void) {
        self.file = file
        self.listener = listener
        self.interval = interval
        self.logger = logger
        self.apply = apply
        self.lastSeen = FileManager.default.contents(atPath: file).map { Array($0) } ?? []
    }

    public func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { break }
            check()
        }
    }

    /// Reads the file now; returns true when new CAs were put in service.
    @discardableResult
    public func check() -> Bool {
        guard let contents = FileManager.default.contents(atPath: file).map({ Array($0) }), contents != lastSeen else { return false }
        lastSeen = contents
        do {
            let certificates = try ListenerTLS.parseClientCA(contents, file: file, listener: listener)
            try apply(certificates)
            logger.info("client CA reloaded", metadata: ["listener": "\(listener)", "file": "\(file)", "certificates": "\(certificates.count)"])
            return true
        } catch {
            logger.warning("client CA file changed but cannot be used; keeping the previous CAs", metadata: ["listener": "\(listener)", "error": "\(error)"])
            return false
        }
    }
}

/// The TLS context new connections of a listener get; swapped when the client CA changes.
final class TLSContextBox: Sendable {
    private let state: Mutex<NIOSSLContext>

    init(_ context: NIOSSLContext) { state = Mutex(context) }

    var current: NIOSSLContext { state.withLock { $0 } }

    func replace(with context: NIOSSLContext) { state.withLock { $0 = context } }
}
