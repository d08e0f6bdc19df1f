// The webhook's review path alone, with no network: Benchmarks/webhook/review.json answered from
// memory (the opted-in namespace, the pending claim and Carina's HDD class of
// Benchmarks/webhook/scenario.yaml) in a loop, as `reviewNow` runs on the event loop.
//
//   swift run -c release webhook-review-bench [review.json] [iterations per batch] [batches]
import Foundation
import Kube
import Logging
import Webhook

let arguments = CommandLine.arguments
let path = arguments.count > 1 ? arguments[1] : "Benchmarks/webhook/review.json"
let iterations = arguments.count > 2 ? Int(arguments[2]) ?? 20_000 : 20_000
let batches = arguments.count > 3 ? Int(arguments[3]) ?? 9 : 9
guard let body = FileManager.default.contents(atPath: path).map(Array.init) else {
    FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
    exit(2)
}

func decode<T: Decodable>(_ json: String) -> T {
    do { return try JSONDecoder().decode(T.self, from: Data(json.utf8)) } catch { fatalError("fixture: \(error)") }
}
let storageClass: StorageClass = decode("""
    {"metadata":{"name":"csi-carina-sc"},"provisioner":"carina.storage.io",
     "parameters":{"carina.storage.io/disk-type":"carina-vg-hdd"},"volumeBindingMode":"WaitForFirstConsumer"}
    """)
let claim: PersistentVolumeClaim = decode("""
    {"metadata":{"name":"data-my-cluster-mysql-0","namespace":"mysql"},
     "spec":{"accessModes":["ReadWriteOnce"],"storageClassName":"csi-carina-sc","resources":{"requests":{"storage":"1Gi"}}},
     "status":{"phase":"Pending"}}
    """)
var logger = Logger(label: "bench")
logger.logLevel = .error
let handler = AdmissionHandler(
    lookups: StaticLookups(namespaces: ["mysql": ["carina.storage.io/allow-pod-migration-if-node-notready": "true"]], claims: [claim], storageClasses: [storageClass]),
    logger: logger)

guard case .answered(let first) = handler.reviewNow(body), first.result == .patched else {
    FileHandle.standardError.write(Data("the review was not patched from memory; is \(path) the benchmark's review?\n".utf8))
    exit(1)
}
var perReview: [Double] = []
var answerBytes = 0
for _ in 0..<batches {
    let clock = ContinuousClock()
    let start = clock.now
    for _ in 0..<iterations {
        if case .answered(let answer) = handler.reviewNow(body) { answerBytes &+= answer.body.count }
    }
    let elapsed = clock.now - start
    let (seconds, attoseconds) = elapsed.components
    perReview.append((Double(seconds) * 1e6 + Double(attoseconds) / 1e12) / Double(iterations))
}
perReview.sort()
print(String(format: "review of %d bytes: median %.2f µs (min %.2f, max %.2f) over %d batches of %d; answer %d bytes",
             body.count, perReview[perReview.count / 2], perReview[0], perReview[perReview.count - 1], batches, iterations, first.body.count))
