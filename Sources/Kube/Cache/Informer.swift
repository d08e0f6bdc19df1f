public import Logging

/// A local, continuously updated copy of one kind of object (client-go's informer): it lists,
/// then watches from the list's resource version with bookmarks; after a dropped stream it
/// resumes from the last version it saw; on 410 Gone it lists again and reports the difference;
/// failures back off exponentially with jitter.
///
/// Readers get the cache (``get(_:)``, ``items()``, ``byIndex(_:_:)``), a ``waitUntilSynced()``
/// signal, and typed change events from ``subscribe(replay:)``.
public actor Informer<Object: KubeResource> {
    /// What to watch and how.
    public struct Options: Sendable {
        /// Only this namespace (nil: all).
        public var namespace: String?
        public var labelSelector: String?
        public var fieldSelector: String?
        /// Objects per list page.
        public var pageSize = 500
        /// Asks the server to end each watch after this long; the informer then resumes.
        public var watchTimeoutSeconds: Int? = 300
        public var backoff = Backoff()
        /// Applied to every object before it is cached (client-go's SetTransform): drop what no
        /// reader needs, so a large cluster fits in little memory.
        public var transform: (@Sendable (Object) -> Object)?

        public init(namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil) {
            self.namespace = namespace
            self.labelSelector = labelSelector
            self.fieldSelector = fieldSelector
        }
    }

    /// Counters, for metrics and tests.
    public struct Statistics: Sendable, Equatable {
        public var lists = 0
        public var watches = 0
        /// Lists after the first, forced by 410 Gone.
        public var relists = 0
        public var events = 0
        public var bookmarks = 0
        public var errors = 0
    }

    public typealias IndexFunction = @Sendable (Object) -> [String]

    public nonisolated let options: Options
    private let client: KubeClient
    private let logger: Logger
    private var objects: [String: Object] = [:]
    private let indexers: [String: IndexFunction]
    /// index name → value → keys (arrays: most buckets hold one or a few keys, and a Set costs more).
    private var indexes: [String: [String: [String]]] = [:]
    private var subscribers: [Int: AsyncStream<InformerEvent<Object>>.Continuation] = [:]
    private var nextSubscriber = 0
    private var synced = false
    private var syncWaiters: [CheckedContinuation<Void, Never>] = []
    private var relistSeen: Set<String>?
    /// The resource version to resume watching from.
    public private(set) var lastResourceVersion: String?
    public private(set) var statistics = Statistics()

    public init(client: KubeClient, options: Options = .init(), indexers: [String: IndexFunction] = [:], logger: Logger? = nil) {
        self.client = client
        self.options = options
        self.indexers = indexers
        self.logger = logger ?? Logger(label: "rebound.informer.\(Object.resourceType.plural)")
        for name in indexers.keys { indexes[name] = [:] }
    }

    // MARK: Reading the cache

    public var hasSynced: Bool { synced }

    /// Returns once the first list has been loaded.
    public func waitUntilSynced() async {
        if synced { return }
        await withCheckedContinuation { syncWaiters.append($0) }
    }

    /// The object with this `namespace/name` (or `name`) key.
    public func get(_ key: String) -> Object? { objects[key] }

    public func items() -> [Object] { Array(objects.values) }

    public var count: Int { objects.count }

    /// Objects whose index function returned `value` for index `index`.
    public func byIndex(_ index: String, _ value: String) -> [Object] {
        (indexes[index]?[value] ?? []).compactMap { objects[$0] }
    }

    /// A stream of changes. With `replay`, the objects already cached come first as `.added`.
    public func subscribe(replay: Bool = false) -> AsyncStream<InformerEvent<Object>> {
        let (stream, continuation) = AsyncStream<InformerEvent<Object>>.makeStream()
        if replay {
            for object in objects.values { continuation.yield(.added(object)) }
        }
        nextSubscriber += 1
        let id = nextSubscriber
        subscribers[id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribe(id) }
        }
        return stream
    }

    /// The cached objects and a stream of every change after them, taken at one instant: a reader
    /// that builds its own state from the objects and then applies the events misses nothing and
    /// knows when it has caught up (unlike with ``subscribe(replay:)``).
    public func snapshotAndSubscribe() -> (objects: [Object], events: AsyncStream<InformerEvent<Object>>) {
        (Array(objects.values), subscribe(replay: false))
    }

    private func unsubscribe(_ id: Int) { subscribers.removeValue(forKey: id) }

    // MARK: Running

    /// Lists and watches until the calling task is cancelled.
    public nonisolated func run() async {
        var backoff = options.backoff
        var needsList = true
        var first = true
        while !Task.isCancelled {
            if needsList {
                do {
                    try await list(isRelist: !first)
                    first = false
                    needsList = false
                    backoff.reset()
                } catch {
                    if Task.isCancelled { break }
                    await noteError()
                    logger.warning("list failed, retrying", metadata: ["resource": "\(Object.resourceType)", "error": "\(error)"])
                    try? await Task.sleep(for: backoff.next())
                    continue
                }
            }
            do {
                var listOptions = ListOptions(labelSelector: options.labelSelector, fieldSelector: options.fieldSelector)
                listOptions.resourceVersion = await lastResourceVersion
                let watch = try await client.watch(Object.self, namespace: options.namespace, options: listOptions, allowBookmarks: true, timeoutSeconds: options.watchTimeoutSeconds)
                await noteWatch()
                backoff.reset()
                for try await event in watch {
                    await apply(event)
                }
                // The server ended the stream (timeout or restart): resume from the last version.
            } catch let error as KubeAPIError where error.isGone {
                logger.info("resource version too old, listing again", metadata: ["resource": "\(Object.resourceType)", "error": "\(error)"])
                needsList = true
            } catch {
                if Task.isCancelled { break }
                await noteError()
                logger.warning("watch failed, resuming", metadata: ["resource": "\(Object.resourceType)", "error": "\(error)"])
                try? await Task.sleep(for: backoff.next())
            }
        }
        await finishSubscribers()
    }

    private nonisolated func list(isRelist: Bool) async throws {
        var listOptions = ListOptions(labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, limit: options.pageSize)
        var page = try await client.list(Object.self, namespace: options.namespace, options: listOptions)
        let resourceVersion = page.metadata.resourceVersion
        await beginRelist(isRelist: isRelist)
        while true {
            await merge(page.items)
            guard let token = page.metadata.continue, !token.isEmpty else { break }
            listOptions.continueToken = token
            page = try await client.list(Object.self, namespace: options.namespace, options: listOptions)
        }
        await finishRelist(resourceVersion: resourceVersion)
    }

    // MARK: Applying changes

    private func beginRelist(isRelist: Bool) {
        statistics.lists += 1
        if isRelist { statistics.relists += 1 }
        relistSeen = []
    }

    private func merge(_ page: [Object]) {
        for object in page {
            relistSeen?.insert(object.key)
            upsert(object)
        }
    }

    private func finishRelist(resourceVersion: String?) {
        let seen = relistSeen ?? []
        relistSeen = nil
        for key in objects.keys where !seen.contains(key) {
            if let object = objects[key] { remove(object) }
        }
        lastResourceVersion = resourceVersion
        if !synced {
            synced = true
            for waiter in syncWaiters { waiter.resume() }
            syncWaiters = []
        }
    }

    private func apply(_ event: WatchEvent<Object>) {
        if let version = event.resourceVersion, !version.isEmpty { lastResourceVersion = version }
        switch event {
        case .added(let object), .modified(let object):
            statistics.events += 1
            upsert(object)
        case .deleted(let object):
            statistics.events += 1
            remove(object)
        case .bookmark:
            statistics.bookmarks += 1
        }
    }

    private func upsert(_ received: Object) {
        let object = options.transform.map { $0(received) } ?? received
        let key = object.key
        let old = objects.updateValue(object, forKey: key)
        if let old, old.metadata.resourceVersion == object.metadata.resourceVersion { return }
        reindex(key: key, old: old, new: object)
        publish(old.map { .modified(old: $0, new: object) } ?? .added(object))
    }

    private func remove(_ object: Object) {
        let key = object.key
        guard let old = objects.removeValue(forKey: key) else { return }
        reindex(key: key, old: old, new: nil)
        publish(.deleted(object.metadata.resourceVersion == nil ? old : object))
    }

    private func reindex(key: String, old: Object?, new: Object?) {
        for (name, function) in indexers {
            let before = old.map(function) ?? []
            let after = new.map(function) ?? []
            if before == after { continue }
            for value in before {
                indexes[name]?[value]?.removeAll { $0 == key }
                if indexes[name]?[value]?.isEmpty == true { indexes[name]?[value] = nil }
            }
            for value in after where indexes[name]?[value]?.contains(key) != true {
                indexes[name, default: [:]][value, default: []].append(key)
            }
        }
    }

    private func publish(_ event: InformerEvent<Object>) {
        for continuation in subscribers.values { continuation.yield(event) }
    }

    private func noteWatch() { statistics.watches += 1 }
    private func noteError() { statistics.errors += 1 }

    private func finishSubscribers() {
        for continuation in subscribers.values { continuation.finish() }
        subscribers = [:]
    }
}

extension Informer where Object == Pod {
    /// The index name of ``Informer/podsByNode``.
    public static var nodeIndex: String { "node" }

    /// Indexes pods by `spec.nodeName`.
    public static var podsByNode: [String: IndexFunction] {
        [nodeIndex: { pod in pod.nodeName.map { [$0] } ?? [] }]
    }
}

extension Informer where Object == Pod {
    /// The index name of ``Informer/podsByClaim``: pods by the `namespace/claim` keys they mount.
    public static var claimIndex: String { "claim" }

    /// Indexes pods by `namespace/claimName` of every claim they use.
    public static var podsByClaim: [String: IndexFunction] {
        [claimIndex: { pod in pod.claimNames.map { "\(pod.namespace ?? "")/\($0)" } }]
    }
}
