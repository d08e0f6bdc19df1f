import Capacity
import PropertyBased
import Testing

/// Random quantities written the ways manifests write them.
let quantityText = zip(
    Gen.int64(in: -999_999_999_999...999_999_999_999),
    Gen.int(in: 0...6),
    Gen.element(of: ["", "n", "u", "m", "k", "M", "G", "T", "Ki", "Mi", "Gi", "Ti", "e3", "e-2", "E6"])
).map { mantissa, decimals, suffix -> String in
    var digits = String(mantissa.magnitude)
    let sign = mantissa < 0 ? "-" : ""
    if decimals > 0 && decimals < digits.count {
        digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
    }
    return sign + digits + (suffix ?? "")
}

@Suite("Quantity properties")
struct QuantityPropertyTests {
    @Test("the canonical form parses back to the same value, and is a fixed point")
    func canonicalRoundTrip() async {
        await propertyCheck(count: 500, input: quantityText) { text in
            guard let quantity = Quantity(text) else {
                Issue.record("generated quantity \(text) did not parse")
                return
            }
            let canonical = quantity.canonical
            let reparsed = Quantity(canonical)
            #expect(reparsed == quantity, "\(text) → \(canonical)")
            #expect(reparsed?.canonical == canonical, "\(text) → \(canonical) is not a fixed point")
        }
    }

    @Test("addition and subtraction are exact")
    func exactArithmetic() async {
        await propertyCheck(count: 300, input: quantityText, quantityText) { a, b in
            guard let x = Quantity(a), let y = Quantity(b) else {
                Issue.record("generated quantities \(a), \(b) did not parse")
                return
            }
            #expect(x + y == y + x)
            #expect((x + y) - y == x)
            #expect((x + y).nanos == x.nanos + y.nanos)
        }
    }

    @Test("binary suffixes multiply by powers of 1024 exactly")
    func binarySuffixes() async {
        await propertyCheck(input: Gen.int64(in: 0...1_000_000), Gen.int(in: 0...5)) { units, power in
            let suffix = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power]
            guard let quantity = Quantity("\(units)\(suffix)") else {
                Issue.record("\(units)\(suffix) did not parse")
                return
            }
            var expected = Int128(units)
            for _ in 0...power { expected *= 1024 }
            let cap = Int128(Int64.max)
            #expect(quantity.nanos == min(expected, cap) * 1_000_000_000)
        }
    }

    @Test("ordering agrees with the values")
    func ordering() async {
        await propertyCheck(input: quantityText, quantityText) { a, b in
            guard let x = Quantity(a), let y = Quantity(b) else {
                Issue.record("generated quantities \(a), \(b) did not parse")
                return
            }
            #expect((x < y) == (x.nanos < y.nanos))
            #expect((x == y) == (x.nanos == y.nanos))
        }
    }
}
