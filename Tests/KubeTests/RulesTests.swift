import Foundation
import Kube
import Testing

/// Kubernetes' rules Rebound's parts share (one home: `Sources/Kube/Rules` and the models).
@Suite("Kubernetes rules every part shares")
struct RulesTests {
    static func storageClass(_ name: String, created: String, annotation: String? = nil) -> StorageClass {
        var metadata = ObjectMeta(name: name, annotations: annotation.map { [$0: "true"] })
        metadata.creationTimestamp = KubeTime(KubeTime.parse(created)!)
        return StorageClass(metadata: metadata, provisioner: "carina.storage.io")
    }

    @Test("the default StorageClass: GA or beta annotation, the newest of several, the name breaking ties, never list order")
    func defaultClass() {
        let ga = Self.storageClass("old-ga", created: "2026-01-01T00:00:00Z", annotation: "storageclass.kubernetes.io/is-default-class")
        let beta = Self.storageClass("new-beta", created: "2026-06-01T00:00:00Z", annotation: "storageclass.beta.kubernetes.io/is-default-class")
        let plain = Self.storageClass("zz-plain", created: "2026-12-01T00:00:00Z")
        #expect(StorageClassIndex.defaultClass(among: [ga, beta, plain])?.name == "new-beta")
        #expect(StorageClassIndex.defaultClass(among: [plain, beta, ga])?.name == "new-beta")
        #expect(StorageClassIndex.defaultClass(among: [ga, plain])?.name == "old-ga")
        #expect(StorageClassIndex.defaultClass(among: [plain]) == nil)
        let twin = Self.storageClass("a-twin", created: "2026-06-01T00:00:00Z", annotation: "storageclass.kubernetes.io/is-default-class")
        #expect(StorageClassIndex.defaultClass(among: [beta, twin])?.name == "a-twin")
        #expect(StorageClassIndex.defaultClass(among: [twin, beta])?.name == "a-twin")
        let index = StorageClassIndex([ga, beta, plain])
        #expect(index.resolve(nil)?.name == "new-beta", "no storageClassName: the default class")
        #expect(index.resolve("") == nil, "an empty name: no class at all")
        #expect(index.resolve("zz-plain")?.name == "zz-plain")
    }

    @Test("a claim is bound once it names its volume, whatever its phase says")
    func claimBound() {
        func claim(volume: String?, phase: String?) -> PersistentVolumeClaim {
            PersistentVolumeClaim(metadata: ObjectMeta(name: "data"), spec: PersistentVolumeClaimSpec(volumeName: volume), status: .init(phase: phase))
        }
        #expect(claim(volume: "pv-1", phase: "Bound").isBound)
        #expect(claim(volume: "pv-1", phase: "Pending").isBound, "pre-bound or binding in progress: the volume exists")
        #expect(!claim(volume: nil, phase: "Bound").isBound, "a phase without a volume names nothing to use")
        #expect(!claim(volume: "", phase: "Pending").isBound)
    }

    @Test("claim names: generic ephemeral volumes and StatefulSet templates; terminal phases")
    func podRules() throws {
        #expect(PodRules.ephemeralClaimName(pod: "web-0", volume: "scratch") == "web-0-scratch")
        #expect(PodRules.statefulSetClaimName(template: "data", pod: "mysql-0") == "data-mysql-0")
        let pod = try JSONDecoder().decode(Pod.self, from: Data(#"""
            {"metadata":{"name":"web-0"},"spec":{"containers":[],"volumes":[
              {"name":"data","persistentVolumeClaim":{"claimName":"data-web-0"}},
              {"name":"scratch","ephemeral":{"volumeClaimTemplate":{"spec":{}}}},
              {"name":"config","configMap":{"name":"c"}}]},"status":{"phase":"Failed"}}
            """#.utf8))
        #expect(pod.claimNames == ["data-web-0", "web-0-scratch"])
        #expect(pod.isTerminal)
        #expect(["Succeeded", "Failed"].allSatisfy { PodRules.isTerminal(phase: $0) })
        #expect(!["Pending", "Running", "Unknown", nil].contains { PodRules.isTerminal(phase: $0) })
    }
}
