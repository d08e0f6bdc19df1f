/// The storage a pod needs on its node, per volume group, in whole GiB: what the webhook records
/// on the pod (``CompatibilityKeys/requestsAnnotation``) and the extender reads back.
///
/// Each claim is rounded up to a whole GiB on its own, because that is what an LVM volume of the
/// claim's size takes from the group (Carina allocates whole GiB).
public struct VolumeGroupRequests: Sendable, Hashable {
    public private(set) var gibByGroup: [String: Int64]

    public init(_ gibByGroup: [String: Int64] = [:]) { self.gibByGroup = gibByGroup.filter { $0.value > 0 } }

    public var isEmpty: Bool { gibByGroup.isEmpty }

    /// GiB over all groups: the amount of the routing resource the pod requests.
    public var totalGiB: Int64 { gibByGroup.values.reduce(0, +) }

    public subscript(group: String) -> Int64 { gibByGroup[group] ?? 0 }

    /// Adds one claim of `size` from `group`, rounded up to whole GiB (at least 1 for any non-zero size).
    public mutating func add(group: String, size: Quantity) {
        guard size.nanos > 0, let gib = size.ceiling(binaryPower: 3) else { return }
        gibByGroup[group, default: 0] += gib
    }

    /// The annotation value: a JSON object with sorted keys, e.g. `{"carina-vg-hdd":1,"carina-vg-ssd":5}`.
    public var annotationValue: String {
        var text = "{"
        for (position, group) in gibByGroup.keys.sorted().enumerated() {
            if position > 0 { text.append(",") }
            text.append("\"")
            text.append(Self.escape(group))
            text.append("\":")
            text.append(String(gibByGroup[group] ?? 0))
        }
        text.append("}")
        return text
    }

    /// Reads an annotation value; nil if it is not a JSON object of group names to positive whole numbers.
    public init?(annotationValue text: String) {
        var parser = FlatObjectParser(Array(text.utf8))
        guard let entries = parser.parse() else { return nil }
        self.init(entries)
        if gibByGroup.count != entries.count { return nil }
    }

    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return text }
        var result = ""
        for character in text {
            switch character {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            default: result.append(character)
            }
        }
        return result
    }
}

/// Parses `{"name": 12, ...}` (string keys, non-negative integer values) without Foundation.
struct FlatObjectParser {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func parse() -> [String: Int64]? {
        var result: [String: Int64] = [:]
        skipSpaces()
        guard take(UInt8(ascii: "{")) else { return nil }
        skipSpaces()
        if take(UInt8(ascii: "}")) { return atEnd() ? result : nil }
        repeat {
            skipSpaces()
            guard let key = string() else { return nil }
            skipSpaces()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipSpaces()
            guard let value = integer(), result[key] == nil else { return nil }
            result[key] = value
            skipSpaces()
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")) else { return nil }
        return atEnd() ? result : nil
    }

    mutating func atEnd() -> Bool {
        skipSpaces()
        return index == bytes.count
    }

    mutating func skipSpaces() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        var output: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\"") { return String(decoding: output, as: UTF8.self) }
            if byte == UInt8(ascii: "\\") {
                guard index < bytes.count else { return nil }
                output.append(bytes[index])
                index += 1
            } else {
                output.append(byte)
            }
        }
        return nil
    }

    mutating func integer() -> Int64? {
        let start = index
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
        guard index > start else { return nil }
        return Int64(String(decoding: bytes[start..<index], as: UTF8.self))
    }
}
