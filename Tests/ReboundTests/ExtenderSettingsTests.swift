import ReboundConfig
import Capacity
import Extender
import Foundation
import Testing

@testable import rebound

@Suite("Extender settings from the configuration")
struct ExtenderSettingsTests {
    @Test("extender.*, capacity.* and compat.* keys map onto the extender's settings")
    func mapping() throws {
        let config = try ConfigLoader.load(file: nil, environment: ["REBOUND_EXTENDER_STRATEGY": "binpack"], overrides: [
            "extender.port=9555", "extender.filterPath=/f", "extender.prioritizePath=/p", "extender.bindPath=/b",
            "extender.tls.certFile=/tls/crt", "extender.tls.keyFile=/tls/key", "extender.maxBodyBytes=1048576",
            "capacity.source=annotation", "capacity.annotationPrefix=capacity.topolvm.io/", "capacity.reservationTTLSeconds=42",
            "capacity.routingResource=example.com/local", "compat.legacyVolumeGroups=fast=vg-fast",
        ])
        let settings = ExtenderSettings(config: config)
        #expect(settings.port == 9555)
        #expect([settings.filterPath, settings.prioritizePath, settings.bindPath] == ["/f", "/p", "/b"])
        #expect(settings.strategy == .binpack)
        #expect(settings.tlsCertificateFile == "/tls/crt" && settings.tlsKeyFile == "/tls/key")
        #expect(settings.limits.maxBodyBytes == 1_048_576)
        #expect(settings.reservationTTL == .seconds(42))
        #expect(settings.keys.capacitySource == .annotation(prefix: "capacity.topolvm.io/"))
        #expect(settings.keys.routingResource == "example.com/local")
        #expect(settings.keys.legacyVolumeGroups == ["fast": "vg-fast"])
    }

    @Test("the defaults are the documented ones: plain HTTP on 8444, /filter, /prioritize, /bind, spreadout, Carina's keys, the shared ledger in rebound-system")
    func defaults() throws {
        let settings = ExtenderSettings(config: try ConfigLoader.load(file: nil, environment: [:], overrides: []))
        var expected = ExtenderSettings()
        expected.address = "0.0.0.0"
        expected.sharedLedger = SharedLedgerLocation(namespace: "rebound-system", name: "rebound-reservations")
        #expect(settings == expected)
    }

    @Test("extender.sharedLedger: off keeps reservations in the process; names must be object names")
    func sharedLedgerKeys() throws {
        let off = ExtenderSettings(config: try ConfigLoader.load(file: nil, environment: [:], overrides: ["extender.sharedLedger.enabled=false"]))
        #expect(off.sharedLedger == nil)
        let moved = ExtenderSettings(config: try ConfigLoader.load(file: nil, environment: [:], overrides: ["extender.sharedLedger.namespace=ops", "extender.sharedLedger.name=ledger"]))
        #expect(moved.sharedLedger == SharedLedgerLocation(namespace: "ops", name: "ledger"))
        #expect(throws: ConfigError.self) { try ConfigLoader.load(file: nil, environment: [:], overrides: ["extender.sharedLedger.name=Not_A_Name"]) }
        #expect(throws: ConfigError.self) { try ConfigLoader.load(file: nil, environment: [:], overrides: ["extender.sharedLedger.namespace="]) }
    }

    @Test("bindPath must start with / and differ from the other verbs and the probes", arguments: [
        ("extender.bindPath=bind", "extender.bindPath must start with /"),
        ("extender.bindPath=/filter", "extender.filterPath and extender.bindPath must differ"),
        ("extender.bindPath=/metrics", "must not be /metrics"),
    ])
    func bindPathErrors(_ override: String, _ expected: String) {
        #expect {
            _ = try ConfigLoader.load(file: nil, environment: [:], overrides: [override])
        } throws: { error in
            "\(error)".contains(expected)
        }
    }
}
