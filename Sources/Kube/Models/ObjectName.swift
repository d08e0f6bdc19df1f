/// Kubernetes' rules for object names (RFC 1123), as the API server applies them.
public enum ObjectName {
    /// A DNS subdomain (most objects, Secrets included): at most 253 lower-case letters, digits,
    /// '-' and '.', starting and ending with a letter or digit. `extra` admits more bytes (Event
    /// names also hold ':').
    public static func isDNSSubdomain(_ name: String, allowing extra: UInt8? = nil) -> Bool {
        isValid(name, maximum: 253, allowing: [UInt8(ascii: "-"), UInt8(ascii: ".")] + (extra.map { [$0] } ?? []))
    }

    /// A DNS label (Namespaces, Services): at most 63 lower-case letters, digits and '-', starting
    /// and ending with a letter or digit.
    public static func isDNSLabel(_ name: String) -> Bool {
        isValid(name, maximum: 63, allowing: [UInt8(ascii: "-")])
    }

    private static func isValid(_ name: String, maximum: Int, allowing punctuation: [UInt8]) -> Bool {
        func alphanumeric(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
        let bytes = name.utf8
        guard let first = bytes.first, let last = bytes.last, bytes.count <= maximum, alphanumeric(first), alphanumeric(last) else { return false }
        return bytes.allSatisfy { alphanumeric($0) || punctuation.contains($0) }
    }
}
