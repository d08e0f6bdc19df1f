import FuzzDriver
import ReboundConfig

/// The YAML configuration file on top of the defaults, then validation: every input is either a
/// configuration or a ConfigError; nothing traps.
let defaults = try! ConfigLoader.load(file: nil, environment: [:], overrides: [])

runFuzzer { data, size in
    let text = String(decoding: input(data, size), as: UTF8.self)
    var config = defaults
    do {
        try ConfigLoader.apply(yaml: text, source: "fuzz.yaml", to: &config)
        try ConfigLoader.validate(config)
        _ = config.describe()
        for key in ConfigSchema.keys {
            _ = config.values[key.path]
        }
    } catch {
        _ = "\(error)"
    }
    return 0
}
