public import Capacity
public import Serving

/// How the scheduler extender is served and decides: the `extender.*`, `capacity.*` and
/// `compat.*` configuration, as one value.
public struct ExtenderSettings: Sendable, Hashable {
    /// Address to listen on.
    public var address = "0.0.0.0"
    /// Port to listen on; 0 picks a free one (tests).
    public var port = 8444
    /// URL path of kube-scheduler's `filterVerb`.
    public var filterPath = "/filter"
    /// URL path of kube-scheduler's `prioritizeVerb`.
    public var prioritizePath = "/prioritize"
    /// URL path of kube-scheduler's `bindVerb`.
    public var bindPath = "/bind"
    /// How prioritize ranks the nodes a pod fits on.
    public var strategy = ScoringStrategy.spreadout
    /// Annotation, resource and capacity keys shared with the webhook.
    public var keys = CompatibilityKeys()
    /// How long a placed pod counts against a node at most while its volumes are provisioned.
    public var reservationTTL: Duration = .seconds(300)
    /// Where the reservations every replica shares are kept (a ConfigMap); nil keeps them in this
    /// process only, which is right for exactly one replica.
    public var sharedLedger: SharedLedgerLocation?
    /// Connections, deadlines and buffers of the extender's listener. Bodies up to 64 MiB: a full
    /// NodeList of 5,000 nodes is tens of MiB.
    public var limits = ListenerLimits(maxBodyBytes: 64 * 1024 * 1024)
    /// Serving certificate chain (PEM file) for HTTPS; nil serves plain HTTP.
    public var tlsCertificateFile: String?
    /// Private key (PEM file) for ``tlsCertificateFile``.
    public var tlsKeyFile: String?
    /// CAs (PEM file) client certificates must chain to; nil accepts any caller.
    public var tlsClientCAFile: String?
    /// Names (common name or DNS name) one of which a client certificate must carry; empty: any.
    public var tlsClientAllowedNames: [String] = []

    public init() {}
}

/// The ConfigMap that holds the extender's shared reservation ledger.
public struct SharedLedgerLocation: Sendable, Hashable {
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }
}
