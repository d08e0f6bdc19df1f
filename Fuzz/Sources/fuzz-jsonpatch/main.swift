import FuzzDriver
import Kube

/// RFC 6902 and RFC 7386 patches: the input is a document, a newline, and a patch. Nothing traps.
runFuzzer { data, size in
    let bytes = input(data, size)
    let split = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
    guard let document = try? JSONValue(parsing: bytes[..<split]),
        let patch = try? JSONValue(parsing: split < bytes.endIndex ? Array(bytes[(split + 1)...]) : [])
    else { return 0 }
    if let operations = try? JSONPatch.operations(from: patch) {
        _ = try? JSONPatch.apply(operations, to: document)
        _ = JSONPatch.document(operations)
    }
    let merged = JSONPatch.merge(patch, into: document)
    _ = JSONPatch.mergePatch(from: document, to: merged)
    return 0
}
