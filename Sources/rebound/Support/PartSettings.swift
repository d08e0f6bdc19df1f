import ReboundConfig
import Capacity
import Failover
import Foundation
import Serving

/// Turns the resolved configuration into each part's settings.
extension ResolvedConfig {
    /// The keys every part agrees on (`compat.*`, `capacity.*`).
    var compatibilityKeys: CompatibilityKeys {
        var keys = CompatibilityKeys()
        keys.migrationAnnotation = string("compat.migrationAnnotation")
        keys.namespaceLabel = string("compat.namespaceLabel")
        keys.provisioners = Set(list("compat.provisioners"))
        keys.volumeGroupParameters = list("compat.volumeGroupParameters")
        keys.legacyVolumeGroups = map("compat.legacyVolumeGroups")
        keys.routingResource = string("capacity.routingResource")
        keys.requestsAnnotation = string("capacity.requestsAnnotation")
        keys.defaultVolumeGroup = string("compat.defaultVolumeGroup").isEmpty ? nil : string("compat.defaultVolumeGroup")
        switch string("capacity.source") {
        case "annotation": keys.capacitySource = .annotation(prefix: string("capacity.annotationPrefix"))
        case "csistoragecapacity": keys.capacitySource = .storageCapacity
        default: keys.capacitySource = .allocatable(prefix: string("capacity.allocatablePrefix"))
        }
        return keys
    }

    /// A listener's bounds: the shared `server.*` keys, with the listener's own body limit and idle timeout.
    func listenerLimits(maxBodyBytes: Int, idleTimeoutSeconds: Int) -> ListenerLimits {
        var limits = ListenerLimits(maxBodyBytes: maxBodyBytes)
        limits.maxConnections = int("server.maxConnections")
        limits.handshakeTimeout = .seconds(int("server.handshakeTimeoutSeconds"))
        limits.headerTimeout = .seconds(int("server.headerTimeoutSeconds"))
        limits.requestTimeout = .seconds(int("server.requestTimeoutSeconds"))
        limits.idleTimeout = .seconds(idleTimeoutSeconds)
        limits.maxHeaderBytes = int("server.maxHeaderBytes")
        limits.maxConcurrentStreams = int("server.http2MaxConcurrentStreams")
        limits.maxBufferedBytesPerConnection = max(int("server.maxBufferedBytesPerConnection"), maxBodyBytes)
        limits.maxBufferedBytes = max(int("server.maxBufferedBytes"), maxBodyBytes)
        // Connections drain for a little less than the process has left, so it exits cleanly.
        limits.shutdownGracePeriod = .seconds(max(1, int("server.shutdownGraceSeconds") - 3))
        return limits
    }

    var failoverSettings: FailoverSettings {
        var settings = FailoverSettings()
        settings.notReadyTimeout = .seconds(int("failover.notReadyTimeoutSeconds"))
        settings.maxFailedNodeFraction = double("failover.maxFailedNodeFraction")
        settings.migrationsPerSecond = double("failover.migrationsPerSecond")
        settings.migrationBurst = int("failover.migrationBurst")
        settings.workers = int("failover.workers")
        settings.retainVolumes = bool("failover.retainVolumes")
        settings.deleteVolumeAttachments = bool("failover.deleteVolumeAttachments")
        settings.dryRun = bool("failover.dryRun")
        settings.perZonePartitionGuard = bool("failover.perZonePartitionGuard")
        settings.networkVolumesRequireConfirmation = bool("failover.networkVolumesRequireConfirmation")
        settings.fencing = FencingSignals(taints: list("failover.fencingTaints"), annotations: list("failover.fencingAnnotations"))
        settings.resyncPeriod = .seconds(int("failover.resyncSeconds"))
        settings.keys = compatibilityKeys
        return settings
    }

    /// This replica's name: the configured one, else the pod's name, else the host's.
    var identity: String {
        let configured = string("leaderElection.identity")
        if !configured.isEmpty { return configured }
        if let pod = ProcessInfo.processInfo.environment["POD_NAME"], !pod.isEmpty { return pod }
        return ProcessInfo.processInfo.hostName
    }

    var leaderSettings: LeaderElector.Settings {
        var settings = LeaderElector.Settings(namespace: string("leaderElection.namespace"), name: string("leaderElection.leaseName"), identity: identity)
        settings.leaseDuration = .seconds(int("leaderElection.leaseDurationSeconds"))
        settings.renewDeadline = .seconds(int("leaderElection.renewDeadlineSeconds"))
        settings.retryPeriod = .seconds(int("leaderElection.retryPeriodSeconds"))
        return settings
    }
}
