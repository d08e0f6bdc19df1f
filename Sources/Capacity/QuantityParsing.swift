extension Quantity {
    /// The longest text ``init(parsing:)`` reads. The longest quantity Kubernetes can hold
    /// exactly, at full nano precision and with a suffix, has about 40 characters; anything
    /// longer is refused before a byte of it is interpreted, so parsing costs at most this much.
    public static let maximumTextLength = 64

    /// Parses a quantity exactly as `resource.ParseQuantity` does: an optional sign, digits with
    /// an optional fraction, then a binary suffix (`Ki`…`Ei`), a decimal suffix (`n`…`E`) or an
    /// exponent (`e3`, `E-2`). Non-zero values are rounded away from zero to a whole nano-unit.
    ///
    /// Text longer than ``maximumTextLength`` is refused with ``QuantityError/tooLong(_:)``.
    /// The work is linear in the (bounded) length: the value is computed on decimal digits,
    /// never with arbitrary-precision arithmetic.
    public init(parsing text: String) throws(QuantityError) {
        var text = text
        let parsed = text.withUTF8 { bytes in Result { () throws(QuantityError) in try Self.parse(bytes) } }
        switch parsed {
        case .success(let value): self.init(nanos: value.nanos, format: value.format)
        case .failure(let error): throw error
        }
    }

    /// Parses a quantity, or nil if the text is not one.
    public init?(_ text: String) {
        guard let value = try? Quantity(parsing: text) else { return nil }
        self = value
    }

    /// Parses UTF-8 bytes (a JSON string's contents, say) without making a `String` first.
    public init(parsingUTF8 bytes: UnsafeBufferPointer<UInt8>) throws(QuantityError) {
        let parsed = try Self.parse(bytes)
        self.init(nanos: parsed.nanos, format: parsed.format)
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(QuantityError) -> (nanos: Int128, format: Format) {
        if bytes.count > maximumTextLength { throw .tooLong(length: bytes.count) }
        let text = String(decoding: bytes, as: UTF8.self)
        if bytes.isEmpty { throw .formatWrong(text) }
        if bytes.count == 1, bytes[0] == UInt8(ascii: "0") { return (0, .decimalSI) }
        let parts = try QuantityText(bytes, text: text)
        guard let suffix = Suffix(bytes[parts.suffix]) else { throw .unknownSuffix(text) }

        // value × 10⁹ = digits × 2^binaryExponent × 10^decimalShift, computed on decimal digits.
        var digits = DecimalDigits(integer: bytes[parts.integer], fraction: bytes[parts.fraction])
        if digits.isZero { return (0, suffix.format) }  // 0.000, 0Gi, 0e5: zero, whatever the suffix says
        var decimalShift = 9 - parts.fraction.count
        switch suffix.base {
        case .ten: decimalShift += suffix.exponent
        case .two: digits.multiply(byPowerOfTwo: suffix.exponent)
        }
        // Trailing zeros move into the shift, so that only significant digits are held.
        decimalShift += digits.dropTrailingZeros()

        var format = suffix.format
        var magnitude: Int128?
        if decimalShift >= 0 {
            magnitude = digits.value.flatMap { Self.scaled($0, byPowerOfTen: decimalShift) }
        } else {
            // Below one nano-unit: drop the digits and round away from zero if any was non-zero.
            let (kept, roundsUp) = digits.dropping(lowDigits: -decimalShift)
            magnitude = kept.value.flatMap { value in
                guard roundsUp else { return value }
                let (next, overflow) = value.addingReportingOverflow(1)
                return overflow ? nil : next
            }
        }
        if format == .binarySI {
            // Kubernetes caps binary-SI values at 2⁶³−1 units.
            let capped = min(magnitude ?? binaryCap, binaryCap)
            if capped < nanosPerUnit { format = .decimalSI }
            magnitude = capped
        }
        guard let magnitude, magnitude <= maxUnits * nanosPerUnit else { throw .outOfRange(text) }
        return (parts.negative ? -magnitude : magnitude, format)
    }

    /// `value × 10^power`, or nil when it does not fit.
    private static func scaled(_ value: Int128, byPowerOfTen power: Int) -> Int128? {
        if value == 0 { return 0 }
        // 10³⁹ exceeds Int128 already: a larger power cannot fit, however small the value.
        if power > 39 { return nil }
        var result = value
        for _ in 0..<power {
            let (next, overflow) = result.multipliedReportingOverflow(by: 10)
            if overflow { return nil }
            result = next
        }
        return result
    }
}

/// Where the parts of `<sign><integer>.<fraction><suffix>` are in a quantity's bytes, following
/// `parseQuantityString`: leading zeros of the integer part are skipped.
private struct QuantityText {
    var negative = false
    var integer: Range<Int>
    var fraction: Range<Int>
    var suffix: Range<Int>

    init(_ bytes: UnsafeBufferPointer<UInt8>, text: @autoclosure () -> String) throws(QuantityError) {
        var index = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        func run(_ predicate: (UInt8) -> Bool) -> Range<Int> {
            let start = index
            while index < bytes.count, predicate(bytes[index]) { index += 1 }
            return start..<index
        }
        _ = run { $0 == UInt8(ascii: "0") }
        integer = run(isDigit)
        fraction = index..<index
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            fraction = run(isDigit)
        }
        let suffixStart = index
        _ = run(Self.isSuffixLetter)
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
        _ = run(isDigit)
        if index != bytes.count { throw .formatWrong(text()) }
        suffix = suffixStart..<bytes.count
    }

    /// One of `eEinumkKMGTP`.
    private static func isSuffixLetter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "i"), UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "m"),
            UInt8(ascii: "k"), UInt8(ascii: "K"), UInt8(ascii: "M"), UInt8(ascii: "G"), UInt8(ascii: "T"), UInt8(ascii: "P"):
            true
        default: false
        }
    }
}

/// A non-negative whole number as its decimal digits, most significant first, for the few
/// operations parsing needs. Its length is bounded by the text's, so every operation is cheap.
struct DecimalDigits {
    /// Digit values 0…9, without leading zeros (empty for zero).
    private(set) var digits: [UInt8]

    init(integer: Slice<UnsafeBufferPointer<UInt8>>, fraction: Slice<UnsafeBufferPointer<UInt8>>) {
        digits = []
        digits.reserveCapacity(integer.count + fraction.count + 19)
        for byte in integer where !(digits.isEmpty && byte == UInt8(ascii: "0")) { digits.append(byte - 0x30) }
        for byte in fraction where !(digits.isEmpty && byte == UInt8(ascii: "0")) { digits.append(byte - 0x30) }
    }

    private init(digits: [UInt8]) { self.digits = digits }

    var isZero: Bool { digits.isEmpty }

    /// Multiplies by `2^power` (binary suffixes: at most 2⁶⁰), by repeated doubling.
    mutating func multiply(byPowerOfTwo power: Int) {
        for _ in 0..<power {
            var carry: UInt8 = 0
            for index in digits.indices.reversed() {
                let doubled = digits[index] * 2 + carry
                digits[index] = doubled % 10
                carry = doubled / 10
            }
            if carry > 0 { digits.insert(carry, at: 0) }
        }
    }

    /// Removes trailing zeros and returns how many there were.
    mutating func dropTrailingZeros() -> Int {
        var count = 0
        while let last = digits.last, last == 0 {
            digits.removeLast()
            count += 1
        }
        return count
    }

    /// The number divided by `10^count`, rounded towards zero, and whether anything non-zero was dropped.
    func dropping(lowDigits count: Int) -> (DecimalDigits, roundsUp: Bool) {
        guard count < digits.count else { return (DecimalDigits(digits: []), !digits.isEmpty) }
        let kept = Array(digits[..<(digits.count - count)])
        let roundsUp = digits[(digits.count - count)...].contains { $0 != 0 }
        return (DecimalDigits(digits: kept), roundsUp)
    }

    /// The value, or nil when it does not fit an `Int128`.
    var value: Int128? {
        var result: Int128 = 0
        for digit in digits {
            let (shifted, o1) = result.multipliedReportingOverflow(by: 10)
            let (sum, o2) = shifted.addingReportingOverflow(Int128(digit))
            if o1 || o2 { return nil }
            result = sum
        }
        return result
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

    init?(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) {
        let text = String(decoding: bytes, as: UTF8.self)
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
