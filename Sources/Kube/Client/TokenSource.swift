import Foundation

/// Where the bearer token comes from. A file-backed token is re-read when it is older than the
/// refresh period, and at once after a 401, so a rotated service-account token is picked up.
public actor TokenSource {
    public enum Origin: Sendable, Equatable {
        case none
        case fixed(String)
        case file(String)
    }

    public nonisolated let origin: Origin
    private let refreshPeriod: Duration
    private var cached: String?
    private var readAt: ContinuousClock.Instant?
    private let clock = ContinuousClock()

    public init(_ origin: Origin, refreshPeriod: Duration = .seconds(60)) {
        self.origin = origin
        self.refreshPeriod = refreshPeriod
    }

    /// The token to send, or nil when requests carry none.
    public func token() throws -> String? {
        switch origin {
        case .none: return nil
        case .fixed(let token): return token
        case .file(let path):
            if let cached, let readAt, clock.now - readAt < refreshPeriod { return cached }
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw KubeClientError.configuration("cannot read the token file \(path): \(error.localizedDescription)")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            cached = token
            readAt = clock.now
            return token
        }
    }

    /// Forgets the cached token, so the next request reads the file again. Returns whether
    /// re-reading could change anything.
    public func invalidate() -> Bool {
        guard case .file = origin else { return false }
        cached = nil
        readAt = nil
        return true
    }
}
