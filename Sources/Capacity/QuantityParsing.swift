import BigInt

extension Quantity {
    /// Parses a quantity exactly as `resource.ParseQuantity` does: an optional sign, digits with
    /// an optional fraction, then a binary suffix (`Ki`…`Ei`), a decimal suffix (`n`…`E`) or an
    /// exponent (`e3`, `E-2`). Non-zero values are rounded away from zero to a whole nano-unit.
    public init(parsing text: String) throws(QuantityError) {
        if text.isEmpty { throw .formatWrong(text) }
        if text == "0" {
            self.init(nanos: 0, format: .decimalSI)
            return
        }
        let parts = try Self.split(text)
        guard let suffix = Suffix(parts.suffix) else { throw .unknownSuffix(text) }

        // value × 10⁹, exactly, as a magnitude: digits × base^exponent × 10^(9 − fraction digits).
        let digits = parts.integer + parts.fraction
        var magnitude = BigUInt(digits, radix: 10) ?? 0
        var decimalShift = 9 - parts.fraction.count
        switch suffix.base {
        case .ten: decimalShift += suffix.exponent
        case .two: magnitude <<= suffix.exponent
        }
        if magnitude.isZero {
            // 0.000, 0Gi, 0e5: zero, whatever the suffix says.
        } else if decimalShift > 40 {
            throw .outOfRange(text)
        } else if decimalShift >= 0 {
            magnitude *= BigUInt(10).power(decimalShift)
        } else if -decimalShift > digits.count + 40 {
            magnitude = 1  // far below one nano-unit: rounds up to the smallest non-zero value
        } else {
            let (quotient, remainder) = magnitude.quotientAndRemainder(dividingBy: BigUInt(10).power(-decimalShift))
            magnitude = remainder.isZero ? quotient : quotient + 1
        }

        var format = suffix.format
        if format == .binarySI {
            let cap = BigUInt(Int64.max) * BigUInt(1_000_000_000)
            if magnitude > cap { magnitude = cap }
            if magnitude > 0 && magnitude < BigUInt(1_000_000_000) { format = .decimalSI }
        }
        guard let value = Int128(exactly: magnitude), value <= Self.maxUnits * Self.nanosPerUnit else {
            throw .outOfRange(text)
        }
        self.init(nanos: parts.negative ? -value : value, format: format)
    }

    /// Parses a quantity, or nil if the text is not one.
    public init?(_ text: String) {
        guard let value = try? Quantity(parsing: text) else { return nil }
        self = value
    }

    /// The pieces of `<sign><integer>.<fraction><suffix>`, following `parseQuantityString`.
    private static func split(_ text: String) throws(QuantityError) -> (negative: Bool, integer: String, fraction: String, suffix: String) {
        let bytes = Array(text.utf8)
        var index = 0
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        func run(_ predicate: (UInt8) -> Bool) -> String {
            let start = index
            while index < bytes.count, predicate(bytes[index]) { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
        _ = run { $0 == UInt8(ascii: "0") }
        var integer = run(isDigit)
        if integer.isEmpty { integer = "0" }
        var fraction = ""
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            fraction = run(isDigit)
        }
        let suffixStart = index
        let suffixLetters: Set<UInt8> = Set("eEinumkKMGTP".utf8)
        _ = run { suffixLetters.contains($0) }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
        _ = run(isDigit)
        if index != bytes.count { throw .formatWrong(text) }
        let suffix = String(decoding: bytes[suffixStart...], as: UTF8.self)
        return (negative, integer, fraction, suffix)
    }
}

/// A quantity suffix: its base, exponent and the format it implies.
struct Suffix {
    enum Base { case two, ten }
    let base: Base
    let exponent: Int
    let format: Quantity.Format

    static let binary: [(String, Int)] = [("Ki", 10), ("Mi", 20), ("Gi", 30), ("Ti", 40), ("Pi", 50), ("Ei", 60)]
    static let decimal: [(String, Int)] = [
        ("n", -9), ("u", -6), ("m", -3), ("", 0), ("k", 3), ("M", 6), ("G", 9), ("T", 12), ("P", 15), ("E", 18),
    ]

    init?(_ text: String) {
        if let match = Self.binary.first(where: { $0.0 == text }) {
            self.init(base: .two, exponent: match.1, format: .binarySI)
        } else if let match = Self.decimal.first(where: { $0.0 == text }) {
            self.init(base: .ten, exponent: match.1, format: .decimalSI)
        } else if text.count > 1, let first = text.first, first == "e" || first == "E",
            let exponent = Int32(text.dropFirst())
        {
            self.init(base: .ten, exponent: Int(exponent), format: .decimalExponent)
        } else {
            return nil
        }
    }

    init(base: Base, exponent: Int, format: Quantity.Format) {
        self.base = base
        self.exponent = exponent
        self.format = format
    }
}
