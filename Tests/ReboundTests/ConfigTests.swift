import Capacity
import ReboundConfig
import Foundation
import Testing

@testable import rebound

@Suite("Configuration: defaults, file, environment and flags")
struct ConfigTests {
    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rebound-config-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("the printed defaults load back to exactly the defaults")
    func defaultsRoundTrip() throws {
        let path = try write(ConfigSchema.defaultsYAML())
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loaded = try ConfigLoader.load(file: path, environment: [:], overrides: [])
        for key in ConfigSchema.keys {
            #expect(loaded.values[key.path] == key.defaultValue, "\(key.path)")
        }
        // Every key appears in the file with its help text.
        let text = ConfigSchema.defaultsYAML()
        for key in ConfigSchema.keys {
            #expect(text.contains(key.help), "\(key.path) is not documented")
            #expect(text.contains(key.environmentVariable))
        }
    }

    @Test("docs/configuration.md holds the table `rebound config reference` prints (regenerate it when a key changes)")
    func referenceIsCurrent() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let document = try String(contentsOf: url.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        let table = document.split(separator: "\n", omittingEmptySubsequences: false).filter { $0.hasPrefix("|") }.joined(separator: "\n") + "\n"
        #expect(table == ConfigSchema.markdownTable(), "run: swift run rebound config reference, and paste it into docs/configuration.md")
    }

    @Test("flags win over variables, which win over the file")
    func layering() throws {
        let path = try write("failover:\n  notReadyTimeoutSeconds: 45\n  maxFailedNodeFraction: 0.25\nwebhook:\n  port: 9443\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = try ConfigLoader.load(
            file: path, environment: ["REBOUND_FAILOVER_NOT_READY_TIMEOUT_SECONDS": "60", "REBOUND_COMPAT_PROVISIONERS": "carina.storage.io, topolvm.io"],
            overrides: ["failover.notReadyTimeoutSeconds=90", "compat.legacyVolumeGroups=ssd=vg-fast"])
        #expect(config.int("failover.notReadyTimeoutSeconds") == 90)
        #expect(config.sources["failover.notReadyTimeoutSeconds"] == "--set")
        #expect(config.double("failover.maxFailedNodeFraction") == 0.25)
        #expect(config.sources["failover.maxFailedNodeFraction"] == "\(path):3")
        #expect(config.int("webhook.port") == 9443)
        #expect(config.list("compat.provisioners") == ["carina.storage.io", "topolvm.io"])
        #expect(config.map("compat.legacyVolumeGroups") == ["ssd": "vg-fast"])
        #expect(ConfigSchema.byPath["webhook.tls.certFile"]?.environmentVariable == "REBOUND_WEBHOOK_TLS_CERT_FILE")
        #expect(ConfigSchema.byPath["webhook.tls.clientCAFile"]?.environmentVariable == "REBOUND_WEBHOOK_TLS_CLIENT_CA_FILE")
        #expect(ConfigSchema.byPath["failover.notReadyTimeoutSeconds"]?.environmentVariable == "REBOUND_FAILOVER_NOT_READY_TIMEOUT_SECONDS")
    }

    @Test("compat.preset sets the driver's keys the configuration leaves alone, and names itself as their source")
    func preset() throws {
        let path = try write("compat:\n  preset: topolvm\n  provisioners: [topolvm.io]\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = try ConfigLoader.load(file: path, environment: [:], overrides: [])
        #expect(config.list("compat.provisioners") == ["topolvm.io"], "set explicitly: the preset leaves it")
        #expect(config.list("compat.volumeGroupParameters") == ["topolvm.io/device-class", "topolvm.cybozu.com/device-class"])
        #expect(config.sources["compat.volumeGroupParameters"] == "compat.preset topolvm")
        #expect(config.string("compat.defaultVolumeGroup") == "00default")
        #expect(config.map("compat.legacyVolumeGroups").isEmpty)
        #expect(config.string("capacity.source") == "annotation")
        let keys = config.compatibilityKeys
        #expect(keys.capacitySource == .annotation(prefix: "capacity.topolvm.io/"))
        #expect(keys.defaultVolumeGroup == "00default")

        let openebs = try ConfigLoader.load(file: nil, environment: ["REBOUND_COMPAT_PRESET": "openebs-lvm"], overrides: [])
        #expect(openebs.compatibilityKeys == DriverPreset.openebsLVM.keys)
        #expect(openebs.compatibilityKeys.capacityFromStorageCapacity)
        // Only what reads CSIStorageCapacity objects asks for permission to.
        #expect(RequiredPermissions.checks(config: openebs).contains { $0.resource == "csistoragecapacities" })
        let carina = try ConfigLoader.load(file: nil, environment: [:], overrides: [])
        #expect(!RequiredPermissions.checks(config: carina).contains { $0.resource == "csistoragecapacities" })
        #expect(carina.compatibilityKeys == CompatibilityKeys())
        #expect(carina.sources.isEmpty, "Carina's preset is the defaults: nothing is attributed to it")

        // An explicit capacity source wins over the preset's.
        let tracked = try ConfigLoader.load(file: nil, environment: [:], overrides: ["compat.preset=topolvm", "capacity.source=csistoragecapacity"])
        #expect(tracked.compatibilityKeys.capacitySource == .storageCapacity)
        #expect(throws: ConfigError.self) { try ConfigLoader.load(file: nil, environment: [:], overrides: ["compat.preset=longhorn"]) }
    }

    @Test("errors name the key, the place and the fix", arguments: [
        ("webhook:\n  prot: 8443\n", "unknown key webhook.prot (did you mean webhook.port?)"),
        ("webhook:\n  port: eighty\n", "webhook.port must be a whole number from 1 to 65535"),
        ("webhook:\n  port: 70000\n", "webhook.port must be a whole number from 1 to 65535"),
        ("extender:\n  strategy: random\n", "extender.strategy must be one of spreadout, binpack"),
        ("log: [1, 2]\n", "unknown key log"),
        ("- a\n- b\n", "must be a mapping"),
        ("failover: {maxFailedNodeFraction: 1.5}\n", "failover.maxFailedNodeFraction must be a number from 0.0 to 1.0"),
        ("leaderElection: {renewDeadlineSeconds: 20}\n", "must be less than leaderElection.leaseDurationSeconds"),
        ("extender: {port: 8443}\n", "webhook.port and extender.port are both 8443"),
        ("capacity: {routingResource: carina.storage.io/anything}\n", "kubelet would reject pods"),
        ("extender: {tls: {certFile: /x.crt}}\n", "must be set together"),
    ])
    func fileErrors(_ yaml: String, _ expected: String) throws {
        let path = try write(yaml)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.load(file: path, environment: [:], overrides: []) }
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error")")
    }

    @Test("bad variables and flags are refused with their names")
    func variableAndFlagErrors() {
        let variable = #expect(throws: ConfigError.self) { try ConfigLoader.load(file: nil, environment: ["REBOUND_WEBHOOK_PORT": "x"], overrides: []) }
        #expect(variable?.message.contains("REBOUND_WEBHOOK_PORT=x") == true)
        let unknown = #expect(throws: ConfigError.self) { try ConfigLoader.load(file: nil, environment: ["REBOUND_WEBHOOK_PROT": "1"], overrides: []) }
        #expect(unknown?.message.contains("did you mean REBOUND_WEBHOOK_PORT") == true)
        let flag = #expect(throws: ConfigError.self) { try ConfigLoader.load(file: nil, environment: [:], overrides: ["failover.dryRun"]) }
        #expect(flag?.message.contains("key=value") == true)
        let missingFile = #expect(throws: ConfigError.self) { try ConfigLoader.load(file: "/nonexistent.yaml", environment: [:], overrides: []) }
        #expect(missingFile?.message.contains("/nonexistent.yaml") == true)
    }
}
