import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection for tests that must control every byte and its timing (slow clients,
/// idle connections). Blocking calls run on a thread of their own, never on Swift's small
/// cooperative pool, which the server under test shares.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    static func open(port: Int) async throws -> RawConnection {
        try await onThread {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard result == 0 else {
                close(fd)
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECONNREFUSED)
            }
            return RawConnection(fd: fd)
        }
    }

    /// Sends `bytes`; false once the server has closed the connection.
    @discardableResult
    func send(_ bytes: [UInt8]) async -> Bool {
        await Self.onThread {
            bytes.withUnsafeBytes { Glibc.send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
        }
    }

    @discardableResult
    func send(_ text: String) async -> Bool { await send(Array(text.utf8)) }

    /// Sends `text` one byte at a time, `interval` apart, until done or the server closes.
    /// Returns how many bytes went out.
    func dribble(_ text: String, every interval: Duration) async -> Int {
        var sent = 0
        for byte in text.utf8 {
            guard await send([byte]) else { break }
            sent += 1
            if await hasAnswered(within: interval) { break }
        }
        return sent
    }

    /// Everything the server sends until it closes the connection, or nil if it is still open
    /// after `timeout`.
    func readUntilClosed(timeout: Duration = .seconds(10)) async -> String? {
        await Self.onThread {
            var collected: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                var descriptor = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, 50) > 0 else { continue }
                let count = buffer.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { return String(decoding: collected, as: UTF8.self) }
                collected.append(contentsOf: buffer[0..<count])
            }
            return nil
        }
    }

    /// Whether the server sends something or closes within `timeout` (nothing is consumed).
    func hasAnswered(within timeout: Duration) async -> Bool {
        await Self.onThread {
            var descriptor = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
            return poll(&descriptor, 1, milliseconds) > 0
        }
    }

    deinit { close(fd) }

    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: body()) }
        }
    }
}
