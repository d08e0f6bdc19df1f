/// The storage a pod needs on its node, per volume group, in whole GiB: what the webhook records
/// on the pod (``CompatibilityKeys/requestsAnnotation``) and the extender reads back.
///
/// Each claim is rounded up to a whole GiB on its own, because that is what an LVM volume of the
/// claim's size takes from the group (Carina allocates whole GiB).
///
/// Amounts are capped at ``maximumGiB`` per group: requests come from user-written claims and
/// annotations, so no sum of them may trap, and a request that large fits no volume group anyway.
public struct VolumeGroupRequests: Sendable, Hashable {
    /// 8 EiB (2⁶³ bytes, the largest binary quantity Kubernetes holds), in GiB: the most one
    /// group's request can count. No volume group comes near it, so a capped request still fits
    /// nowhere.
    public static let maximumGiB: Int64 = 1 << 33
    /// The longest requests annotation read (a pod with a few dozen volume groups stays far below).
    public static let maximumAnnotationLength = 4096

    public private(set) var gibByGroup: [String: Int64]
    /// GiB of the largest single volume per group, where the claims were added one by one
    /// (``add(group:size:)``); for amounts known only as totals (an annotation) the total. A
    /// driver that caps the size of one volume (CSIStorageCapacity `maximumVolumeSize`) is judged
    /// against it. Not part of equality: two requests for the same totals are the same request.
    public private(set) var largestGiB: [String: Int64]

    /// Requests from GiB per group; non-positive amounts are dropped, larger ones than ``maximumGiB`` capped.
    public init(_ gibByGroup: [String: Int64] = [:]) {
        self.gibByGroup = gibByGroup.filter { $0.value > 0 }.mapValues { min($0, Self.maximumGiB) }
        self.largestGiB = self.gibByGroup
    }

    public static func == (lhs: VolumeGroupRequests, rhs: VolumeGroupRequests) -> Bool { lhs.gibByGroup == rhs.gibByGroup }

    public func hash(into hasher: inout Hasher) { hasher.combine(gibByGroup) }

    /// The largest single volume the pod needs from `group`, in GiB (0 when none).
    public func largest(in group: String) -> Int64 { min(largestGiB[group] ?? 0, self[group]) }

    public var isEmpty: Bool { gibByGroup.isEmpty }

    /// GiB over all groups: the amount of the routing resource the pod requests (saturating).
    public var totalGiB: Int64 { gibByGroup.values.reduce(0) { $0.saturatingAdd($1) } }

    public subscript(group: String) -> Int64 { gibByGroup[group] ?? 0 }

    /// Adds one claim of `size` from `group`, rounded up to whole GiB (at least 1 for any non-zero
    /// size), the group's total capped at ``maximumGiB``.
    public mutating func add(group: String, size: Quantity) {
        guard size.nanos > 0 else { return }
        let gib = min(size.ceiling(binaryPower: 3) ?? Self.maximumGiB, Self.maximumGiB)
        add(group: group, gib: gib)
    }

    /// Adds `gib` whole GiB to `group`, the group's total capped at ``maximumGiB``.
    public mutating func add(group: String, gib: Int64) {
        guard gib > 0 else { return }
        gibByGroup[group] = min(gibByGroup[group, default: 0].saturatingAdd(gib), Self.maximumGiB)
        largestGiB[group] = max(largestGiB[group] ?? 0, min(gib, Self.maximumGiB))
    }

    /// What is left to provision once `provisioned` (volumes that already exist, e.g. claims
    /// already bound) is taken away, per group, never below zero. The largest single volume left
    /// in a group stays what it was, but never above the group's new total.
    public func subtracting(_ provisioned: VolumeGroupRequests) -> VolumeGroupRequests {
        var result = VolumeGroupRequests()
        for (group, gib) in gibByGroup {
            let left = max(0, gib - provisioned[group])
            guard left > 0 else { continue }
            result.gibByGroup[group] = left
            result.largestGiB[group] = min(largest(in: group), left)
        }
        return result
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

    /// Reads an annotation value; nil if it is not a JSON object of group names to whole numbers
    /// from 1 to ``maximumGiB``, or longer than ``maximumAnnotationLength`` as read or as written
    /// back (``annotationValue``).
    public init?(annotationValue text: String) {
        guard let reading = try? Self.read(annotationValue: text) else { return nil }
        self = reading
    }

    /// Why an annotation value cannot be read.
    public enum AnnotationError: Error, Sendable, Equatable, CustomStringConvertible {
        case tooLong(Int)
        case notAnObject
        case outOfRange(group: String, gib: String)

        public var description: String {
            switch self {
            case .tooLong(let length):
                "it has \(length) characters, more than the \(VolumeGroupRequests.maximumAnnotationLength) a request can need"
            case .notAnObject:
                "it is not a JSON object of volume-group names to whole GiB"
            case .outOfRange(let group, let gib):
                "volume group \(group) asks for \(gib) GiB; a request must be from 1 to \(VolumeGroupRequests.maximumGiB) GiB"
            }
        }
    }

    /// Reads an annotation value, saying what is wrong with it when it cannot.
    public static func read(annotationValue text: String) throws(AnnotationError) -> VolumeGroupRequests {
        guard text.utf8.count <= maximumAnnotationLength else { throw .tooLong(text.utf8.count) }
        var parser = FlatObjectParser(Array(text.utf8))
        guard let entries = parser.parse() else { throw .notAnObject }
        var gibByGroup: [String: Int64] = [:]
        for (group, digits) in entries {
            guard let gib = Int64(digits), gib >= 1, gib <= maximumGiB else { throw .outOfRange(group: group, gib: digits) }
            gibByGroup[group] = gib
        }
        let requests = VolumeGroupRequests(gibByGroup)
        // What is read must write back within the same limit, or the written value would not read
        // back (found by fuzzing: group names full of control characters, each escaped to six
        // characters, pushed a 4,000-character value past the limit once written).
        let written = requests.annotationValue.utf8.count
        guard written <= maximumAnnotationLength else { throw .tooLong(written) }
        return requests
    }

    /// A JSON string's contents: `"`, `\` and control characters escaped (found by fuzzing: a
    /// control character written raw did not read back).
    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

/// Parses `{"name": 12, ...}` (string keys, non-negative integer values, kept as their digits) without Foundation.
struct FlatObjectParser {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func parse() -> [String: String]? {
        var result: [String: String] = [:]
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

    /// A JSON string, with its escapes (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\uXXXX`
    /// and surrogate pairs); nil when it is not one.
    mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        var output: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\"") { return String(decoding: output, as: UTF8.self) }
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                continue
            }
            guard index < bytes.count else { return nil }
            let escaped = bytes[index]
            index += 1
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escaped)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                guard var code = hex4() else { return nil }
                if (0xD800..<0xDC00).contains(code) {
                    // A high surrogate needs its low half: \uD83D\uDE00.
                    guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { return nil }
                output.append(contentsOf: Array(String(Character(scalar)).utf8))
            default: return nil
            }
        }
        return nil
    }

    /// Four hex digits.
    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[index..<(index + 4)] {
            guard let digit = Character(Unicode.Scalar(byte)).hexDigitValue else { return nil }
            value = value * 16 + UInt32(digit)
        }
        index += 4
        return value
    }

    /// The digits of a non-negative whole number, as written.
    mutating func integer() -> String? {
        let start = index
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
        guard index > start else { return nil }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }
}

extension Int64 {
    /// `self + other`, held at `Int64.max` or `Int64.min` instead of trapping.
    @inlinable
    public func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        if overflow { return other > 0 ? .max : .min }
        return sum
    }

    /// `self - other`, held at `Int64.max` or `Int64.min` instead of trapping.
    @inlinable
    public func saturatingSubtract(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        if overflow { return other < 0 ? .max : .min }
        return difference
    }
}
