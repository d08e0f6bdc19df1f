extension Quantity {
    /// The canonical string, as `Quantity.String()` prints it: binary-SI values that are whole
    /// and at least 1024 in magnitude use the largest power of 1024 that divides them (`1536Mi`,
    /// `2Gi`); everything else uses the largest power of 1000 that leaves a whole mantissa
    /// (`1500m`, `1k`), with `e<exp>` for exponent-format quantities.
    public var canonical: String {
        if nanos == 0 { return "0" }
        var format = self.format
        if format == .binarySI {
            let magnitude = nanos.magnitude
            if magnitude < UInt128(1024) * UInt128(Self.nanosPerUnit) || !isInteger {
                format = .decimalSI
            }
        }
        let sign = nanos < 0 ? "-" : ""
        switch format {
        case .binarySI:
            var units = (nanos / Self.nanosPerUnit).magnitude
            var power = 0
            while units >= 1024 && units % 1024 == 0 {
                units /= 1024
                power += 1
            }
            let suffix = power == 0 ? "" : Suffix.binary[power - 1].0
            return sign + String(units) + suffix
        case .decimalSI, .decimalExponent:
            var mantissa = nanos.magnitude
            var exponent = -9
            while mantissa >= 10 && mantissa % 10 == 0 {
                mantissa /= 10
                exponent += 1
            }
            // Lower the exponent to a multiple of three (Go's % keeps the dividend's sign, as Swift's does).
            switch exponent % 3 {
            case 1, -2:
                mantissa *= 10
                exponent -= 1
            case 2, -1:
                mantissa *= 100
                exponent -= 2
            default:
                break
            }
            return sign + String(mantissa) + Self.decimalSuffix(exponent: exponent, format: format)
        }
    }

    private static func decimalSuffix(exponent: Int, format: Format) -> String {
        if format == .decimalSI, let match = Suffix.decimal.first(where: { $0.1 == exponent }) {
            return match.0
        }
        return exponent == 0 ? "" : "e\(exponent)"
    }
}

extension Quantity: Codable {
    /// Decodes the JSON string form, or a bare JSON number as Kubernetes also accepts.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            do {
                self = try Quantity(parsing: text)
            } catch {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
            }
        } else if let whole = try? container.decode(Int64.self) {
            self.init(whole)
        } else {
            let number = try container.decode(Double.self)
            guard let parsed = Quantity("\(number)") else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(number) is not a quantity")
            }
            self = parsed
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(canonical)
    }
}

extension Quantity: ExpressibleByStringLiteral {
    /// A literal quantity such as `"10Gi"`; an invalid literal is a programming error.
    public init(stringLiteral value: String) {
        do {
            self = try Quantity(parsing: value)
        } catch {
            preconditionFailure("invalid quantity literal: \(error)")
        }
    }
}
