import ReboundConfig
import ArgumentParser

/// `rebound config`: the configuration file, its defaults and a check of one.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the default configuration, or check one.",
        subcommands: [Defaults.self, Check.self, Reference.self]
    )

    struct Defaults: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the full configuration file with every key at its default, documented.")

        func run() {
            print(ConfigSchema.defaultsYAML(), terminator: "")
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration (file, REBOUND_* variables and --set) and print the effective values with their sources.")

        @OptionGroup var options: ConfigOptions

        func run() throws {
            let resolved = try options.resolve()
            print(resolved.describe())
        }
    }

    struct Reference: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every key as a Markdown table (the source of docs/configuration.md).")

        func run() {
            print(ConfigSchema.markdownTable(), terminator: "")
        }
    }
}
