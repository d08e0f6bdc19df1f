import Foundation
import Kube
#if canImport(Glibc)
import Glibc
#endif

/// A command-line tool a test needs is not installed.
public struct ToolMissing: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The path of an installed command-line tool, or a failure saying how to install it.
public func tool(_ name: String, package: String) throws -> String {
    for directory in ["/usr/bin", "/usr/local/bin", "/usr/sbin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
        return "\(directory)/\(name)"
    }
    throw ToolMissing("\(name) is not installed; install Debian's \(package) (apt-get install \(package); .ci/run does)")
}

/// A temporary directory removed when `body` ends.
public func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rebound-webhook-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
}

/// The first element of `stream` that satisfies `predicate`, or nil when the time is up first.
public func first<T: Sendable>(_ stream: AsyncStream<T>, within timeout: Duration = .seconds(15), where predicate: @escaping @Sendable (T) -> Bool) async -> T? {
    let found = await withDeadline(timeout) { () async -> T? in
        for await element in stream where predicate(element) { return element }
        return nil
    }
    return (try? found?.get()) ?? nil
}

/// Runs a command to completion on a thread of its own and returns its exit status and combined
/// output. Waiting for a child process blocks its thread, and a blocked thread of Swift's small
/// cooperative pool can starve the very server the child talks to, so tests never wait for a
/// child on a pool thread. A child still running after `timeout` is killed, so a broken server
/// fails the test instead of hanging it.
public func run(_ executable: String, _ arguments: [String], input: String? = nil, timeout: Duration = .seconds(60)) async throws -> (status: Int32, output: String) {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try spawnAndWait(executable, arguments, input: input ?? "", timeout: timeout) })
        }
        thread.start()
    }
}

/// posix_spawn, write `input`, read the output until EOF, wait. Foundation's `Process` is avoided
/// here: with many children started and reaped at once from several threads it crashed the test
/// process now and then (inside libdispatch's child-exit monitoring).
private func spawnAndWait(_ executable: String, _ arguments: [String], input: String, timeout: Duration) throws -> (status: Int32, output: String) {
    var output: [Int32] = [0, 0]
    var stdin: [Int32] = [0, 0]
    guard pipe(&output) == 0, pipe(&stdin) == 0 else { throw POSIXError(.EMFILE) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, stdin[0], 0)
    posix_spawn_file_actions_adddup2(&actions, output[1], 1)
    posix_spawn_file_actions_adddup2(&actions, output[1], 2)
    for descriptor in [stdin[0], stdin[1], output[0], output[1]] { posix_spawn_file_actions_addclose(&actions, descriptor) }
    // Nothing else is inherited: NIO accepts connections without FD_CLOEXEC, and a child holding a
    // copy of a server's socket keeps the connection open after the server closes it.
    // (glibc 2.34+; not in the Glibc module map, so looked up.)
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
    }
    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    close(stdin[0])
    close(output[1])
    guard spawned == 0 else {
        close(stdin[1])
        close(output[0])
        throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .ENOENT)
    }
    let bytes = Array(input.utf8)
    _ = bytes.withUnsafeBytes { write(stdin[1], $0.baseAddress, $0.count) }
    close(stdin[1])

    let (seconds, attoseconds) = timeout.components
    let deadline = Date().addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18)
    var collected: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    var killed = false
    while true {
        var descriptor = pollfd(fd: output[0], events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, 100)
        if ready > 0 {
            let count = buffer.withUnsafeMutableBytes { read(output[0], $0.baseAddress, $0.count) }
            if count <= 0 { break }
            collected.append(contentsOf: buffer[0..<count])
        } else if !killed, Date() > deadline {
            kill(pid, SIGKILL)
            killed = true
        }
    }
    close(output[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    // WIFEXITED / WEXITSTATUS; a killed child reports 128 + signal, as shells do.
    let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return (exitStatus, String(decoding: collected, as: UTF8.self))
}
