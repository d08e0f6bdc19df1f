public import Capacity
import NIOCore

/// The extender's wire parsing and writing without a server, for the fuzzers in `Fuzz/`
/// (`@_spi(Fuzzing) import Extender`). Not API: it may change with the wire code.
@_spi(Fuzzing) public enum ExtenderWire {
    /// Reads an `ExtenderArgs` body and writes the answers it could lead to (every node passing,
    /// every node failing, scores for each); returns whether the body was read.
    public static func roundTrip(arguments body: UnsafeRawBufferPointer, keys: CompatibilityKeys) -> Bool {
        let allocator = ByteBufferAllocator()
        guard let arguments = try? ExtenderArguments.parse(body, reader: CapacityKeyReader(keys: keys)) else { return false }
        let names = SchedulerExtender.candidates(arguments.nodes).names
        let failures = names.map { ExtenderResultWriter.Failure(node: $0, reason: "fuzz \"reason\"\n", unresolvable: true) }
        switch arguments.nodes {
        case .list(let scanned):
            _ = ExtenderResultWriter.filterResult(nodesFrom: body, passing: scanned.map(\.range), failures: [], allocator: allocator)
        case .names:
            _ = ExtenderResultWriter.filterResult(names: names, failures: [], allocator: allocator)
        }
        _ = ExtenderResultWriter.filterResult(names: [], failures: failures, allocator: allocator)
        _ = ExtenderResultWriter.priorities(names: names, scores: names.map { _ in Int64.max }, allocator: allocator)
        _ = arguments.pod.ledgerKey
        return true
    }

    /// Reads an `ExtenderBindingArgs` body; returns whether it was read.
    public static func readBinding(_ body: UnsafeRawBufferPointer) -> Bool {
        guard let binding = try? ExtenderBindingArguments.parse(body) else { return false }
        _ = ExtenderResultWriter.bindingResult(error: binding.podKey, allocator: ByteBufferAllocator())
        return true
    }
}
