import Synchronization
import Foundation
import Kube
import Logging

/// Writes one JSON object per log event to standard error, for log collectors.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: JSONObject = [
            "time": .string(KubeTime.format(Date(), micro: true)),
            "level": .string(event.level.rawValue),
            "logger": .string(label),
            "message": .string(event.message.description),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { object[key] = .string(value.description) }
        var line = JSONValue.object(object).serialized()
        line.append(0x0A)
        FileHandle.standardError.write(Data(line))
    }
}

/// Sets up process-wide logging once, from `log.level` and `log.format`. swift-log allows one
/// bootstrap a process; later calls (a command run in-process by a test after another) keep the first.
enum ReboundLogging {
    private static let done = Mutex(false)

    static func bootstrap(level: String, format: String) {
        guard !done.withLock({ done in defer { done = true }; return done }) else { return }
        let logLevel = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            if format == "json" {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = logLevel
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
    }
}
