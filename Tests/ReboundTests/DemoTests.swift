import Capacity
import Foundation
import Logging
import Testing

@testable import rebound

/// The demo end to end: ClusterSim with its scheduler, controllers and node lifecycle, and
/// Rebound's real webhook, extender and failover controller over their real protocols.
@Suite("rebound demo, end to end", .serialized)
struct DemoTests {
    func run(_ configure: (inout DemoOptions) -> Void) async throws -> DemoReport {
        var options = DemoOptions()
        options.live = false
        options.timeout = .seconds(90)
        configure(&options)
        var logger = Logger(label: "test.demo")
        logger.logLevel = .error
        return try await DemoRunner(options: options, logger: logger).run()
    }

    @Test("the seed story: MySQL's pod leaves the failed node, its claim is rebuilt, and it runs again")
    func seedStory() async throws {
        let report = try await run { _ in }
        #expect(report.success, "\(report.problems)")
        #expect(report.moved == 1)
        #expect(report.runningAgainAt.keys.sorted() == ["mysql/my-cluster-mysql-0"])
        let pod = try #require(report.pods.first { $0.key == "mysql/my-cluster-mysql-0" })
        #expect(pod.phase == "Running" && pod.node != report.failedNode && ["dev1-node-2", "dev1-node-3"].contains(pod.node))
        #expect(pod.optedIn)
        // The webhook annotated and routed the pod; the failover and the scheduler narrated it.
        let text = report.timeline.map(\.text).joined(separator: "\n")
        #expect(text.contains("webhook set allow-pod-migration=true"))
        #expect(text.contains("routed to the extender"))
        #expect(text.contains("ReboundPodForceDeleted"))
        #expect(text.contains("extender scores"))
        // Only the two nodes with free space ever held the volume.
        let holders = report.nodes.filter { !$0.used.isEmpty }.map(\.name)
        #expect(Set(holders).isSubset(of: ["dev1-node-2", "dev1-node-3"]))
    }

    @Test("the seed story on TopoLVM and on OpenEBS LVM LocalPV: their objects, the same failover", arguments: ["topolvm", "openebs-lvm"])
    func seedStoryOnDriver(_ name: String) async throws {
        let driver = try #require(DriverPreset.named(name))
        let report = try await run { $0.preset = driver }
        #expect(report.success, "\(report.problems)")
        #expect(report.moved == 1)
        let text = report.timeline.map(\.text).joined(separator: "\n")
        #expect(text.contains("as \(name) shapes it"))
        // The webhook routed by the preset's groups: TopoLVM's device class, OpenEBS's StorageClass.
        #expect(text.contains(driver == .topolvm ? #"volume requests {"hdd":1}"# : #"volume requests {"csi-carina-sc":1}"#), "\(text)")
        // Failover knew the volume was pinned to the failed node by the driver's topology key:
        // it kept the volume there and rebuilt the claim.
        #expect(text.contains("ReboundVolumeRetained"))
        #expect(text.contains("ReboundClaimDeleted"))
        let pod = try #require(report.pods.first { $0.key == "mysql/my-cluster-mysql-0" })
        #expect(pod.phase == "Running" && ["dev1-node-2", "dev1-node-3"].contains(pod.node) && pod.node != report.failedNode)
        // The space the driver reports: 188 GiB less the one volume on each node that held one.
        for node in report.nodes where ["dev1-node-2", "dev1-node-3"].contains(node.name) {
            #expect(node.free["hdd"] == 188 - (node.used["hdd"] ?? 0), "\(node)")
        }
    }

    @Test("the seed story with Rebound installed from deploy/: HTTPS extender with NodeNames, the manifests' webhook and configuration")
    func seedStoryFromDeploy() async throws {
        let report = try await run { options in options.deploy = DeployManifestTests.root + "/deploy" }
        #expect(report.success, "\(report.problems)")
        #expect(report.moved == 1)
        let text = report.timeline.map(\.text).joined(separator: "\n")
        #expect(text.contains("Rebound installed from the manifests in"))
        #expect(text.contains("routed to the extender"))
        // deploy/scheduler gives the extender weight 5: its 0…10 scores arrive multiplied.
        #expect(text.contains("extender scores: dev1-node-2 50"), "\(text)")
    }

    @Test("--deploy with a directory that is not deploy/ fails with the file it needed")
    func deployMissing() async throws {
        await #expect(throws: CLIError.self) { try await run { $0.deploy = "/nonexistent" } }
        do {
            _ = try await run { $0.deploy = "/nonexistent" }
        } catch let error as CLIError {
            #expect("\(error)".contains("/nonexistent/base/mutatingwebhookconfiguration.yaml"), "\(error)")
        }
    }

    @Test("scale: 20 nodes, 200 opted-in pods, the node holding 50 of them fails")
    func scale() async throws {
        let report = try await run { options in
            options.nodes = 20
            options.pods = 200
            options.failing = 50
            options.optedOut = 5
            options.timeout = .seconds(120)
        }
        #expect(report.success, "\(report.problems)")
        #expect(report.moved == 50, "\(report.timeline.map(\.text))")
        #expect(report.runningAgainAt.count == 50)
        #expect(report.stuck == 5)
        // Opted-out pods stay bound to the dead node, as on Kubernetes.
        #expect(report.pods.filter { $0.key.hasPrefix("legacy/") }.allSatisfy { $0.node == report.failedNode })
        #expect(report.pods.filter { $0.key.hasPrefix("scale/") }.allSatisfy { $0.node != report.failedNode && $0.phase == "Running" })
        #expect(report.nodes.allSatisfy { node in node.free.values.allSatisfy { $0 >= 0 } })
        #expect(report.recoverySeconds != nil)
    }

    @Test("the embedded seed story is examples/seed-story.yaml")
    func seedStoryFile() throws {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        url.deleteLastPathComponent()
        url.deleteLastPathComponent()
        let file = try String(contentsOf: url.appendingPathComponent("examples/seed-story.yaml"), encoding: .utf8)
        #expect(file.trimmingCharacters(in: .whitespacesAndNewlines) == SeedStory.yaml.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
