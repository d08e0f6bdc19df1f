import FuzzDriver
import Kube

/// The JSON parser, the byte scanner and the single-pass model decoders on arbitrary bytes:
/// nothing traps; what parses serialises to a document that parses back equal.
runFuzzer { data, size in
    let bytes = UnsafeRawBufferPointer(input(data, size))
    if let value = try? JSONValue(parsing: input(data, size)) {
        let written = value.serialized()
        guard let again = try? JSONValue(parsing: written), again == value else {
            fatalError("a parsed document does not survive serialisation")
        }
    }
    var scanner = JSONScanner(bytes)
    _ = try? scanner.skipValue()
    _ = try? Pod.decode(scanning: bytes)
    _ = try? Node.decode(scanning: bytes)
    _ = try? KubeList<Node>.decode(scanning: bytes)
    _ = try? KubeList<Pod>.decode(scanning: bytes)
    if let capacity = try? CSIStorageCapacity.decode(scanning: bytes) {
        // Whatever a driver publishes, reading it for placement never traps.
        _ = capacity.trimmedForCache
        _ = capacity.reaches(nodeLabels: ["kubernetes.io/hostname": "n1"])
    }
    // Any document can be written as YAML (rebound status -o yaml) without trapping.
    if let value = try? JSONValue(parsing: input(data, size)) { _ = value.yamlText }
    return 0
}
