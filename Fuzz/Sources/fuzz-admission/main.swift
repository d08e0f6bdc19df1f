import FuzzDriver
import Capacity
import Kube
import Logging
import Webhook

/// The whole AdmissionReview path the webhook runs on the event loop, with a cluster in memory:
/// any bytes get an answer (HTTP 200 or 400), never a trap.
let handler: AdmissionHandler = {
    let storageClass = StorageClass(
        metadata: ObjectMeta(name: "csi-carina-sc", annotations: ["storageclass.kubernetes.io/is-default-class": "true"]),
        provisioner: "carina.storage.io", parameters: ["carina.storage.io/disk-type": "carina-vg-hdd"])
    let claim = PersistentVolumeClaim(
        metadata: ObjectMeta(name: "data-my-cluster-mysql-0", namespace: "mysql"),
        spec: PersistentVolumeClaimSpec(accessModes: ["ReadWriteOnce"], resources: ResourceRequirements(requests: ["storage": Quantity(1 << 30)]), storageClassName: "csi-carina-sc"),
        status: .init(phase: "Pending"))
    let lookups = StaticLookups(
        namespaces: ["mysql": ["carina.storage.io/allow-pod-migration-if-node-notready": "true"]], claims: [claim], storageClasses: [storageClass])
    var logger = Logger(label: "fuzz")
    logger.logLevel = .critical
    return AdmissionHandler(lookups: lookups, logger: logger)
}()

runFuzzer { data, size in
    switch handler.reviewNow(input(data, size)) {
    case .answered(let answer):
        guard answer.httpStatus == 200 || answer.httpStatus == 400 else { fatalError("answered with HTTP \(answer.httpStatus)") }
    case .waiting:
        // Static lookups never make a review wait.
        fatalError("a review waited for the API server")
    }
    return 0
}
