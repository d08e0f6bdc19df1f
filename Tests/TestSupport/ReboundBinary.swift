public import Foundation

/// The `rebound` executable `swift build` produced, for tests that run it as operators do.
public enum ReboundBinary {
    public static var path: String {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rebound").path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent(".build/debug/rebound").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return besideTests
    }
}

/// A child process whose standard output and error are read line by line.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    private let output = Pipe()
    private let lock = NSLock()
    private var buffer = Data()
    private var lines: [String] = []
    private var exited = false
    private var waiters: [UUID: (predicate: @Sendable (String) -> Bool, continuation: CheckedContinuation<String?, Never>)] = [:]

    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardOutput = output
        process.standardError = output
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            if data.isEmpty { self?.finish() } else { self?.append(data) }
        }
        try process.run()
    }

    private func append(_ data: Data) {
        var resumed: [(CheckedContinuation<String?, Never>, String)] = []
        lock.lock()
        buffer.append(data)
        while let newline = buffer.firstIndex(of: 0x0A) {
            let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
            buffer.removeSubrange(buffer.startIndex...newline)
            lines.append(line)
            for (id, waiter) in waiters where waiter.predicate(line) {
                waiters.removeValue(forKey: id)
                resumed.append((waiter.continuation, line))
            }
        }
        lock.unlock()
        for (continuation, line) in resumed { continuation.resume(returning: line) }
    }

    private func finish() {
        lock.lock()
        exited = true
        let pending = waiters.values.map(\.continuation)
        waiters = [:]
        lock.unlock()
        for continuation in pending { continuation.resume(returning: nil) }
    }

    /// Everything printed so far, as lines.
    public var printed: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }

    /// The first printed line satisfying `predicate`, awaiting it; nil if the output ends or the time is up first.
    public func waitForLine(timeout: Duration = .seconds(30), where predicate: @escaping @Sendable (String) -> Bool) async -> String? {
        let id = UUID()
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.cancelWaiter(id)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            lock.lock()
            if let line = lines.first(where: predicate) {
                lock.unlock()
                continuation.resume(returning: line)
            } else if exited {
                lock.unlock()
                continuation.resume(returning: nil)
            } else {
                waiters[id] = (predicate, continuation)
                lock.unlock()
            }
        }
    }

    private func cancelWaiter(_ id: UUID) {
        lock.lock()
        let waiter = waiters.removeValue(forKey: id)
        lock.unlock()
        waiter?.continuation.resume(returning: nil)
    }

    public func stop() {
        if process.isRunning { process.interrupt() }
        process.waitUntilExit()
    }
}

/// Runs a command to completion and returns its exit status and combined output.
public func runCommand(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    if let input {
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
    } else {
        try process.run()
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
