public import Capacity

extension DriverPreset {
    /// The configuration values the preset gives the keys it sets (`compat.preset`).
    public var configValues: [String: ConfigValue] {
        var values: [String: ConfigValue] = [
            "compat.provisioners": .list(provisioners),
            "compat.volumeGroupParameters": .list(volumeGroupParameters),
            "compat.legacyVolumeGroups": .map(legacyVolumeGroups),
            "compat.defaultVolumeGroup": .string(defaultVolumeGroup),
        ]
        switch capacitySource {
        case .allocatable(let prefix):
            values["capacity.source"] = .string("allocatable")
            values["capacity.allocatablePrefix"] = .string(prefix)
        case .annotation(let prefix):
            values["capacity.source"] = .string("annotation")
            values["capacity.annotationPrefix"] = .string(prefix)
        case .storageCapacity:
            values["capacity.source"] = .string("csistoragecapacity")
        }
        return values
    }
}

extension ConfigLoader {
    /// Gives every key the preset sets, and the configuration does not, the preset's value; its
    /// source then names the preset.
    static func applyPreset(to config: inout ResolvedConfig) {
        let name = config.string("compat.preset")
        guard let preset = DriverPreset.named(name) else { return }
        for (path, value) in preset.configValues where config.sources[path] == nil {
            config.values[path] = value
            if value != ConfigSchema.byPath[path]?.defaultValue { config.sources[path] = "compat.preset \(name)" }
        }
    }
}
