import Foundation
import Subprocess
import Synchronization

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

/// A child process (run with swift-subprocess) whose combined output is read line by line.
/// Stopping it cancels the run, which interrupts the process and, if needed, kills it.
public final class ChildProcess: Sendable {
    private struct State {
        var lines: [String] = []
        var ended = false
        var waiters: [UUID: (predicate: @Sendable (String) -> Bool, continuation: CheckedContinuation<String?, Never>)] = [:]
    }

    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        let runner = Task { [self] in
            var options = PlatformOptions()
            options.teardownSequence = [.send(signal: .interrupt, allowedDurationToNextStep: .seconds(3))]
            let environment: Environment = environment.map { .custom($0.reduce(into: [:]) { $0[Environment.Key(stringLiteral: $1.key)] = $1.value }) } ?? .inherit
            _ = try? await run(
                .path(.init(executable)), arguments: Arguments(arguments), environment: environment, platformOptions: options,
                input: .none, output: .sequence, error: .combinedWithOutput
            ) { execution in
                for try await line in execution.standardOutput.strings() {
                    self.append(line.hasSuffix("\n") ? String(line.dropLast()) : line)
                }
            }
            self.finish()
        }
        task.withLock { $0 = runner }
    }

    private func append(_ line: String) {
        let ready = state.withLock { state -> [(CheckedContinuation<String?, Never>)] in
            state.lines.append(line)
            var ready: [CheckedContinuation<String?, Never>] = []
            for (id, waiter) in state.waiters where waiter.predicate(line) {
                state.waiters.removeValue(forKey: id)
                ready.append(waiter.continuation)
            }
            return ready
        }
        for continuation in ready { continuation.resume(returning: line) }
    }

    private func finish() {
        let pending = state.withLock { state -> [CheckedContinuation<String?, Never>] in
            state.ended = true
            defer { state.waiters = [:] }
            return state.waiters.values.map(\.continuation)
        }
        for continuation in pending { continuation.resume(returning: nil) }
    }

    /// Everything printed so far, as lines.
    public var printed: [String] { state.withLock { $0.lines } }

    /// The first printed line satisfying `predicate`, awaiting it; nil if the output ends or the time is up first.
    public func waitForLine(timeout: Duration = .seconds(30), where predicate: @escaping @Sendable (String) -> Bool) async -> String? {
        let id = UUID()
        let timer = Task {
            try? await Task.sleep(for: timeout)
            let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(returning: nil)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let immediate = state.withLock { state -> String?? in
                if let line = state.lines.first(where: predicate) { return .some(line) }
                if state.ended { return .some(nil) }
                state.waiters[id] = (predicate, continuation)
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    /// Interrupts the process and waits until it has exited.
    public func stop() async {
        guard let runner = task.withLock({ $0 }) else { return }
        runner.cancel()
        await runner.value
    }
}

/// Runs a command to completion and returns its exit status and combined output.
public func runCommand(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil) async throws -> (status: Int32, output: String) {
    let environment: Environment = environment.map { .custom($0.reduce(into: [:]) { $0[Environment.Key(stringLiteral: $1.key)] = $1.value }) } ?? .inherit
    let configuration = Configuration(executable: .path(.init(executable)), arguments: Arguments(arguments), environment: environment)
    let result = if let input {
        try await run(configuration, input: .string(input), output: .string(limit: 64 * 1024 * 1024), error: .combinedWithOutput)
    } else {
        try await run(configuration, input: .none, output: .string(limit: 64 * 1024 * 1024), error: .combinedWithOutput)
    }
    let status: Int32
    switch result.terminationStatus {
    case .exited(let code): status = Int32(code)
    case .signaled(let signal): status = 128 + Int32(signal)
    }
    return (status, result.standardOutput)
}
