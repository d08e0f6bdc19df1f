import AsyncHTTPClient
import Foundation
import NIOCore

/// The events of one watch request, in order. Ends when the server closes the stream; throws
/// ``KubeAPIError`` when the server sends an ERROR event (410 Expired means: relist).
public struct KubeWatch<Object: KubeResource>: AsyncSequence, Sendable {
    public typealias Element = WatchEvent<Object>

    let body: HTTPClientResponse.Body

    public func makeAsyncIterator() -> Iterator {
        Iterator(body: body.makeAsyncIterator())
    }

    public struct Iterator: AsyncIteratorProtocol {
        var body: HTTPClientResponse.Body.AsyncIterator
        var splitter = JSONFrameSplitter()
        var finished = false

        public mutating func next() async throws -> WatchEvent<Object>? {
            while !finished {
                if let frame = try splitter.nextFrame() {
                    return try Self.decodeFrame(frame)
                }
                guard let chunk = try await body.next() else {
                    finished = true
                    break
                }
                splitter.append(chunk.readableBytesView)
            }
            return nil
        }

        /// Decodes `{"type": ..., "object": ...}`, reading the object as `Object` or, for ERROR, as a Status.
        static func decodeFrame(_ frame: [UInt8]) throws -> WatchEvent<Object> {
            var typeName: String?
            var objectRange: Range<Int>?
            let scan: Result<Void, JSONError> = frame.withUnsafeBytes { buffer in
                var scanner = JSONScanner(buffer)
                do throws(JSONError) {
                    try scanner.readObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
                        switch key {
                        case "type": typeName = try scanner.readString()
                        case "object": objectRange = try scanner.valueRange()
                        default: try scanner.skipValue()
                        }
                    }
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            if case .failure(let error) = scan { throw KubeClientError.watch("malformed event: \(error)") }
            guard let typeName, let type = WatchEvent<Object>.EventType(rawValue: typeName), let objectRange else {
                throw KubeClientError.watch("event without a known type and an object")
            }
            let objectData = Data(frame[objectRange])
            switch type {
            case .error:
                let status = (try? JSONDecoder().decode(Status.self, from: objectData)) ?? Status(status: "Failure", message: String(decoding: objectData, as: UTF8.self))
                throw KubeAPIError(code: status.code ?? 500, status: status)
            case .bookmark:
                // Only the resource version is meaningful; the rest of the object may be empty.
                let version = (try? JSONValue(parsing: objectData))?["metadata"]?["resourceVersion"]?.stringValue
                guard let version else { throw KubeClientError.watch("BOOKMARK event without a resource version") }
                return .bookmark(resourceVersion: version)
            case .added, .modified, .deleted:
                let object = try frame[objectRange].withUnsafeBytes { try KubeClient.decode(Object.self, from: $0) }
                return type == .added ? .added(object) : type == .modified ? .modified(object) : .deleted(object)
            }
        }
    }
}

extension KubeClient {
    /// Opens a watch. With a `resourceVersion`, events after it; without, the current objects
    /// as ADDED first. The request has no deadline; cancel the consuming task to stop it.
    public func watch<T: KubeResource>(
        _ type: T.Type, namespace: String? = nil, options: ListOptions = .init(), allowBookmarks: Bool = true, timeoutSeconds: Int? = nil
    ) async throws -> KubeWatch<T> {
        var query = options.query.filter { $0.0 != "limit" && $0.0 != "continue" }
        query.append(("watch", "true"))
        if allowBookmarks { query.append(("allowWatchBookmarks", "true")) }
        if let timeoutSeconds { query.append(("timeoutSeconds", String(timeoutSeconds))) }
        let path = T.resourceType.path(namespace: T.resourceType.namespaced ? namespace : nil)
        var retriedAuth = false
        while true {
            let response = try await perform(.GET, path, query: query, body: nil, contentType: "application/json", timeout: nil)
            if response.status.code == 401, !retriedAuth, await tokens.invalidate() {
                retriedAuth = true
                continue
            }
            guard response.status.code == 200 else {
                let body = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
                throw Self.apiError(code: Int(response.status.code), headers: response.headers, body: body)
            }
            return KubeWatch(body: response.body)
        }
    }
}
