import Capacity
import Foundation
import Kube
import Logging
import Webhook

/// A StatefulSet pod as kube-apiserver hands it to a mutating webhook on CREATE: defaulted,
/// without `name` (the test variant uses `generateName`), with fields Rebound's models do not
/// know (`os`, `schedulingGates`, `resizePolicy`, `x-vendor-extension`, odd number literals).
let statefulSetPodJSON = #"""
{
  "kind": "Pod",
  "apiVersion": "v1",
  "metadata": {
    "generateName": "my-cluster-mysql-",
    "namespace": "mysql",
    "creationTimestamp": null,
    "labels": {
      "app.kubernetes.io/name": "mysql",
      "controller-revision-hash": "my-cluster-mysql-7d9c6f8b5",
      "statefulset.kubernetes.io/pod-name": "my-cluster-mysql-0"
    },
    "ownerReferences": [
      {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "my-cluster-mysql", "uid": "3f1c2b9e-7c1e-4a57-9f0e-4b0c8d6f1a22", "controller": true, "blockOwnerDeletion": true}
    ],
    "managedFields": [
      {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": "2024-05-01T10:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:generateName": {}}}}
    ]
  },
  "spec": {
    "volumes": [
      {"name": "data", "persistentVolumeClaim": {"claimName": "data-my-cluster-mysql-0"}},
      {"name": "config", "configMap": {"name": "mysql-config", "defaultMode": 420}},
      {"name": "kube-api-access-x7k2p", "projected": {"sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}], "defaultMode": 420}}
    ],
    "initContainers": [
      {
        "name": "init-permissions",
        "image": "busybox:1.36",
        "command": ["sh", "-c", "chown -R 999:999 /var/lib/mysql"],
        "resources": {"requests": {"cpu": "10m"}},
        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/mysql"}],
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent"
      }
    ],
    "containers": [
      {
        "name": "mysql",
        "image": "mysql:8.0.36",
        "ports": [{"name": "mysql", "containerPort": 3306, "protocol": "TCP"}],
        "env": [{"name": "MYSQL_ROOT_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "mysql-secret", "key": "password"}}}],
        "resources": {"limits": {"memory": "2Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}},
        "resizePolicy": [{"resourceName": "cpu", "restartPolicy": "NotRequired"}],
        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/mysql"}, {"name": "config", "mountPath": "/etc/mysql/conf.d"}],
        "readinessProbe": {"exec": {"command": ["mysqladmin", "ping"]}, "initialDelaySeconds": 5, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent"
      },
      {
        "name": "metrics",
        "image": "prom/mysqld-exporter:v0.15.1",
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent"
      }
    ],
    "restartPolicy": "Always",
    "terminationGracePeriodSeconds": 30,
    "dnsPolicy": "ClusterFirst",
    "serviceAccountName": "default",
    "serviceAccount": "default",
    "hostname": "my-cluster-mysql-0",
    "subdomain": "my-cluster-mysql",
    "securityContext": {"fsGroup": 999, "runAsUser": 999},
    "schedulerName": "default-scheduler",
    "tolerations": [
      {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
      {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
    ],
    "priority": 0,
    "enableServiceLinks": true,
    "preemptionPolicy": "PreemptLowerPriority",
    "os": {"name": "linux"},
    "schedulingGates": [],
    "x-vendor-extension": {"weight": 1.50, "ratio": 1e3, "nothing": null, "flag": false}
  },
  "status": {}
}
"""#

func statefulSetPod() -> JSONValue { try! JSONValue(parsing: statefulSetPodJSON) }

/// Carina's classes: HDD via the legacy parameter, SSD via the current one, and the default
/// class (also local); plus a network class.
let hddClass = StorageClass(
    metadata: ObjectMeta(name: "csi-carina-sc"), provisioner: "carina.storage.io",
    parameters: ["carina.storage.io/disk-type": "carina-vg-hdd", "csi.storage.k8s.io/fstype": "xfs"], reclaimPolicy: "Delete",
    volumeBindingMode: "WaitForFirstConsumer")
let ssdClass = StorageClass(
    metadata: ObjectMeta(name: "csi-carina-ssd"), provisioner: "carina.storage.io",
    parameters: ["carina.storage.io/disk-group-name": "ssd"], volumeBindingMode: "WaitForFirstConsumer")
let defaultLocalClass = StorageClass(
    metadata: ObjectMeta(name: "carina-default", annotations: ["storageclass.kubernetes.io/is-default-class": "true"]),
    provisioner: "carina.storage.io", parameters: ["carina.storage.io/disk-group-name": "carina-vg-hdd"])
let networkClass = StorageClass(metadata: ObjectMeta(name: "ebs-gp3"), provisioner: "ebs.csi.aws.com", parameters: ["type": "gp3"])
let allClasses = [hddClass, ssdClass, defaultLocalClass, networkClass]

let optedIn = ["carina.storage.io/allow-pod-migration-if-node-notready": "true", "kubernetes.io/metadata.name": "mysql"]

func claim(_ name: String, namespace: String = "mysql", size: String, storageClass: String?, volumeName: String? = nil, phase: String = "Pending") -> PersistentVolumeClaim {
    PersistentVolumeClaim(
        metadata: ObjectMeta(name: name, namespace: namespace),
        spec: PersistentVolumeClaimSpec(
            accessModes: ["ReadWriteOnce"], resources: ResourceRequirements(requests: ["storage": Quantity(size)!]),
            storageClassName: storageClass, volumeName: volumeName),
        status: .init(phase: phase))
}

/// An AdmissionReview for `pod`, as kube-apiserver sends it.
func admissionReview(
    pod: JSONValue, uid: String = "705ab4f5-6393-11e8-b7cc-42010a800002", apiVersion: String = "admission.k8s.io/v1",
    operation: String = "CREATE", namespace: String = "mysql", dryRun: Bool = false, subResource: String? = nil
) -> JSONValue {
    var request: JSONObject = [
        "uid": .string(uid),
        "kind": ["group": "", "version": "v1", "kind": "Pod"],
        "resource": ["group": "", "version": "v1", "resource": "pods"],
        "requestKind": ["group": "", "version": "v1", "kind": "Pod"],
        "requestResource": ["group": "", "version": "v1", "resource": "pods"],
        "namespace": .string(namespace),
        "operation": .string(operation),
        "userInfo": ["username": "system:serviceaccount:kube-system:statefulset-controller", "groups": ["system:serviceaccounts"]],
        "object": pod,
        "oldObject": .null,
        "dryRun": .bool(dryRun),
        "options": ["kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"],
    ]
    if let subResource { request["subResource"] = .string(subResource) }
    return ["kind": "AdmissionReview", "apiVersion": .string(apiVersion), "request": .object(request)]
}

extension JSONValue {
    /// Sets the value at `path` (object keys), creating objects on the way: for building expected documents
    /// without going through JSON Patch.
    mutating func set(_ path: [String], _ value: JSONValue) {
        guard let first = path.first else {
            self = value
            return
        }
        var child = self[first] ?? .emptyObject
        if child.objectValue == nil && path.count > 1 { child = .emptyObject }
        child.set(Array(path.dropFirst()), value)
        self[first] = child
    }

    /// The same value with object members sorted, so documents compare regardless of member order.
    var sortedKeys: JSONValue {
        switch self {
        case .object(let members):
            return .object(JSONObject(uniqueKeysWithValues: members.sorted { $0.key < $1.key }.map { ($0.key, $0.value.sortedKeys) }))
        case .array(let items):
            return .array(items.map(\.sortedKeys))
        default:
            return self
        }
    }
}

/// Decodes the base64 JSON Patch of an AdmissionReview answer.
func decodedPatch(_ review: JSONValue) throws -> [JSONPatchOperation] {
    guard let text = review["response"]?["patch"]?.stringValue else { return [] }
    guard let data = Data(base64Encoded: text) else { throw FixtureError("patch is not base64") }
    return try JSONPatch.operations(from: try JSONValue(parsing: Array(data)))
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A logger for objects under test whose log lines would only clutter the test output.
let quietLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}()
