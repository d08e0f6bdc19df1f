import Capacity
import Foundation
import Testing

@Suite("Quantity parsing and canonical form")
struct QuantityTests {
    @Test("matches Kubernetes on its own test vectors", arguments: kubernetesQuantityVectors)
    func kubernetesVectors(_ vector: (input: String, canonical: String)) throws {
        let quantity = try Quantity(parsing: vector.input)
        #expect(quantity.canonical == vector.canonical, "\(vector.input)")
    }

    @Test("non-canonical inputs print canonically", arguments: [
        ("100.035k", "100035"), ("10.035M", "10035k"), ("5.444T", "5444G"), ("1.", "1"), ("1.G", "1G"),
        ("+1", "1"), ("01", "1"), ("0010k", "10k"), ("1E-3", "1e-3"), ("1E6", "1e6"), ("1e0", "1"), ("1e+3", "1e3"), ("2e03", "2e3"),
    ])
    func canonicalizes(_ input: String, _ expected: String) throws {
        #expect(try Quantity(parsing: input).canonical == expected)
    }

    @Test("decimal values past exa keep their exponent")
    func beyondExa() throws {
        // Kubernetes 1.32 prints "1" here (a bug fixed upstream); the value must survive.
        let quantity = try Quantity(parsing: "1000E")
        #expect(quantity.canonical == "1e21")
        #expect(try Quantity(parsing: quantity.canonical) == quantity)
    }

    @Test("rejects malformed text with the Kubernetes error kinds", arguments: [
        "", "1.1.M", "1+1.0M", "0.1am", "aoeu", "1KB", " 1", "1 ",
    ])
    func rejectsFormat(_ input: String) {
        #expect(parseError(input) == .formatWrong(input))
    }

    @Test("rejects unknown suffixes", arguments: ["0.1mi", ".5i", "1i", "-3.01i", "-3.01e-", "1K", "1ki", "1e"])
    func rejectsSuffix(_ input: String) {
        #expect(parseError(input) == .unknownSuffix(input))
    }

    @Test("rejects values too large to hold exactly, instead of changing them")
    func outOfRange() {
        #expect(parseError("1E1000") == .outOfRange("1E1000"))
        #expect(parseError("1e999999999") == .outOfRange("1e999999999"))
    }

    @Test("arithmetic is exact and keeps the receiver's format")
    func arithmetic() throws {
        let sum = try Quantity(parsing: "1Gi") + Quantity(parsing: "512Mi")
        #expect(sum.canonical == "1536Mi")
        let zeroPlus = try Quantity.zero + Quantity(parsing: "1Gi")
        #expect(zeroPlus.canonical == "1Gi")
        let mixed = try Quantity(parsing: "10Ki") + Quantity(parsing: "1")
        #expect(mixed.format == .binarySI)
        #expect(mixed.canonical == "10241")
        let difference = try Quantity(parsing: "1") - Quantity(parsing: "1m")
        #expect(difference.canonical == "999m")
        #expect(try Quantity(parsing: "0.1") + Quantity(parsing: "0.2") == Quantity(parsing: "300m"))
    }

    @Test("comparison ignores format")
    func comparison() throws {
        #expect(try Quantity(parsing: "1Ki") == Quantity(parsing: "1024"))
        #expect(try Quantity(parsing: "10000T") > Quantity(parsing: "100Gi"))
        #expect(try Quantity(parsing: "-1") < Quantity(parsing: "1n"))
    }

    @Test("conversions round up as Kubernetes' Value() and MilliValue() do")
    func conversions() throws {
        #expect(try Quantity(parsing: "1500m").ceilingUnits == 2)
        #expect(try Quantity(parsing: "-1500m").ceilingUnits == -1)
        #expect(try Quantity(parsing: "1.5n").milliValue == 1)
        #expect(try Quantity(parsing: "10Gi").ceiling(binaryPower: 3) == 10)
        #expect(try Quantity(parsing: "10.5Gi").ceiling(binaryPower: 3) == 11)
        #expect(try Quantity(parsing: "1G").ceiling(binaryPower: 3) == 1)
    }

    @Test("JSON encodes as a string and decodes strings or numbers")
    func json() throws {
        struct Box: Codable { var q: Quantity }
        let decoded = try JSONDecoder().decode(Box.self, from: Data(#"{"q":"1.5Gi"}"#.utf8))
        #expect(decoded.q.canonical == "1536Mi")
        let number = try JSONDecoder().decode(Box.self, from: Data(#"{"q":2}"#.utf8))
        #expect(number.q == Quantity(2))
        let encoded = String(decoding: try JSONEncoder().encode(decoded), as: UTF8.self)
        #expect(encoded == #"{"q":"1536Mi"}"#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Box.self, from: Data(#"{"q":"1KB"}"#.utf8)) }
    }
}

func parseError(_ text: String) -> QuantityError? {
    do {
        _ = try Quantity(parsing: text)
        return nil
    } catch {
        return error
    }
}
