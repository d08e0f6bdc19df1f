import ClusterSim
import Foundation
import Kube
import TestSupport
import Testing

/// The local-volume provisioner with a report delay (`rebound sim --capacity-report-delay`), and
/// the scheduler's handling of an extender that refuses to bind.
@Suite("ClusterSim: lagging capacity reports and extender binding", .timeLimit(.minutes(1)))
struct LaggingCapacityTests {
    /// A node of 100 GiB in Carina's HDD group, the local class, and `pods` pods bound to the node,
    /// each with a pending 30 GiB claim.
    static func world(pods: Int, bound: Bool = true) -> String {
        var yaml = """
            apiVersion: storage.k8s.io/v1
            kind: StorageClass
            metadata: {name: local}
            provisioner: carina.storage.io
            parameters: {carina.storage.io/disk-type: carina-vg-hdd}
            volumeBindingMode: WaitForFirstConsumer
            ---
            apiVersion: v1
            kind: Node
            metadata: {name: n1}
            status:
              allocatable: {carina.storage.io/carina-vg-hdd: "100", cpu: "8", memory: 32Gi, pods: "110"}
              conditions: [{type: Ready, status: "True"}]
            """
        for index in 0..<pods {
            yaml += """

                ---
                apiVersion: v1
                kind: PersistentVolumeClaim
                metadata: {name: data-\(index), namespace: default}
                spec: {accessModes: [ReadWriteOnce], storageClassName: local, resources: {requests: {storage: 30Gi}}}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: db-\(index), namespace: default}
                spec:
                  \(bound ? "nodeName: n1" : "schedulerName: default-scheduler")
                  containers: [{name: db, image: mysql, resources: {requests: {rebound.io/local-capacity: "1"}}}]
                  volumes: [{name: data, persistentVolumeClaim: {claimName: data-\(index)}}]
                """
        }
        return yaml
    }

    static func reported(_ store: SimStore) async throws -> String? {
        try await store.get(Node.resourceType, namespace: nil, name: "n1").value["status"]?["allocatable"]?["carina.storage.io/carina-vg-hdd"]?.stringValue
    }

    @Test("with a report delay the node's free space changes that much later; provisioning stops at the true free space with ProvisioningFailed")
    func delayedReports() async throws {
        let store = SimStore()
        _ = try await SimScenario(yaml: Self.world(pods: 4)).load(into: store)
        let provisioner = LocalVolumeProvisioner(store: store, reportDelay: .milliseconds(800))
        try await provisioner.reconcile()
        let claims = try await store.list(PersistentVolumeClaim.resourceType, namespace: "default").items
        let bound = claims.filter { !($0.value["spec"]?["volumeName"]?.stringValue ?? "").isEmpty }
        #expect(bound.count == 3, "three 30 GiB volumes fit in 100 GiB, the fourth does not")
        #expect(try await Self.reported(store) == "100", "the report lags")
        let events = try await store.list(Event.resourceType, namespace: "default").items
        let failed = events.filter { $0.value["reason"]?.stringValue == "ProvisioningFailed" }
        #expect(failed.count == 1)
        #expect(failed.first?.value["type"]?.stringValue == "Warning")
        #expect(failed.first?.value["involvedObject"]?["kind"]?.stringValue == "PersistentVolumeClaim")
        #expect(failed.first?.value["message"]?.stringValue?.contains("10 GiB free") == true, "\(failed.first?.value["message"]?.stringValue ?? "")")
        // Reconciling again does not provision the refused claim against the stale report.
        try await provisioner.reconcile()
        #expect(try await store.list(PersistentVolume.resourceType, namespace: nil).items.count == 3)
        var landed = false
        for _ in 0..<40 where !landed {
            try await Task.sleep(for: .milliseconds(100))
            landed = try await Self.reported(store) == "10"
        }
        #expect(landed, "the report shows the three volumes once the delay has passed")
    }

    @Test("without a delay the report changes with each volume, as before")
    func immediateReports() async throws {
        let store = SimStore()
        _ = try await SimScenario(yaml: Self.world(pods: 2)).load(into: store)
        try await LocalVolumeProvisioner(store: store).reconcile()
        #expect(try await Self.reported(store) == "40")
    }

    /// An extender that passes every node and refuses every bind.
    static func refusingExtender() async throws -> TestHTTPServer {
        try await TestHTTPServer.start { request in
            switch request.path {
            case "/filter":
                let arguments = try JSONValue(parsing: Array(request.body.readableBytesView))
                return .init(json: String(decoding: (["NodeNames": arguments["NodeNames"] ?? .null, "FailedNodes": [:], "Error": ""] as JSONValue).serialized(), as: UTF8.self))
            case "/prioritize": return .init(json: "[]")
            default: return .init(json: #"{"Error":"binding refused: the node no longer fits"}"#)
            }
        }
    }

    @Test("a refused bind leaves the pod pending unless the extender is ignorable: then the scheduler binds it anyway, as kube-scheduler does", arguments: [false, true])
    func ignorableBinder(ignorable: Bool) async throws {
        let extender = try await Self.refusingExtender()
        let store = SimStore()
        _ = try await SimScenario(yaml: Self.world(pods: 1, bound: false)).load(into: store)
        let configuration = SchedulerConfiguration(extenders: [SchedulerConfiguration.Extender(
            urlPrefix: "http://127.0.0.1:\(extender.port)", bindVerb: "bind", nodeCacheCapable: true,
            managedResources: [.init(name: "rebound.io/local-capacity", ignoredByScheduler: true)], ignorable: ignorable, httpTimeout: .seconds(5))])
        let scheduler = SimScheduler(api: SimAPI(store: store), configuration: configuration)
        try await scheduler.reconcile()
        let node = try await store.get(Pod.resourceType, namespace: "default", name: "db-0").value["spec"]?["nodeName"]?.stringValue
        #expect(node == (ignorable ? "n1" : nil))
        await scheduler.shutdown()
        await extender.stop()
    }
}
