import Foundation
public import Kube

extension SimStore {
    /// A watch the caller reads frames from; each frame is one JSON watch event and a newline.
    public struct WatchSubscription: Sendable {
        public let id: Int
        public let frames: AsyncStream<[UInt8]>
    }

    /// Starts a watch.
    ///
    /// - `from`: resume after this resource version (events newer than it are replayed from the
    ///   change log, or 410 Expired when they were compacted away); nil or 0 first sends every
    ///   matching object as ADDED, as a watch without a resource version does.
    public func watch(
        _ type: ResourceType, namespace: String?, labels: LabelSelectorExpression = .init(), fields: FieldSelectorExpression = .init(),
        from: UInt64?, bookmarks: Bool = false
    ) throws(KubeAPIError) -> WatchSubscription {
        let table = try table(type)
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .unbounded)
        let watcher = Watcher(namespace: type.namespaced ? namespace : nil, labels: labels, fields: fields, bookmarks: bookmarks, continuation: continuation)
        if let from, from > 0 {
            if from < table.compactedRevision {
                throw .expired("too old resource version: \(from) (\(table.compactedRevision + 1))")
            }
            for change in table.log where change.revision > from {
                if let kind = watcher.event(for: change) { continuation.yield(Self.frame(kind.rawValue, change.object.encoded)) }
            }
        } else {
            for key in table.sortedKeys() {
                let object = table.objects[key]!
                if watcher.matches(object) { continuation.yield(Self.frame("ADDED", object.encoded)) }
            }
        }
        let id = nextWatchID()
        table.watchers[id] = watcher
        continuation.onTermination = { [weak self] _ in
            Task { await self?.stopWatch(type, id: id) }
        }
        return WatchSubscription(id: id, frames: stream)
    }

    /// Ends a watch (the client went away or the server timed it out).
    public func stopWatch(_ type: ResourceType, id: Int) {
        guard let watcher = tables[type.description]?.watchers.removeValue(forKey: id) else { return }
        watcher.continuation.finish()
    }

    /// Closes every open watch, as a restarting API server or a dropped connection would.
    public func dropAllWatches() {
        for id in tables.keys {
            let watchers = tables[id]?.watchers ?? [:]
            tables[id]?.watchers = [:]
            for watcher in watchers.values { watcher.continuation.finish() }
        }
    }

    /// The number of open watches (for tests and metrics).
    public var openWatchCount: Int { tables.values.reduce(0) { $0 + $1.watchers.count } }

    /// Sends a BOOKMARK with the current revision to every watch that asked for bookmarks.
    public func emitBookmarks() {
        for table in tables.values {
            let type = table.resource.type
            let bookmark: JSONValue = [
                "kind": .string(type.kind), "apiVersion": .string(type.apiVersion),
                "metadata": ["resourceVersion": .string(String(revision))],
            ]
            let frame = Self.frame("BOOKMARK", bookmark.serialized())
            for watcher in table.watchers.values where watcher.bookmarks { watcher.continuation.yield(frame) }
        }
    }

    /// Forgets the change history of every resource, so watches from any earlier resource
    /// version get 410 Expired (what etcd compaction does).
    public func compact() {
        for id in tables.keys {
            tables[id]?.log.removeAll()
            tables[id]?.compactedRevision = revision
        }
    }

    func publish(_ change: ChangeRecord, in type: ResourceType) {
        guard let table = tables[type.description] else { return }
        table.record(change, capacity: logCapacity)
        var frames: [ChangeRecord.Kind: [UInt8]] = [:]
        for watcher in table.watchers.values {
            guard let kind = watcher.event(for: change) else { continue }
            let frame = frames[kind] ?? Self.frame(kind.rawValue, change.object.encoded)
            frames[kind] = frame
            watcher.continuation.yield(frame)
        }
    }

    static func frame(_ type: String, _ object: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(object.count + 32)
        frame.append(contentsOf: "{\"type\":\"".utf8)
        frame.append(contentsOf: type.utf8)
        frame.append(contentsOf: "\",\"object\":".utf8)
        frame.append(contentsOf: object)
        frame.append(contentsOf: "}\n".utf8)
        return frame
    }

    /// A watch ERROR frame carrying a Status, as the API server sends for 410 Expired.
    public static func errorFrame(_ error: KubeAPIError) -> [UInt8] {
        let status = (try? JSONValue(encoding: error.status)) ?? .emptyObject
        return frame("ERROR", status.serialized())
    }
}
