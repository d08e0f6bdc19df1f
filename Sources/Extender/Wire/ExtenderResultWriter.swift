import Kube
import NIOCore

/// Builds the extender's answers as kube-scheduler decodes them (Go field names, no json tags):
///
///     ExtenderFilterResult  {"Nodes": {"metadata": {}, "items": […]} | null, "NodeNames": […] | null,
///                            "FailedNodes": {"node": "reason"}, "FailedAndUnresolvableNodes": {…}, "Error": ""}
///     HostPriorityList      [{"Host": "node", "Score": 7}, …]
///     ExtenderBindingResult {"Error": ""}
///
/// Answers are written straight into the response buffer; passing nodes of a full NodeList are
/// copied from the request's bytes, never re-serialised.
enum ExtenderResultWriter {
    /// A node the filter dropped and why.
    struct Failure: Sendable {
        var node: String
        var reason: String
        var unresolvable: Bool
    }

    /// A filter result echoing the passing nodes of a full NodeList request.
    static func filterResult(nodesFrom body: UnsafeRawBufferPointer, passing: [Range<Int>], failures: [Failure], allocator: ByteBufferAllocator) -> ByteBuffer {
        let size = passing.reduce(256) { $0 + $1.count + 1 } + failures.reduce(0) { $0 + $1.node.utf8.count + $1.reason.utf8.count + 8 }
        var buffer = allocator.buffer(capacity: size)
        buffer.writeStaticString("{\"Nodes\":{\"metadata\":{},\"items\":[")
        for (index, range) in passing.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: body[range]))
        }
        buffer.writeStaticString("]},\"NodeNames\":null,")
        writeFailures(failures, to: &buffer)
        buffer.writeStaticString(",\"Error\":\"\"}")
        return buffer
    }

    /// A filter result naming the passing nodes (NodeNames request).
    static func filterResult(names: [String], failures: [Failure], allocator: ByteBufferAllocator) -> ByteBuffer {
        var scratch: [UInt8] = []
        scratch.reserveCapacity(names.reduce(256) { $0 + $1.utf8.count + 3 } + failures.reduce(0) { $0 + $1.node.utf8.count + $1.reason.utf8.count + 8 })
        scratch.append(contentsOf: "{\"Nodes\":null,\"NodeNames\":[".utf8)
        for (index, name) in names.enumerated() {
            if index > 0 { scratch.append(UInt8(ascii: ",")) }
            appendQuoted(name, to: &scratch)
        }
        scratch.append(contentsOf: "],".utf8)
        var buffer = allocator.buffer(capacity: scratch.count + 64)
        buffer.writeBytes(scratch)
        writeFailures(failures, to: &buffer)
        buffer.writeStaticString(",\"Error\":\"\"}")
        return buffer
    }

    /// A filter result that fails the scheduling attempt with `message`.
    static func filterError(_ message: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var scratch = Array("{\"Nodes\":null,\"NodeNames\":null,\"FailedNodes\":null,\"FailedAndUnresolvableNodes\":null,\"Error\":".utf8)
        appendQuoted(message, to: &scratch)
        scratch.append(UInt8(ascii: "}"))
        return allocator.buffer(bytes: scratch)
    }

    private static let hostKey = Array("{\"Host\":".utf8)
    private static let scoreKey = Array(",\"Score\":".utf8)

    /// A HostPriorityList: `names[i]` scored `scores[i]`.
    static func priorities(names: [String], scores: [Int64], allocator: ByteBufferAllocator) -> ByteBuffer {
        var scratch: [UInt8] = []
        scratch.reserveCapacity(names.reduce(2) { $0 + $1.utf8.count + 24 })
        scratch.append(UInt8(ascii: "["))
        for index in names.indices {
            if index > 0 { scratch.append(UInt8(ascii: ",")) }
            scratch.append(contentsOf: hostKey)
            appendQuoted(names[index], to: &scratch)
            scratch.append(contentsOf: scoreKey)
            appendInteger(scores[index], to: &scratch)
            scratch.append(UInt8(ascii: "}"))
        }
        scratch.append(UInt8(ascii: "]"))
        return allocator.buffer(bytes: scratch)
    }

    /// An ExtenderBindingResult; an empty message means success.
    static func bindingResult(error message: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var scratch = Array("{\"Error\":".utf8)
        appendQuoted(message, to: &scratch)
        scratch.append(UInt8(ascii: "}"))
        return allocator.buffer(bytes: scratch)
    }

    /// `{"Error": message}`: the body of an HTTP error answer, readable by people and tools.
    static func errorBody(_ message: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        bindingResult(error: message, allocator: allocator)
    }

    /// A JSON string literal; names and reasons rarely need escapes, so those without are copied whole.
    static func appendQuoted(_ text: String, to output: inout [UInt8]) {
        var text = text
        let copied = text.withUTF8 { bytes in
            guard bytes.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) else { return false }
            output.append(UInt8(ascii: "\""))
            output.append(contentsOf: bytes)
            output.append(UInt8(ascii: "\""))
            return true
        }
        if !copied { JSONValue.appendQuoted(text, to: &output) }
    }

    static func appendInteger(_ value: Int64, to output: inout [UInt8]) {
        // Scores are 0…10: avoid formatting a String for each.
        if (0...9).contains(value) {
            output.append(UInt8(ascii: "0") + UInt8(value))
        } else {
            output.append(contentsOf: String(value).utf8)
        }
    }

    private static func writeFailures(_ failures: [Failure], to buffer: inout ByteBuffer) {
        var scratch: [UInt8] = []
        for unresolvable in [false, true] {
            scratch.append(contentsOf: (unresolvable ? "\"FailedAndUnresolvableNodes\":{" : "\"FailedNodes\":{").utf8)
            var first = true
            for failure in failures where failure.unresolvable == unresolvable {
                if !first { scratch.append(UInt8(ascii: ",")) }
                first = false
                appendQuoted(failure.node, to: &scratch)
                scratch.append(UInt8(ascii: ":"))
                appendQuoted(failure.reason, to: &scratch)
            }
            scratch.append(UInt8(ascii: "}"))
            if !unresolvable { scratch.append(UInt8(ascii: ",")) }
        }
        buffer.writeBytes(scratch)
    }
}
