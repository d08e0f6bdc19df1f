import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Makes sure the process exits within a bounded time of SIGTERM or SIGINT, whatever its event
/// loops and tasks are doing. Graceful shutdown waits for every service, and a service can wait on
/// something that never finishes; the kubelet would then kill the pod only after
/// `terminationGracePeriodSeconds`, with nothing in the log to say why.
///
/// The signal is watched on a dispatch queue of its own and the countdown runs on a thread of its
/// own, so neither depends on the event loops or Swift's cooperative pool. When the grace is up it
/// writes one line to standard error and exits with status 1, without running exit handlers that
/// could wait on a lock a stuck thread holds.
enum ShutdownWatchdog {
    /// Arms the watchdog; call once, before the services start.
    static func arm(grace: Duration) {
        let queue = DispatchQueue(label: "rebound.shutdown-watchdog")
        for signalNumber in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler { startCountdown(grace: grace, signal: signalNumber) }
            source.resume()
            sources.append(source)
        }
    }

    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    nonisolated(unsafe) private static var started = false

    /// Runs on the watchdog's serial queue only.
    private static func startCountdown(grace: Duration, signal: Int32) {
        guard !started else { return }
        started = true
        let thread = Thread {
            Thread.sleep(forTimeInterval: Double(grace.components.seconds) + Double(grace.components.attoseconds) / 1e18)
            let line = "rebound: still running \(grace) after signal \(signal) (server.shutdownGraceSeconds); exiting now\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
            _exit(1)
        }
        thread.start()
    }
}
