import Capacity
import Failover
import Foundation
import Kube
import Logging
import ReboundConfig
import Synchronization
import TestSupport
import Testing

@testable import rebound

/// `rebound status`, `kubectl rebound status` and `rebound volumes`: the seed story before and
/// after its node fails, the report's rules on hand-made clusters, and pruning retained volumes.
@Suite("rebound status and rebound volumes", .serialized, .timeLimit(.minutes(3)))
struct StatusTests {
    static func config(kubeconfig: String, _ extra: [String] = []) throws -> ResolvedConfig {
        try ConfigLoader.load(file: nil, environment: [:], overrides: ["kube.kubeconfig=\(kubeconfig)"] + extra)
    }

    static func report(kubeconfig: String, settings: [String]) async throws -> StatusReport {
        let config = try config(kubeconfig: kubeconfig, settings)
        let keys = config.compatibilityKeys
        let snapshot = try await StatusCommand.read(config: config, keys: keys, timeout: 20)
        return StatusReport.build(snapshot, keys: keys, settings: config.failoverSettings, now: Date())
    }

    @Test("the seed story before and after its node fails, as tables and as JSON")
    func seedStory() async throws {
        let seen = Mutex<[DemoCheckpoint: StatusReport]>([:])
        var options = DemoOptions()
        options.live = false
        options.timeout = .seconds(90)
        let settings = DemoRunner.statusSettings(options)
        options.checkpoint = { moment, access in
            let kubeconfig = access.kubeconfig
            var report = try? await Self.report(kubeconfig: kubeconfig, settings: settings)
            // The failed node counts as failed 3 s after its Ready condition changed; Rebound may
            // have seen it a moment before this one-shot read, whose clock starts at the condition.
            for _ in 0..<50 where moment == .afterRecovery && report?.failedNodes.isEmpty != false {
                try? await Task.sleep(for: .milliseconds(200))
                report = try? await Self.report(kubeconfig: kubeconfig, settings: settings)
            }
            seen.withLock { $0[moment] = report }
        }
        var logger = Logger(label: "test.status")
        logger.logLevel = .error
        let demo = try await DemoRunner(options: options, logger: logger).run()
        #expect(demo.success, "\(demo.problems)")
        let before = try #require(seen.withLock { $0[.beforeFailure] })
        let after = try #require(seen.withLock { $0[.afterRecovery] })

        // Before: the pod runs on a node with room, protected; node-4 has been NotReady for weeks.
        let pod = try #require(before.workloads.first { $0.pod == "mysql/my-cluster-mysql-0" })
        let firstNode = try #require(pod.node)
        #expect(["dev1-node-2", "dev1-node-3"].contains(firstNode))
        #expect(pod.problems.isEmpty)
        #expect(pod.claims.map(\.group) == ["carina-vg-hdd"])
        #expect(pod.claims.first?.node == firstNode)
        #expect(before.optedInNamespaces == ["mysql"])
        #expect(before.leader == "rebound-demo-0")
        // dev1-node-4's Ready condition has no transition time: a one-shot read cannot count it failed.
        #expect(before.failedNodes.isEmpty)
        #expect(before.nodes.first { $0.name == "dev1-node-4" }?.failover?.hasPrefix("suspect: not Ready since a time the node does not say") == true)
        #expect(before.retained.isEmpty)
        #expect(before.attention.isEmpty, "\(before.attention)")
        let hdd = try #require(before.nodes.first { $0.name == firstNode }?.groups.first { $0.group == "carina-vg-hdd" })
        #expect(hdd.freeGiB == 187 && hdd.usedGiB == 1)
        let text = before.text(style: TerminalStyle(enabled: false))
        #expect(text.contains("mysql/my-cluster-mysql-0   \(firstNode)   Running   data-my-cluster-mysql-0 (carina-vg-hdd on \(firstNode))   protected"), "\(text)")
        #expect(text.contains("leader: rebound-demo-0"))
        #expect(text.contains("NOTHING NEEDS ATTENTION"))
        #expect(!text.contains("\u{1B}["), "no colour unless asked")

        // After: the pod runs elsewhere, its old volume is kept on the failed node.
        let moved = try #require(after.workloads.first { $0.pod == "mysql/my-cluster-mysql-0" })
        #expect(moved.node != nil && moved.node != firstNode)
        #expect(after.failedNodes == [firstNode])
        #expect(after.nodes.first { $0.name == firstNode }?.failover?.hasPrefix("failed: Ready=Unknown") == true)
        let kept = try #require(after.retained.first)
        #expect(after.retained.count == 1)
        #expect(kept.node == firstNode && kept.claim == "mysql/data-my-cluster-mysql-0" && !kept.bound && !kept.nodeBack)
        #expect(kept.sizeGiB == 1 && kept.reclaimPolicy == "Retain")
        #expect(after.migrations.isEmpty, "the migration finished: \(after.migrations)")
        #expect(after.recentEvents.contains { $0.hasPrefix("ReboundPodForceDeleted Pod/mysql/my-cluster-mysql-0") })
        let json = after.json
        #expect(json["retainedVolumes"]?[0]?["name"] == .string(kept.name))
        #expect(json["retainedVolumes"]?[0]?["node"] == .string(firstNode))
        #expect(json["protected"]?["pods"]?[0]?["protected"] == true)
        #expect(json["failover"]?["leader"] == "rebound-demo-0")
        // YAML reads back to the same value.
        #expect(try JSONValue.documents(fromYAML: json.yamlText) == [json])
        let afterText = after.text(style: TerminalStyle(enabled: true))
        #expect(afterText.contains(kept.name))
        #expect(afterText.contains("\u{1B}[1mVOLUME"), "headings bold when coloured")
    }

    // MARK: Rules on hand-made clusters

    static let keys = CompatibilityKeys()

    static func node(_ name: String, ready: String = "True", since: Date = Date(timeIntervalSinceNow: -3600)) -> Node {
        Node(metadata: ObjectMeta(name: name, labels: ["kubernetes.io/hostname": name]),
             status: NodeStatus(allocatable: ["carina.storage.io/carina-vg-hdd": "100"], conditions: [NodeCondition(type: "Ready", status: ready, lastTransitionTime: KubeTime(since))]))
    }

    static func pod(_ name: String, node: String, annotation: String? = "true", claims: [String], routed: Bool = true) -> Pod {
        var pod = Pod(metadata: ObjectMeta(name: name, namespace: "db", annotations: annotation.map { [keys.migrationAnnotation: $0] }))
        let resources = routed ? ResourceRequirements(requests: [keys.routingResource: "1"]) : nil
        pod.spec = PodSpec(containers: [Container(name: "db", resources: resources)], nodeName: node,
                           volumes: claims.map { Volume(name: $0, persistentVolumeClaim: .init(claimName: $0)) })
        pod.status = PodStatus(phase: "Running")
        return pod
    }

    static func claim(_ name: String, storageClass: String) -> PersistentVolumeClaim {
        PersistentVolumeClaim(metadata: ObjectMeta(name: name, namespace: "db"), spec: PersistentVolumeClaimSpec(
            accessModes: ["ReadWriteOnce"], resources: ResourceRequirements(requests: ["storage": "1Gi"]), storageClassName: storageClass))
    }

    static var snapshot: StatusSnapshot {
        var snapshot = StatusSnapshot()
        snapshot.nodes = [node("n1"), node("n2"), node("n3"), node("n4")]
        snapshot.storageClasses = [
            StorageClass(metadata: ObjectMeta(name: "local"), provisioner: "carina.storage.io", parameters: ["carina.storage.io/disk-type": "hdd"]),
            StorageClass(metadata: ObjectMeta(name: "nfs"), provisioner: "nfs.csi.k8s.io"),
        ]
        snapshot.namespaces = [Namespace(metadata: ObjectMeta(name: "db", labels: [keys.namespaceLabel: "true"]))]
        snapshot.claims = [claim("a", storageClass: "local"), claim("b", storageClass: "nfs"), claim("c", storageClass: "local")]
        snapshot.pods = [
            pod("protected", node: "n1", claims: ["a"]),
            pod("network", node: "n1", claims: ["b"]),
            pod("out", node: "n2", annotation: "false", claims: ["c"]),
            pod("unrouted", node: "n2", claims: ["c"], routed: false),
        ]
        var lease = Lease(metadata: ObjectMeta(name: "rebound-failover", namespace: "rebound-system"))
        lease.spec = .init(holderIdentity: "rebound-0", leaseDurationSeconds: 15, renewTime: KubeTime(Date()))
        snapshot.lease = lease
        return snapshot
    }

    @Test("what keeps a pod from being protected: a network claim, an opt-out, a pod the webhook never routed")
    func protection() {
        let report = StatusReport.build(Self.snapshot, keys: Self.keys, settings: FailoverSettings(), now: Date())
        let problems = Dictionary(uniqueKeysWithValues: report.workloads.map { ($0.pod, $0.problems) })
        #expect(problems["db/protected"] == [])
        #expect(problems["db/network"]?.first?.contains("StorageClass nfs, which is not node-local") == true)
        #expect(problems["db/out"]?.first?.hasPrefix("opted out") == true)
        #expect(problems["db/unrouted"]?.first?.hasPrefix("not routed to the extender") == true)
        #expect(report.attention.isEmpty)
        #expect(report.leader == "rebound-0")
    }

    @Test("volumes of the largest sizes a quantity holds add up without trapping")
    func hugeVolumes() {
        var snapshot = Self.snapshot
        for index in 0..<3 {
            snapshot.volumes.append(PersistentVolume(metadata: ObjectMeta(name: "huge-\(index)"), spec: PersistentVolumeSpec(
                capacity: ["storage": "9000000000000000000Gi"], storageClassName: "local",
                nodeAffinity: VolumeNodeAffinity(required: NodeSelector(nodeSelectorTerms: [NodeSelectorTerm(matchExpressions: [
                    .init(key: "kubernetes.io/hostname", operator: "In", values: ["n1"]),
                ])])))))
        }
        let report = StatusReport.build(snapshot, keys: Self.keys, settings: FailoverSettings(), now: Date())
        let used = report.nodes.first { $0.name == "n1" }?.groups.first { $0.group == "carina-vg-hdd" }?.usedGiB
        // A quantity holds at most 8 EiB (2^33 GiB): three of them, counted exactly.
        #expect(used == 3 * VolumeGroupRequests.maximumGiB)
    }

    @Test("needs attention: an opted-in pod stuck on a failed node, the partition guard, no leader")
    func attention() throws {
        var snapshot = Self.snapshot
        snapshot.nodes[0] = Self.node("n1", ready: "Unknown", since: Date(timeIntervalSinceNow: -600))
        snapshot.lease = nil
        var report = StatusReport.build(snapshot, keys: Self.keys, settings: FailoverSettings(), now: Date())
        #expect(report.failedNodes == ["n1"])
        #expect(report.migrations.map(\.object) == ["db/network", "db/protected"])
        #expect(report.migrations.allSatisfy { $0.state == "stuck" })
        #expect(report.attention.contains { $0.hasPrefix("no failover leader") })
        #expect(report.attention.contains { $0.hasPrefix("db/protected on failed node n1") })
        #expect(report.partitionGuard == nil, "1 of 4 is within the default share")
        #expect(report.migrations.allSatisfy { $0.reason == "no replica leads failover" })

        // With a leader: the pod with a network claim waits for the node to be confirmed down.
        snapshot.lease = Self.snapshot.lease
        let led = StatusReport.build(snapshot, keys: Self.keys, settings: FailoverSettings(), now: Date())
        let reasons = Dictionary(uniqueKeysWithValues: led.migrations.map { ($0.object, $0.reason) })
        #expect(reasons["db/network"]?.hasPrefix("a claim is not node-local") == true)
        #expect(reasons["db/protected"]?.hasPrefix("not moved yet") == true)
        #expect(!led.attention.contains { $0.hasPrefix("no failover leader") })

        // Three of four nodes down: the guard holds, and says so.
        snapshot.nodes[1] = Self.node("n2", ready: "Unknown", since: Date(timeIntervalSinceNow: -600))
        snapshot.nodes[2] = Self.node("n3", ready: "False", since: Date(timeIntervalSinceNow: -600))
        report = StatusReport.build(snapshot, keys: Self.keys, settings: FailoverSettings(), now: Date())
        let held = try #require(report.partitionGuard)
        #expect(held.hasPrefix("3 of 4 nodes unhealthy"))
        #expect(report.attention.contains { $0.hasPrefix("the partition guard holds failover") })
    }

    // MARK: rebound volumes

    /// A volume failover kept on `node` `age` ago; `bound` adds the claim that still uses it.
    static func retainedVolume(_ name: String, node: String, age: TimeInterval, claimUID: String = "old") -> PersistentVolume {
        var volume = PersistentVolume(metadata: ObjectMeta(name: name, labels: [
            ClaimRecovery.failedNodeLabel: node,
            ClaimRecovery.failedAtLabel: KubeTime.format(Date(timeIntervalSinceNow: -age), micro: false).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: ""),
        ]), spec: PersistentVolumeSpec(
            capacity: ["storage": "5Gi"], accessModes: ["ReadWriteOnce"], persistentVolumeReclaimPolicy: "Retain", storageClassName: "local",
            claimRef: ObjectReference(kind: "PersistentVolumeClaim", namespace: "db", name: "data-\(name)", uid: claimUID)))
        volume.status = .init(phase: "Released")
        return volume
    }

    static func prune(_ arguments: [String], kubeconfig: String) async throws {
        var command = try VolumesCommand.Prune.parseAsRoot(["--kubeconfig", kubeconfig, "--set", "log.level=critical"] + arguments) as! VolumesCommand.Prune
        try await command.run()
    }

    @Test("volumes prune: refuses bound volumes, honours --dry-run, deletes only what matches, records Events")
    func prune() async throws {
        try await withSim { sim, client in
            try await withTemporaryDirectory { directory in
                let kubeconfig = directory + "/kubeconfig"
                try await sim.server.kubeconfig().write(toFile: kubeconfig, atomically: true, encoding: .utf8)
                _ = try await client.create(Namespace(metadata: ObjectMeta(name: "db")))
                _ = try await client.create(Self.retainedVolume("old-n1", node: "n1", age: 3 * 86400))
                _ = try await client.create(Self.retainedVolume("new-n1", node: "n1", age: 600))
                _ = try await client.create(Self.retainedVolume("old-n2", node: "n2", age: 3 * 86400))
                // Still used: its claim (same uid) names it.
                var bound = Self.retainedVolume("used-n1", node: "n1", age: 3 * 86400, claimUID: "live")
                bound.status = .init(phase: "Bound")
                _ = try await client.create(bound)
                var claim = Self.claim("data-used-n1", storageClass: "local")
                claim.metadata.uid = "live"
                claim.spec?.volumeName = "used-n1"
                let created = try await client.create(claim)
                var reference = bound.spec!.claimRef!
                reference.uid = created.metadata.uid
                _ = try await client.patch(PersistentVolume.self, "used-n1", .merge(["spec": ["claimRef": ["uid": .string(created.metadata.uid ?? "")]]]))
                // An ordinary volume, never kept by failover.
                _ = try await client.create(PersistentVolume(metadata: ObjectMeta(name: "other"), spec: PersistentVolumeSpec(persistentVolumeReclaimPolicy: "Retain")))

                // A failure time nobody can read (the label is anyone's to edit) is never old enough.
                var garbled = Self.retainedVolume("garbled", node: "n9", age: 0)
                garbled.metadata.labels?[ClaimRecovery.failedAtLabel] = "2026112\u{E9}T16050Z"
                let row = try #require(StatusReport.retained(garbled, nodes: [:], claims: [:], now: Date()))
                #expect(row.failedAt == nil && row.ageSeconds == nil)
                let selection = try VolumesCommand.Selection.parse(["--older-than", "0s"])
                #expect(!selection.matches(row))
                #expect(throws: (any Error).self) { try VolumesCommand.Selection.parse(["--older-than", "7 days"]) }

                func policies() async throws -> [String: String] {
                    Dictionary(uniqueKeysWithValues: try await client.list(PersistentVolume.self).items.map { ($0.name, $0.spec?.persistentVolumeReclaimPolicy ?? "") })
                }
                let listed = try await VolumesCommand.read(client: client)
                #expect(listed.map(\.name) == ["new-n1", "old-n1", "old-n2", "used-n1"])
                #expect(listed.first { $0.name == "used-n1" }?.bound == true)

                // Nothing selected without a filter.
                #expect(throws: (any Error).self) { _ = try VolumesCommand.Prune.parseAsRoot(["--kubeconfig", kubeconfig]) }

                try await Self.prune(["--node", "n1", "--older-than", "1d", "--dry-run"], kubeconfig: kubeconfig)
                #expect(try await policies().values.allSatisfy { $0 == "Retain" }, "a dry run changes nothing")

                try await Self.prune(["--node", "n1", "--older-than", "1d"], kubeconfig: kubeconfig)
                let after = try await policies()
                #expect(after["old-n1"] == "Delete", "matches: pruned")
                #expect(after["new-n1"] == "Retain", "too young")
                #expect(after["old-n2"] == "Retain", "another node")
                #expect(after["used-n1"] == "Retain", "bound: refused")
                #expect(after["other"] == "Retain", "never kept by failover")
                let events = try await client.list(Event.self).items.filter { $0.reason == "ReboundVolumePruned" }
                #expect(events.map(\.involvedObject.name) == ["old-n1"])
            }
        }
    }

    @Test("kubectl rebound status: the binary on PATH as kubectl-rebound is a kubectl plugin", .requiresTools("kubectl"))
    func kubectlPlugin() async throws {
        try await withTemporaryDirectory { directory in
            let scenario = directory + "/scenario.yaml"
            try SeedStory.yaml.write(toFile: scenario, atomically: true, encoding: .utf8)
            let kubeconfig = directory + "/kubeconfig"
            let sim = try ChildProcess(ReboundBinary.path, ["sim", "--port", "0", "--scenario", scenario, "--kubeconfig-out", kubeconfig, "--log-level", "warning"])
            defer { Task { await sim.stop() } }
            #expect(await sim.waitForLine { $0.contains("ClusterSim API server") } != nil)
            try FileManager.default.createSymbolicLink(atPath: directory + "/kubectl-rebound", withDestinationPath: ReboundBinary.path)
            var environment = ProcessInfo.processInfo.environment
            environment["PATH"] = directory + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
            let kubectl = try tool("kubectl", package: "kubernetes-client")
            let (status, output) = try await runCommand(kubectl, ["rebound", "status", "--kubeconfig", kubeconfig, "-o", "json"], environment: environment)
            #expect(status == 0, "\(output)")
            let json = try JSONValue(parsing: Array(output.utf8))
            #expect(json["protected"]?["optedInNamespaces"] == ["mysql"])
            #expect(json["nodes"]?[4]?["failover"]?.stringValue?.hasPrefix("suspect") == true, "dev1-node-4 has been NotReady for weeks")
            #expect(json["nodes"]?.arrayValue?.count == 6)
            // No replica runs against the sim: no leader, which --check reports with status 2.
            let (checked, text) = try await runCommand(kubectl, ["rebound", "status", "--kubeconfig", kubeconfig, "--check"], environment: environment)
            #expect(checked == 2, "\(text)")
            #expect(text.contains("NEEDS ATTENTION") && text.contains("no failover leader"))
        }
    }
}
