public import Kube

/// The parts of an AdmissionReview's `request` the webhook reads. The pod is kept as
/// ``AdmittedPod``, taken from the API server's own JSON (never a re-encoded model), so the patch is
/// computed against exactly that document: name, namespace, annotations, the volumes' claim
/// references, `nodeName` and the first container's resources.
public struct AdmissionRequest: Sendable {
    /// The AdmissionReview versions the webhook answers, each in its own version.
    public static let supportedAPIVersions: Set<String> = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"]

    /// `apiVersion` of the review; the answer uses the same.
    public var apiVersion: String
    public var uid: String
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    public var operation: String?
    /// `request.kind.kind` (`Pod` for pods).
    public var kind: String?
    /// `request.kind.group` (empty for the core group).
    public var group: String?
    /// Set for subresources (`pods/binding`, `pods/eviction`), whose object is not a Pod.
    public var subResource: String?
    public var namespace: String?
    /// The object's name; often empty on CREATE (pods from templates use `generateName`).
    public var name: String?
    /// The facts of `request.object` when it is a JSON object.
    public var pod: AdmittedPod?
    /// The JSON type of `request.object` (`"string"`, `"array"`, ...), nil when it is missing.
    public var objectType: String?
    public var dryRun: Bool

    /// Reads an AdmissionReview from its bytes, checking everything needed to answer it. The
    /// whole body must be valid JSON; only the members the webhook reads are kept.
    public init(parsing body: some Collection<UInt8>) throws(AdmissionReviewError) {
        let review: (value: JSONValue, pod: AdmittedPod?)
        do {
            review = try JSONSubset.admissionReview.read(body)
        } catch {
            throw .notJSON(error)
        }
        try self.init(review: review.value, pod: review.pod)
    }

    /// `pod`: the facts of the object when the reader took them already (its place in `review`
    /// then holds an empty object).
    private init(review: JSONValue, pod: AdmittedPod?) throws(AdmissionReviewError) {
        guard case .object(let review) = review else { throw .notAnObject(review.typeName) }
        guard let apiVersion = review["apiVersion"]?.stringValue, Self.supportedAPIVersions.contains(apiVersion) else {
            throw .unsupportedAPIVersion(review["apiVersion"]?.stringValue ?? review["apiVersion"].map { $0.jsonString })
        }
        guard review["kind"]?.stringValue == "AdmissionReview" else {
            throw .wrongKind(review["kind"]?.stringValue ?? review["kind"].map { $0.jsonString })
        }
        guard case .object(let request)? = review["request"] else { throw .missingRequest }
        guard let uid = request["uid"]?.stringValue, !uid.isEmpty else { throw .missingUID }
        self.apiVersion = apiVersion
        self.uid = uid
        operation = request["operation"]?.stringValue
        let kindMembers = request["kind"]?.objectValue
        kind = kindMembers?["kind"]?.stringValue
        group = kindMembers?["group"]?.stringValue
        subResource = request["subResource"]?.stringValue
        namespace = request["namespace"]?.stringValue
        name = request["name"]?.stringValue
        let object = request["object"]
        objectType = object?.typeName
        if case .object? = object {
            self.pod = pod ?? AdmittedPod(pod: object ?? .emptyObject)
        }
        dryRun = request["dryRun"]?.boolValue ?? false
    }

    /// Why `object` is not a Pod this webhook can judge, or nil when it is one.
    public var notAPodReason: String? {
        guard let pod else {
            return "request.object is \(objectType.map { "a JSON \($0)" } ?? "missing"), not a Pod"
        }
        if let kind, kind != "Pod" || !(group ?? "").isEmpty {
            let qualified = (group ?? "").isEmpty ? kind : "\(group ?? "")/\(kind)"
            return "request.kind is \(qualified), not Pod; the webhook configuration should send only pods"
        }
        if let objectKind = pod.kind, objectKind != "Pod" {
            return "request.object is a \(objectKind), not a Pod"
        }
        if !pod.hasSpec {
            return "request.object has no spec, so it is not a Pod"
        }
        return nil
    }
}
