import ClusterSim
import Foundation
import Kube
import TestSupport
import Testing

/// `rebound serve` as operators run it: the extender answers kube-scheduler against a cluster.
@Suite("rebound serve runs the scheduler extender", .timeLimit(.minutes(2)))
struct ServeExtenderTests {
    /// A port free right now (the kernel's pick for port 0), for a child process to listen on.
    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw CocoaError(.fileWriteUnknown) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test("filter over HTTP from the real binary, ready only after the caches synced")
    func serveFilter() async throws {
        try await withSim { sim, client in
            for (name, ready, hdd) in [("dev1-node-2", "True", "188"), ("dev1-node-4", "Unknown", "188")] {
                let node = Node(
                    metadata: ObjectMeta(name: name),
                    status: NodeStatus(allocatable: ["carina.storage.io/carina-vg-hdd": .init(stringLiteral: hdd)], conditions: [NodeCondition(type: "Ready", status: ready)]))
                _ = try await client.create(node)
            }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rebound-serve-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try await sim.server.kubeconfig().write(toFile: directory + "/kubeconfig", atomically: true, encoding: .utf8)
            let extenderPort = try Self.freePort()
            var healthPort = try Self.freePort()
            while healthPort == extenderPort { healthPort = try Self.freePort() }

            let serve = try ChildProcess(ReboundBinary.path, [
                "serve", "--kubeconfig", directory + "/kubeconfig",
                "--set", "extender.address=127.0.0.1", "--set", "extender.port=\(extenderPort)",
                "--set", "health.address=127.0.0.1", "--set", "health.port=\(healthPort)", "--set", "webhook.enabled=false",
            ])
            defer { serve.stop() }
            let ready = await serve.waitForLine { $0.contains("extender ready") }
            try #require(ready != nil, "rebound serve did not get ready: \(serve.printed.joined(separator: "\n"))")

            let extender = try KubeClient(KubeClientConfiguration(server: "http://127.0.0.1:\(extenderPort)"))
            defer { Task { try? await extender.shutdown() } }
            #expect(String(decoding: try await extender.send(.GET, "/readyz").bytes, as: UTF8.self) == "ok")
            let pod = """
                {"metadata":{"name":"db-0","namespace":"default","annotations":{"rebound.io/volume-requests":"{\\"carina-vg-hdd\\":1}"}},\
                "spec":{"containers":[{"name":"db","resources":{"limits":{"rebound.io/local-capacity":"1"},"requests":{"rebound.io/local-capacity":"1"}}}]}}
                """
            let body = "{\"Pod\":\(pod),\"Nodes\":null,\"NodeNames\":[\"dev1-node-2\",\"dev1-node-4\"]}"
            let answer = try JSONValue(parsing: try await extender.send(.POST, "/filter", body: Array(body.utf8)).bytes)
            #expect(answer["NodeNames"] == ["dev1-node-2"])
            #expect(answer["FailedAndUnresolvableNodes"]?["dev1-node-4"]?.stringValue == "node is not ready (Ready=Unknown)")
            let metrics = String(decoding: try await extender.send(.GET, "/metrics").bytes, as: UTF8.self)
            #expect(metrics.contains("rebound_extender_requests_total{verb=\"filter\",result=\"ok\"} 1"))
        }
    }
}
