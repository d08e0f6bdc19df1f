import ReboundConfig
import ArgumentParser
import Foundation

/// Options every command that reads the configuration shares.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("YAML configuration file (`rebound config defaults` prints one with every key).", valueName: "file"))
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Set one key, overriding the file and REBOUND_* variables; repeatable.", valueName: "key=value"))
    var overrides: [String] = []

    @Option(name: .long, help: ArgumentHelp("Kubeconfig file (same as --set kube.kubeconfig=FILE). Default: in-cluster service account, then $KUBECONFIG, then ~/.kube/config.", valueName: "file"))
    var kubeconfig: String?

    @Option(name: .long, help: ArgumentHelp("Kubeconfig context (same as --set kube.context=NAME).", valueName: "name"))
    var context: String?

    /// Loads and validates the configuration, or exits with the error.
    func resolve(extra: [String] = []) throws -> ResolvedConfig {
        var overrides = self.overrides
        if let kubeconfig { overrides.append("kube.kubeconfig=\(kubeconfig)") }
        if let context { overrides.append("kube.context=\(context)") }
        do {
            return try ConfigLoader.load(file: config, environment: ProcessInfo.processInfo.environment, overrides: overrides + extra)
        } catch {
            throw CLIError("configuration: \(error.message)")
        }
    }
}
