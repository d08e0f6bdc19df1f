/// How much one listener lets its callers hold: connections, time and memory. Every Rebound
/// listener (webhook, extender, health) is bounded by one of these, so a slow, idle or hostile
/// client can take only its share, and the process keeps serving everyone else.
///
/// The defaults are sized from the measurements in BENCHMARKS.md ("hostile input"): an idle TLS
/// connection costs about 40 KiB, so the connection cap alone stays far inside the Deployment's
/// 512 MiB, and the buffered-bytes budgets bound what bodies in flight can take.
public struct ListenerLimits: Sendable, Hashable {
    /// Open connections at most; a connection beyond it is closed as soon as it is accepted.
    public var maxConnections = 2048
    /// A TLS handshake must complete within this long after the connection is accepted.
    public var handshakeTimeout: Duration = .seconds(10)
    /// A request's headers must arrive within this long of its first byte (HTTP/1.1), or of the
    /// connection's first byte; a slow client is answered 408 and disconnected.
    public var headerTimeout: Duration = .seconds(10)
    /// A whole request, body included, must arrive within this long of its first byte (HTTP/1.1),
    /// or of its HEADERS frame (HTTP/2, where only the stream is reset).
    public var requestTimeout: Duration = .seconds(30)
    /// A connection with no traffic for this long is closed; HTTP/2 gets GOAWAY at half of it.
    public var idleTimeout: Duration = .seconds(120)
    /// The request line and headers of one HTTP/1.1 request, in bytes (HTTP/2 bounds its header
    /// list with the same number through SETTINGS_MAX_HEADER_LIST_SIZE).
    public var maxHeaderBytes = 64 * 1024
    /// The largest request body; a larger one is refused (413) as soon as that is known, without
    /// being buffered.
    public var maxBodyBytes = 3 * 1024 * 1024
    /// Streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS).
    public var maxConcurrentStreams = 32
    /// Request bytes one HTTP/2 connection may have buffered at once, over all its streams; a
    /// stream that would exceed it is refused with REFUSED_STREAM, which clients retry.
    public var maxBufferedBytesPerConnection = 16 * 1024 * 1024
    /// Request bytes the whole listener may have buffered at once, over all connections; a request
    /// that would exceed it is refused (503 on HTTP/1.1, REFUSED_STREAM on HTTP/2).
    public var maxBufferedBytes = 96 * 1024 * 1024
    /// How long open connections may take to finish their requests on shutdown. `rebound serve`
    /// sets it 3 s below `server.shutdownGraceSeconds`, the time by which the process exits.
    public var shutdownGracePeriod: Duration = .seconds(12)

    public init() {}

    /// The limits with a given body size, the buffered-bytes budgets raised to hold at least one
    /// such body (a listener must be able to take the requests it accepts).
    public init(maxBodyBytes: Int) {
        self.init()
        self.maxBodyBytes = maxBodyBytes
        maxBufferedBytesPerConnection = max(maxBufferedBytesPerConnection, maxBodyBytes)
        maxBufferedBytes = max(maxBufferedBytes, maxBodyBytes)
    }
}
