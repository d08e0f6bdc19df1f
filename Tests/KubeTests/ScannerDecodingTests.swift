import Capacity
import ClusterSim
import Foundation
import Kube
import Testing

@Suite("Single-pass decoding matches JSONDecoder")
struct ScannerDecodingTests {
    static let handwritten = #"""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"db-0","namespace":"mysql","uid":"u-1","resourceVersion":"42",
         "creationTimestamp":"2024-05-01T10:00:00Z","deletionTimestamp":null,"labels":{"app":"db"},"annotations":{"a/b":"c"},
         "ownerReferences":[{"apiVersion":"apps/v1","kind":"StatefulSet","name":"db","uid":"s-1","controller":true}],
         "finalizers":["x/y"],"managedFields":[{"manager":"m","fieldsV1":{"f:x":{}}}],"unknown":{"deep":[1,2,{"z":null}]}},
         "spec":{"nodeName":"n1","containers":[{"name":"c","image":"i","resources":{"requests":{"cpu":"250m","rebound.io/local-capacity":2},"limits":{"rebound.io/local-capacity":"2"}}}],
          "initContainers":[{"name":"init"}],
          "volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data-db-0"}},
                     {"name":"scratch","ephemeral":{"volumeClaimTemplate":{"metadata":{"labels":{"k":"v"}},"spec":{"accessModes":["ReadWriteOnce"],"storageClassName":"local","resources":{"requests":{"storage":"1.5Gi"}},"dataSource":{"kind":"X"}}}}},
                     {"name":"config","configMap":{"name":"cm"}}],
          "tolerations":[{"key":"k","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],
          "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[]}}},
          "priority":1000,"terminationGracePeriodSeconds":30,"hostname":"db-0","subdomain":"db","nodeSelector":{"disk":"ssd"}},
         "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2024-05-01T10:00:01.123456Z"}],"podIP":"10.0.0.1","startTime":"2024-05-01T10:00:00Z"}}
        """#

    @Test("a pod with every modelled field and unknown ones")
    func handwrittenPod() throws {
        let bytes = Array(Self.handwritten.utf8)
        let expected = try JSONDecoder().decode(Pod.self, from: Data(bytes))
        let scanned = try Pod.decode(scanning: bytes)
        #expect(scanned == expected)
        #expect(scanned.spec?.volumes?[1].ephemeral?.volumeClaimTemplate?.spec.resources?.requests?["storage"] == Quantity("1.5Gi"))
        #expect(scanned.spec?.containers[0].resources?.requests?["rebound.io/local-capacity"] == Quantity(2))
    }

    @Test("realistic synthetic pods and nodes, and a whole list page")
    func synthetic() throws {
        for index in 0..<20 {
            let pod = SyntheticCluster.pod(index, namespace: "ns", node: index % 2 == 0 ? "node-1" : nil).serialized()
            #expect(try Pod.decode(scanning: pod) == JSONDecoder().decode(Pod.self, from: Data(pod)))
            let node = SyntheticCluster.node(index).serialized()
            #expect(try Node.decode(scanning: node) == JSONDecoder().decode(Node.self, from: Data(node)))
        }
        let list: JSONValue = ["kind": "PodList", "apiVersion": "v1", "metadata": ["resourceVersion": "9", "continue": "abc", "remainingItemCount": 3],
                               "items": .array((0..<5).map { SyntheticCluster.pod($0, namespace: "ns", node: "n") })]
        let bytes = list.serialized()
        let scanned = try KubeList<Pod>.decode(scanning: bytes)
        let decoded = try JSONDecoder().decode(KubeList<Pod>.self, from: Data(bytes))
        #expect(scanned.items == decoded.items)
        #expect(scanned.metadata == decoded.metadata)
    }

    @Test("CSIStorageCapacity objects: the external-provisioner's shape, every field, and nulls")
    func storageCapacities() throws {
        for index in 0..<10 {
            let object = SyntheticCluster.storageCapacity(storageClass: index % 2, node: index).serialized()
            #expect(try CSIStorageCapacity.decode(scanning: object) == JSONDecoder().decode(CSIStorageCapacity.self, from: Data(object)))
        }
        let full = Array(#"""
            {"apiVersion":"storage.k8s.io/v1","kind":"CSIStorageCapacity","metadata":{"name":"c","namespace":"ns"},"storageClassName":"fast",
             "nodeTopology":{"matchLabels":{"a":"b"},"matchExpressions":[{"key":"k","operator":"In","values":["x","y"]}]},
             "capacity":"100Gi","maximumVolumeSize":1073741824,"unknown":[1]}
            """#.utf8)
        let scanned = try CSIStorageCapacity.decode(scanning: full)
        #expect(scanned == (try JSONDecoder().decode(CSIStorageCapacity.self, from: Data(full))))
        #expect(scanned.maximumVolumeSize == Quantity("1Gi"))
        let nulls = Array(#"{"metadata":{"name":"c"},"storageClassName":"fast","nodeTopology":null,"capacity":null,"maximumVolumeSize":null}"#.utf8)
        #expect(try CSIStorageCapacity.decode(scanning: nulls) == JSONDecoder().decode(CSIStorageCapacity.self, from: Data(nulls)))
        #expect(throws: JSONError.self) { try CSIStorageCapacity.decode(scanning: Array(#"{"metadata":{"name":"c"}}"#.utf8)) }
    }

    @Test("wrong types and missing required fields are errors, not crashes", arguments: [
        #"{"metadata":{"name":5}}"#, #"{"spec":{"containers":[{"image":"x"}]}}"#, #"{"spec":{"volumes":[{"name":"v","persistentVolumeClaim":{}}]}}"#,
        #"{"metadata":{"creationTimestamp":"yesterday"}}"#, #"{"metadata":"#,
    ])
    func errors(_ text: String) {
        #expect(throws: JSONError.self) { try Pod.decode(scanning: Array(text.utf8)) }
    }

    @Test("a quantity Rebound cannot read never makes an object (and a cache's list) unreadable")
    func unreadableQuantities() throws {
        let long = String(repeating: "9", count: 100_000)
        let text = #"{"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"lots","memory":"1e1000","a/b":"\#(long)","c/d":-\#(long),"e/f":"1Gi"}}}]}}"#
        let pod = try Pod.decode(scanning: Array(text.utf8))
        let requests = try #require(pod.spec?.containers[0].resources?.requests)
        #expect(requests["cpu"] == nil, "malformed text is left out")
        #expect(requests["memory"] == .beyondRange(negative: false), "too large counts as the largest")
        #expect(requests["a/b"] == .beyondRange(negative: false), "too long counts as the largest")
        #expect(requests["c/d"] == .beyondRange(negative: true))
        #expect(requests["e/f"] == Quantity(1 << 30))
    }

    @Test("cached pods keep what Rebound reads and drop the rest")
    func trimming() throws {
        let pod = try Pod.decode(scanning: Array(Self.handwritten.utf8)).trimmedForCache
        #expect(pod.metadata.uid == "u-1" && pod.metadata.annotations == ["a/b": "c"] && pod.metadata.controller?.kind == "StatefulSet")
        #expect(pod.metadata.labels == nil)
        #expect(pod.nodeName == "n1" && pod.claimNames == ["data-db-0", "db-0-scratch"])
        #expect(pod.spec?.containers[0].resources?.requests == ["rebound.io/local-capacity": Quantity(2)])
        #expect(pod.spec?.containers[0].image == nil && pod.spec?.tolerations == nil && pod.spec?.affinity == nil)
        #expect(pod.status?.phase == "Running" && pod.status?.conditions == nil)
    }
}
