import Capacity
/// Every configuration key Rebound reads, with its default and meaning. Sections group keys in
/// the defaults file; the order here is the order there.
public enum ConfigSchema {
    public struct Section: Sendable {
        let name: String
        let help: String
    }

    public static let sections: [Section] = [
        Section(name: "log", help: "Logging."),
        Section(name: "kube", help: "How Rebound reaches the Kubernetes API."),
        Section(name: "compat", help: "Annotation, label and StorageClass keys Rebound recognises. The defaults are Carina's."),
        Section(name: "capacity", help: "Where free volume-group capacity is read, and how pods are routed to the extender."),
        Section(name: "webhook", help: "The admission webhook kube-apiserver calls on pod CREATE (always TLS)."),
        Section(name: "extender", help: "The scheduler extender kube-scheduler calls (filter, prioritize and bind)."),
        Section(name: "failover", help: "The controller that moves opted-in pods off failed nodes."),
        Section(name: "leaderElection", help: "Only the replica holding this Lease runs the failover controller."),
        Section(name: "health", help: "The plain-HTTP listener for /healthz, /readyz and /metrics."),
        Section(name: "server", help: "Bounds every listener (webhook, extender, health) sets its callers, and how long the process may take to stop."),
    ]

    public static let keys: [ConfigKey] = [
        ConfigKey(path: "log.level", kind: .choice(["trace", "debug", "info", "notice", "warning", "error", "critical"]), defaultValue: .string("info"),
                  help: "Least severe log level written."),
        ConfigKey(path: "log.format", kind: .choice(["text", "json"]), defaultValue: .string("text"),
                  help: "text: one human-readable line per event; json: one JSON object per line, for log collectors."),

        ConfigKey(path: "kube.kubeconfig", kind: .string, defaultValue: .string(""),
                  help: "Kubeconfig file. Empty: the pod's service account (in a cluster), else $KUBECONFIG, else ~/.kube/config."),
        ConfigKey(path: "kube.context", kind: .string, defaultValue: .string(""), help: "Kubeconfig context. Empty: its current-context."),
        ConfigKey(path: "kube.qps", kind: .double(0...100_000), defaultValue: .double(50),
                  help: "Client-side limit on API requests a second (0: no limit)."),
        ConfigKey(path: "kube.burst", kind: .int(1...100_000), defaultValue: .int(100), help: "Requests allowed at once above kube.qps."),
        ConfigKey(path: "kube.eventQPS", kind: .double(0...100_000), defaultValue: .double(20),
                  help: "Separate limit for posting Events (0: no limit), so recording them never slows the work they describe."),
        ConfigKey(path: "kube.eventBurst", kind: .int(1...100_000), defaultValue: .int(50), help: "Events allowed at once above kube.eventQPS."),
        ConfigKey(path: "kube.requestTimeoutSeconds", kind: .int(1...600), defaultValue: .int(30), help: "Timeout of one API request (watches excepted)."),
        ConfigKey(path: "kube.pageSize", kind: .int(1...100_000), defaultValue: .int(500), help: "Objects per page when the caches list."),

        ConfigKey(path: "compat.preset", kind: .choice(DriverPreset.all.map(\.name)), defaultValue: .string("carina"),
                  help: "The local CSI driver: sets compat.provisioners, compat.volumeGroupParameters, compat.legacyVolumeGroups, compat.defaultVolumeGroup and capacity.source (and its prefix) to the driver's keys, unless set explicitly. See docs/drivers.md."),
        ConfigKey(path: "compat.migrationAnnotation", kind: .string, defaultValue: .string("carina.storage.io/allow-pod-migration-if-node-notready"),
                  help: "Pod annotation that opts a pod in (\"true\") or out (\"false\") of failover. The webhook sets it; an explicit \"false\" is never overwritten."),
        ConfigKey(path: "compat.namespaceLabel", kind: .string, defaultValue: .string("carina.storage.io/allow-pod-migration-if-node-notready"),
                  help: "Namespace label (value \"true\") that opts every new pod in the namespace in."),
        ConfigKey(path: "compat.provisioners", kind: .list, defaultValue: .list(["carina.storage.io"]),
                  help: "StorageClass provisioners whose volumes are node-local LVM volumes."),
        ConfigKey(path: "compat.volumeGroupParameters", kind: .list, defaultValue: .list(["carina.storage.io/disk-group-name", "carina.storage.io/disk-type"]),
                  help: "StorageClass parameters naming the volume group, tried in order."),
        ConfigKey(path: "compat.legacyVolumeGroups", kind: .map, defaultValue: .map(["ssd": "carina-vg-ssd", "hdd": "carina-vg-hdd"]),
                  help: "Old short volume-group names and the groups they mean."),
        ConfigKey(path: "compat.defaultVolumeGroup", kind: .string, defaultValue: .string(""),
                  help: "Volume group of a local StorageClass that names none (TopoLVM's default device class: 00default). Empty: such a class is not routed."),

        ConfigKey(path: "capacity.source", kind: .choice(["allocatable", "annotation", "csistoragecapacity"]), defaultValue: .string("allocatable"),
                  help: "allocatable: node status.allocatable[<allocatablePrefix><group>] in GiB (Carina); annotation: node annotation <annotationPrefix><group> in bytes (TopoLVM); csistoragecapacity: storage.k8s.io/v1 CSIStorageCapacity objects, free space per StorageClass (any driver with storage capacity tracking; each local StorageClass is then its own group)."),
        ConfigKey(path: "capacity.allocatablePrefix", kind: .string, defaultValue: .string("carina.storage.io/"),
                  help: "Prefix of the allocatable resources that report free GiB per volume group."),
        ConfigKey(path: "capacity.annotationPrefix", kind: .string, defaultValue: .string("capacity.topolvm.io/"),
                  help: "Prefix of the node annotations that report free bytes per volume group."),
        ConfigKey(path: "capacity.routingResource", kind: .string, defaultValue: .string("rebound.io/local-capacity"),
                  help: "Extended resource the webhook adds to pods so kube-scheduler asks the extender. Nodes must not advertise it (see docs)."),
        ConfigKey(path: "capacity.requestsAnnotation", kind: .string, defaultValue: .string("rebound.io/volume-requests"),
                  help: "Pod annotation where the webhook records the GiB the pod needs per volume group."),
        ConfigKey(path: "capacity.reservationTTLSeconds", kind: .int(1...86_400), defaultValue: .int(300),
                  help: "How long the extender counts a placed pod against a node while its volumes are being provisioned."),

        ConfigKey(path: "webhook.enabled", kind: .bool, defaultValue: .bool(true), help: "Serve the admission webhook."),
        ConfigKey(path: "webhook.address", kind: .string, defaultValue: .string("0.0.0.0"), help: "Address the webhook listens on."),
        ConfigKey(path: "webhook.port", kind: .int(1...65_535), defaultValue: .int(8443), help: "Port the webhook listens on."),
        ConfigKey(path: "webhook.path", kind: .string, defaultValue: .string("/mutate-pod"), help: "URL path of the mutating webhook."),
        ConfigKey(path: "webhook.tls.certFile", kind: .string, defaultValue: .string("/etc/rebound/tls/tls.crt"),
                  help: "Serving certificate chain (PEM). Reloaded when it changes on disk."),
        ConfigKey(path: "webhook.tls.keyFile", kind: .string, defaultValue: .string("/etc/rebound/tls/tls.key"), help: "Serving private key (PEM)."),
        ConfigKey(path: "webhook.tls.clientCAFile", kind: .string, defaultValue: .string(""),
                  help: "When set, callers must present a client certificate signed by one of these CAs (reloaded when it changes)."),
        ConfigKey(path: "webhook.tls.clientAllowedNames", kind: .list, defaultValue: .list([]),
                  help: "With webhook.tls.clientCAFile: the client certificate must also carry one of these as its common name or a DNS name. Empty: any certificate the CA signed."),
        ConfigKey(path: "webhook.maxBodyBytes", kind: .int(1024...(1 << 30)), defaultValue: .int(3 * 1024 * 1024),
                  help: "Largest AdmissionReview accepted."),
        ConfigKey(path: "webhook.idleTimeoutSeconds", kind: .int(1...86_400), defaultValue: .int(120),
                  help: "Close a connection idle this long (TLS handshakes included); HTTP/2 gets a GOAWAY at half of it. Keep it above kube-apiserver's 90 s client idle timeout."),

        ConfigKey(path: "extender.enabled", kind: .bool, defaultValue: .bool(true), help: "Serve the scheduler extender."),
        ConfigKey(path: "extender.address", kind: .string, defaultValue: .string("0.0.0.0"), help: "Address the extender listens on."),
        ConfigKey(path: "extender.port", kind: .int(1...65_535), defaultValue: .int(8444), help: "Port the extender listens on."),
        ConfigKey(path: "extender.filterPath", kind: .string, defaultValue: .string("/filter"), help: "URL path of the filter verb."),
        ConfigKey(path: "extender.prioritizePath", kind: .string, defaultValue: .string("/prioritize"), help: "URL path of the prioritize verb."),
        ConfigKey(path: "extender.bindPath", kind: .string, defaultValue: .string("/bind"),
                  help: "URL path of the bind verb. Recommended: set bindVerb in kube-scheduler's extender configuration, so a placement counts against its node before the next pod is filtered (see docs/extender.md)."),
        ConfigKey(path: "extender.strategy", kind: .choice(["spreadout", "binpack"]), defaultValue: .string("spreadout"),
                  help: "spreadout: prefer the node with the most free space left; binpack: the least."),
        ConfigKey(path: "extender.tls.certFile", kind: .string, defaultValue: .string(""),
                  help: "Serving certificate for HTTPS. Empty: plain HTTP."),
        ConfigKey(path: "extender.tls.keyFile", kind: .string, defaultValue: .string(""), help: "Private key for extender.tls.certFile."),
        ConfigKey(path: "extender.tls.clientCAFile", kind: .string, defaultValue: .string(""),
                  help: "With extender.tls.certFile: callers (kube-scheduler) must present a client certificate signed by one of these CAs (reloaded when it changes). Set it in production: whoever reaches the port can otherwise bind pods."),
        ConfigKey(path: "extender.tls.clientAllowedNames", kind: .list, defaultValue: .list([]),
                  help: "With extender.tls.clientCAFile: the client certificate must also carry one of these as its common name or a DNS name (e.g. kube-scheduler). Empty: any certificate the CA signed."),
        ConfigKey(path: "extender.maxBodyBytes", kind: .int(1024...(1 << 31)), defaultValue: .int(64 * 1024 * 1024),
                  help: "Largest extender request accepted (a full NodeList of 5,000 nodes is tens of MiB)."),
        ConfigKey(path: "extender.sharedLedger.enabled", kind: .bool, defaultValue: .bool(true),
                  help: "Keep reservations in a ConfigMap every replica reads and writes (needed with more than one replica; see docs/extender.md)."),
        ConfigKey(path: "extender.sharedLedger.namespace", kind: .string, defaultValue: .string("rebound-system"), help: "Namespace of the shared reservation ledger's ConfigMap."),
        ConfigKey(path: "extender.sharedLedger.name", kind: .string, defaultValue: .string("rebound-reservations"), help: "Name of the shared reservation ledger's ConfigMap."),
        ConfigKey(path: "extender.idleTimeoutSeconds", kind: .int(1...86_400), defaultValue: .int(120),
                  help: "Close a connection idle this long. Keep it above kube-scheduler's 90 s client idle timeout."),

        ConfigKey(path: "failover.enabled", kind: .bool, defaultValue: .bool(true), help: "Run the failover controller."),
        ConfigKey(path: "failover.notReadyTimeoutSeconds", kind: .int(0...86_400), defaultValue: .int(30),
                  help: "How long a node's Ready condition must stay not True before the node is suspected down, counted on this replica's clock from when it first saw the condition (never from a time the node wrote)."),
        ConfigKey(path: "failover.maxFailedNodeFraction", kind: .double(0...1), defaultValue: .double(0.5),
                  help: "Pause all migration while more than this share of nodes is unhealthy at once (a partition, not node failures). On release, timers of nodes still down restart."),
        ConfigKey(path: "failover.perZonePartitionGuard", kind: .bool, defaultValue: .bool(false),
                  help: "Also pause migration in a zone (topology.kubernetes.io/zone) where more than maxFailedNodeFraction of the nodes are unhealthy."),
        ConfigKey(path: "failover.networkVolumesRequireConfirmation", kind: .bool, defaultValue: .bool(true),
                  help: "Pods with volumes other nodes can reach wait until their node is confirmed down (out-of-service taint, a fencing signal, deletion); false moves them once the node is suspected down (VolumeAttachments are still deleted only on confirmed-down nodes)."),
        ConfigKey(path: "failover.fencingTaints", kind: .list, defaultValue: .list([]),
                  help: "Node taints (key or key=value) that confirm a node down because an external fencing agent set them once the node was fenced. node.kubernetes.io/out-of-service always does."),
        ConfigKey(path: "failover.fencingAnnotations", kind: .list, defaultValue: .list([]),
                  help: "Node annotations (key or key=value) that confirm a node down, for fencing agents that annotate instead of tainting."),
        ConfigKey(path: "failover.resyncSeconds", kind: .int(1...86_400), defaultValue: .int(60),
                  help: "Every pod on a failed node is reconciled again this often, whatever events said."),
        ConfigKey(path: "failover.migrationsPerSecond", kind: .double(0...10_000), defaultValue: .double(10),
                  help: "Pods migrated a second at most (0: no limit)."),
        ConfigKey(path: "failover.migrationBurst", kind: .int(1...100_000), defaultValue: .int(20), help: "Migrations allowed at once above the rate."),
        ConfigKey(path: "failover.workers", kind: .int(1...1024), defaultValue: .int(16), help: "Pods migrated in parallel."),
        ConfigKey(path: "failover.retainVolumes", kind: .bool, defaultValue: .bool(true),
                  help: "Set the old PV's reclaim policy to Retain and label it, so its data survives on the failed node."),
        ConfigKey(path: "failover.deleteVolumeAttachments", kind: .bool, defaultValue: .bool(true),
                  help: "Delete VolumeAttachments of network volumes on a confirmed-down node once its pods are gone."),
        ConfigKey(path: "failover.dryRun", kind: .bool, defaultValue: .bool(false), help: "Log every action the controller would take and write nothing."),

        ConfigKey(path: "leaderElection.enabled", kind: .bool, defaultValue: .bool(true), help: "Elect a leader among replicas (keep on with more than one replica)."),
        ConfigKey(path: "leaderElection.namespace", kind: .string, defaultValue: .string("rebound-system"), help: "Namespace of the Lease."),
        ConfigKey(path: "leaderElection.leaseName", kind: .string, defaultValue: .string("rebound-failover"), help: "Name of the Lease."),
        ConfigKey(path: "leaderElection.identity", kind: .string, defaultValue: .string(""), help: "This replica's name in the Lease. Empty: $POD_NAME, else the host name."),
        ConfigKey(path: "leaderElection.leaseDurationSeconds", kind: .int(1...3600), defaultValue: .int(15),
                  help: "How long a lease is valid without renewal; others take over after it."),
        ConfigKey(path: "leaderElection.renewDeadlineSeconds", kind: .int(1...3600), defaultValue: .int(10),
                  help: "A leader that cannot renew within this long stops acting."),
        ConfigKey(path: "leaderElection.retryPeriodSeconds", kind: .int(1...3600), defaultValue: .int(2), help: "How often to try to acquire or renew."),

        ConfigKey(path: "health.address", kind: .string, defaultValue: .string("0.0.0.0"), help: "Address of the health and metrics listener."),
        ConfigKey(path: "health.port", kind: .int(1...65_535), defaultValue: .int(8081), help: "Port of /healthz, /readyz and /metrics."),
        ConfigKey(path: "health.idleTimeoutSeconds", kind: .int(1...86_400), defaultValue: .int(120), help: "Close a probe or scrape connection idle this long."),

        ConfigKey(path: "server.maxConnections", kind: .int(1...1_000_000), defaultValue: .int(2048),
                  help: "Open connections per listener at most; one beyond is closed as soon as it is accepted (each idle TLS connection holds about 40 KiB)."),
        ConfigKey(path: "server.handshakeTimeoutSeconds", kind: .int(1...3600), defaultValue: .int(10),
                  help: "A TLS handshake must complete this soon after the connection is accepted."),
        ConfigKey(path: "server.headerTimeoutSeconds", kind: .int(1...3600), defaultValue: .int(10),
                  help: "An HTTP/1.1 request's headers must arrive this soon after its first byte (slow clients get 408 and are disconnected)."),
        ConfigKey(path: "server.requestTimeoutSeconds", kind: .int(1...3600), defaultValue: .int(30),
                  help: "A whole request must arrive this soon after its first byte (HTTP/1.1) or its HEADERS frame (HTTP/2: the stream is reset)."),
        ConfigKey(path: "server.maxHeaderBytes", kind: .int(1024...(16 << 20)), defaultValue: .int(64 * 1024),
                  help: "Request line and headers of one request at most (431 beyond); also HTTP/2's SETTINGS_MAX_HEADER_LIST_SIZE."),
        ConfigKey(path: "server.http2MaxConcurrentStreams", kind: .int(1...10_000), defaultValue: .int(32),
                  help: "Streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS); Go clients open more connections beyond it."),
        ConfigKey(path: "server.maxBufferedBytesPerConnection", kind: .int(1024...(1 << 34)), defaultValue: .int(16 * 1024 * 1024),
                  help: "Request bytes one HTTP/2 connection may hold at once over its streams; a stream beyond it is refused (REFUSED_STREAM, retried by clients). Never below the listener's maxBodyBytes."),
        ConfigKey(path: "server.maxBufferedBytes", kind: .int(1024...(1 << 34)), defaultValue: .int(96 * 1024 * 1024),
                  help: "Request bytes one listener may hold at once over all connections; a request beyond it is refused (503, or REFUSED_STREAM). Never below the listener's maxBodyBytes."),
        ConfigKey(path: "server.shutdownGraceSeconds", kind: .int(1...3600), defaultValue: .int(15),
                  help: "After SIGTERM, requests under way may finish for this long; the process exits by then whatever it is doing. Keep it below the pod's terminationGracePeriodSeconds (30)."),
    ]

    public static let byPath: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: keys.map { ($0.path, $0) })

    /// The full configuration file with every key at its default, each with its help.
    public static func defaultsYAML() -> String {
        var lines = [
            "# Rebound configuration. Every key is shown with its default value.",
            "# Each key can also be set with an environment variable (shown below each key)",
            "# or with `--set key=value`; flags win over variables, which win over this file.",
        ]
        for section in sections {
            lines.append("")
            lines.append("# \(section.help)")
            lines.append("\(section.name):")
            var openGroups: [String] = []
            for key in keys where key.path.hasPrefix(section.name + ".") {
                let parts = key.path.split(separator: ".").map(String.init)
                let groups = Array(parts.dropFirst().dropLast())
                if groups != openGroups {
                    for (depth, group) in groups.enumerated() where depth >= openGroups.count || openGroups[depth] != group {
                        lines.append(String(repeating: "  ", count: depth + 1) + "\(group):")
                    }
                    openGroups = groups
                }
                let indent = String(repeating: "  ", count: groups.count + 1)
                lines.append("\(indent)# \(key.help)")
                lines.append("\(indent)# \(key.expectation); env \(key.environmentVariable)")
                lines.append("\(indent)\(parts.last!): \(key.defaultValue.yaml)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The keys as a Markdown table, for docs/configuration.md.
    public static func markdownTable() -> String {
        var lines = ["| key | default | environment variable | meaning |", "|---|---|---|---|"]
        for key in keys {
            let value = key.defaultValue.description.isEmpty ? "(empty)" : key.defaultValue.description
            lines.append("| `\(key.path)` | `\(value)` | `\(key.environmentVariable)` | \(key.help) Accepts \(key.expectation). |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
