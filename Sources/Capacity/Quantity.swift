/// A Kubernetes `resource.Quantity`: a fixed-point decimal with the exact parse, rounding
/// and canonical-form rules of `k8s.io/apimachinery/pkg/api/resource`.
///
/// The value is held as a signed count of nano-units (10⁻⁹) in an `Int128`, which is exact
/// for every quantity Kubernetes itself can hold in an `int64Amount` and for decimal values
/// up to about 1.7 × 10²⁹. Parsing rounds away from zero to the nearest nano-unit, as
/// Kubernetes does ("if you want some resources, you should get some"); binary-SI values are
/// capped at 2⁶³−1 as Kubernetes caps them. Larger decimal values are rejected with
/// ``QuantityError/outOfRange(_:)`` rather than silently changed.
public struct Quantity: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// How a quantity prints itself, kept from the suffix it was parsed with.
    public enum Format: String, Sendable, Hashable, Codable {
        /// Powers of 1024: `Ki`, `Mi`, `Gi`, `Ti`, `Pi`, `Ei`.
        case binarySI = "BinarySI"
        /// Powers of 1000: `n`, `u`, `m`, (none), `k`, `M`, `G`, `T`, `P`, `E`.
        case decimalSI = "DecimalSI"
        /// Scientific notation: `1e3`, `1E-9`.
        case decimalExponent = "DecimalExponent"
    }

    /// The value in units of 10⁻⁹.
    public private(set) var nanos: Int128
    /// The format the canonical string uses.
    public var format: Format

    static let nanosPerUnit: Int128 = 1_000_000_000
    /// The largest value a binary-SI quantity may hold (Kubernetes caps there).
    static let binaryCap: Int128 = Int128(Int64.max) * nanosPerUnit
    /// Integer values beyond this would not fit the nano-unit representation.
    static let maxUnits: Int128 = Int128.max / nanosPerUnit

    /// Creates a quantity from a count of nano-units.
    public init(nanos: Int128, format: Format = .decimalSI) {
        self.nanos = nanos
        self.format = format
    }

    /// Creates a quantity holding a whole number of units.
    public init(_ units: Int64, format: Format = .decimalSI) {
        self.nanos = Int128(units) * Self.nanosPerUnit
        self.format = format
    }

    /// Creates a quantity holding `units × 1000⁻³`, i.e. `milli` thousandths.
    public init(milli: Int64, format: Format = .decimalSI) {
        self.nanos = Int128(milli) * 1_000_000
        self.format = format
    }

    /// Zero, printed as `0`.
    public static let zero = Quantity(nanos: 0)

    /// Stands for a value an API object holds that Rebound cannot read: longer than
    /// ``maximumTextLength`` or beyond the representable range. The API server stores quantities
    /// in canonical form, so such a value is enormous, and it counts as the largest there is
    /// rather than making the whole object unreadable.
    public static func beyondRange(negative: Bool) -> Quantity { Quantity(nanos: negative ? .min : .max) }

    /// Whether this is ``beyondRange(negative:)`` (or saturated arithmetic reached the same bound).
    public var isBeyondRange: Bool { nanos == .max || nanos == .min }

    public var isZero: Bool { nanos == 0 }
    public var isNegative: Bool { nanos < 0 }

    // MARK: - Conversions

    /// The value rounded up (towards positive infinity) to a whole number of units, or nil if it
    /// does not fit an `Int64`.
    public var ceilingUnits: Int64? {
        let (q, r) = nanos.quotientAndRemainder(dividingBy: Self.nanosPerUnit)
        let units = r > 0 ? q + 1 : q
        return Int64(exactly: units)
    }

    /// The value rounded down (towards negative infinity) to whole units, or nil if it does not fit.
    public var floorUnits: Int64? {
        let (q, r) = nanos.quotientAndRemainder(dividingBy: Self.nanosPerUnit)
        let units = r < 0 ? q - 1 : q
        return Int64(exactly: units)
    }

    /// The value in thousandths rounded up, as Kubernetes' `MilliValue()` does, or nil if too big.
    public var milliValue: Int64? {
        let (q, r) = nanos.quotientAndRemainder(dividingBy: 1_000_000)
        return Int64(exactly: r > 0 ? q + 1 : q)
    }

    /// True when the value is a whole number of units.
    public var isInteger: Bool { nanos % Self.nanosPerUnit == 0 }

    /// Whole units of `2^(10·power)` rounded up: `ceil(value / 1024^power)`.
    /// `ceiling(binaryPower: 3)` is the value in GiB rounded up.
    public func ceiling(binaryPower power: Int) -> Int64? {
        var divisor = Self.nanosPerUnit
        for _ in 0..<max(0, power) {
            let (next, overflow) = divisor.multipliedReportingOverflow(by: 1024)
            // A unit larger than any value: what is left is a fraction of one.
            if overflow { return nanos > 0 ? 1 : 0 }
            divisor = next
        }
        let (q, r) = nanos.quotientAndRemainder(dividingBy: divisor)
        return Int64(exactly: r > 0 ? q + 1 : q)
    }

    // MARK: - Arithmetic (exact; the receiver's format is kept, as in Kubernetes)

    public static func + (lhs: Quantity, rhs: Quantity) -> Quantity {
        var result = lhs
        result.add(rhs)
        return result
    }

    public static func - (lhs: Quantity, rhs: Quantity) -> Quantity {
        var result = lhs
        result.subtract(rhs)
        return result
    }

    /// Adds `other`. A zero receiver takes the other's format, as `Quantity.Add` does.
    public mutating func add(_ other: Quantity) {
        if nanos == 0 { format = other.format }
        nanos = Self.saturating(nanos, other.nanos, +)
    }

    public mutating func subtract(_ other: Quantity) {
        if nanos == 0 { format = other.format }
        nanos = Self.saturating(nanos, Self.negated(other.nanos), +)
    }

    /// The quantity multiplied by a whole number (exact, saturating at the representable range).
    public func multiplied(by factor: Int64) -> Quantity {
        let (product, overflow) = nanos.multipliedReportingOverflow(by: Int128(factor))
        if overflow { return Quantity(nanos: (nanos < 0) != (factor < 0) ? .min : .max, format: format) }
        return Quantity(nanos: product, format: format)
    }

    public static prefix func - (value: Quantity) -> Quantity {
        Quantity(nanos: negated(value.nanos), format: value.format)
    }

    /// `-value`, with the one value whose negation does not fit held at the maximum.
    private static func negated(_ value: Int128) -> Int128 { value == .min ? .max : -value }

    private static func saturating(_ a: Int128, _ b: Int128, _ op: (Int128, Int128) -> Int128) -> Int128 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if overflow { return b > 0 ? .max : .min }
        return sum
    }

    public static func < (lhs: Quantity, rhs: Quantity) -> Bool { lhs.nanos < rhs.nanos }

    /// Equality compares values only (`1Ki == 1024`), as `Quantity.Cmp` does.
    public static func == (lhs: Quantity, rhs: Quantity) -> Bool { lhs.nanos == rhs.nanos }
    public func hash(into hasher: inout Hasher) { hasher.combine(nanos) }

    public var description: String { canonical }
}

/// Why a string is not a quantity.
public enum QuantityError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text does not follow `<sign><digits>[.<digits>]<suffix>`.
    case formatWrong(String)
    /// The suffix is not one Kubernetes knows.
    case unknownSuffix(String)
    /// The value is beyond what this implementation holds exactly.
    case outOfRange(String)
    /// The text is longer than ``Quantity/maximumTextLength``; it is not read at all.
    case tooLong(length: Int)

    public var description: String {
        switch self {
        case .formatWrong(let text):
            return "quantity \"\(text)\" must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (for example 10Gi, 500m, 1e3)"
        case .unknownSuffix(let text):
            return "quantity \"\(text)\" has an unknown suffix; use one of Ki Mi Gi Ti Pi Ei, n u m k M G T P E, or an exponent such as e3"
        case .outOfRange(let text):
            return "quantity \"\(text)\" is too large; magnitudes up to 1.7e29 are supported"
        case .tooLong(let length):
            return "quantity of \(length) characters is longer than the \(Quantity.maximumTextLength) Rebound reads; write it with a suffix (10Gi, 1e30)"
        }
    }
}
