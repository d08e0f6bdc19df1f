import Kube
import Testing

@Suite("Object names (RFC 1123)")
struct ObjectNameTests {
    @Test("labels: lower-case alphanumerics and '-', alphanumeric at both ends, at most 63")
    func labels() {
        for name in ["rebound", "rebound-system", "a", "0abc9", String(repeating: "a", count: 63)] { #expect(ObjectName.isDNSLabel(name), "\(name)") }
        for name in ["", "Rebound", "rebound_system", "-a", "a-", "rebound.system", String(repeating: "a", count: 64), "é"] {
            #expect(!ObjectName.isDNSLabel(name), "\(name)")
        }
    }

    @Test("subdomains also allow '.', up to 253; extra bytes only when asked")
    func subdomains() {
        for name in ["rebound-tls", "pvc-1.node-2", String(repeating: "a", count: 253)] { #expect(ObjectName.isDNSSubdomain(name), "\(name)") }
        for name in ["", ".a", "a.", "Not_Valid", String(repeating: "a", count: 254), "pod.17a:b"] { #expect(!ObjectName.isDNSSubdomain(name), "\(name)") }
        #expect(ObjectName.isDNSSubdomain("pod.17a:b", allowing: UInt8(ascii: ":")))
    }
}
