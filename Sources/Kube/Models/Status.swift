/// `metav1.Status`: what the API server answers with when a request fails.
public struct Status: Codable, Sendable, Hashable {
    public struct Details: Codable, Sendable, Hashable {
        public struct Cause: Codable, Sendable, Hashable {
            public var reason: String?
            public var message: String?
            public var field: String?

            public init(reason: String? = nil, message: String? = nil, field: String? = nil) {
                self.reason = reason
                self.message = message
                self.field = field
            }
        }

        public var name: String?
        public var group: String?
        public var kind: String?
        public var uid: String?
        public var causes: [Cause]?
        public var retryAfterSeconds: Int32?

        public init(name: String? = nil, group: String? = nil, kind: String? = nil, uid: String? = nil, causes: [Cause]? = nil, retryAfterSeconds: Int32? = nil) {
            self.name = name
            self.group = group
            self.kind = kind
            self.uid = uid
            self.causes = causes
            self.retryAfterSeconds = retryAfterSeconds
        }
    }

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ListMeta?
    /// `Success` or `Failure`.
    public var status: String?
    public var message: String?
    /// A machine-readable reason: `NotFound`, `AlreadyExists`, `Conflict`, `Expired`, `Gone`…
    public var reason: String?
    public var details: Details?
    public var code: Int?

    public init(status: String, message: String? = nil, reason: String? = nil, details: Details? = nil, code: Int? = nil) {
        self.apiVersion = "v1"
        self.kind = "Status"
        self.metadata = ListMeta()
        self.status = status
        self.message = message
        self.reason = reason
        self.details = details
        self.code = code
    }
}
