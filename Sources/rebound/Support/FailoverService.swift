import Failover
import Kube
import Logging
import ServiceLifecycle

/// The failover controller as a service of `rebound serve`: it acts only while this replica
/// holds the lease (a new controller each term, so every term starts from the API's state). In
/// dry-run it writes nothing, not even the lease, so it can run beside a real deployment.
struct FailoverService: Service {
    let client: KubeClient
    /// Posts Events, with its own rate limit.
    let eventClient: KubeClient
    /// Reads and renews the Lease, with connections and a rate limit of its own.
    let leaseClient: KubeClient?
    let caches: ClusterCaches
    let settings: FailoverSettings
    let election: LeaderElector.Settings?
    /// Where a problem that keeps failover from working is reported (`/readyz`).
    var problem = ProblemBox()
    let logger: Logger

    func run() async throws {
        let client = self.client, eventClient = self.eventClient, caches = self.caches, settings = self.settings, logger = self.logger
        let identity = election?.identity ?? "rebound"
        let task: Task<Void, Never>
        if let election, !settings.dryRun {
            let problem = self.problem
            let elector = LeaderElector(client: leaseClient ?? client, settings: election, logger: logger) { problem.set($0) }
            task = Task {
                await elector.run {
                    // Every write checks that this term is still valid: a leader whose renewals
                    // hang stops writing at its renew deadline, before anyone else can lead.
                    let controller = FailoverController(
                        client: client, caches: caches, settings: settings, identity: identity, logger: logger, eventClient: eventClient,
                        mayAct: { elector.mayAct() })
                    await controller.run()
                }
            }
        } else {
            if settings.dryRun { logger.notice("dry run: the failover controller acts without leader election and writes nothing") }
            task = Task {
                let controller = FailoverController(client: client, caches: caches, settings: settings, identity: identity, logger: logger, eventClient: eventClient)
                await controller.run()
            }
        }
        try? await gracefulShutdown()
        task.cancel()
        await task.value
        try? await eventClient.shutdown()
    }
}
