import JSON

/// LSG settings given for one run (command line, recipe options, golden metadata); a setting
/// left out keeps the checkpoint's value.
public struct LSGOverrides: Sendable, Hashable {
    private var values: [LSGSetting: LSGSettingValue]

    public init(_ values: [LSGSetting: LSGSettingValue] = [:]) {
        self.values = values
    }

    public subscript(setting: LSGSetting) -> LSGSettingValue? {
        get { values[setting] }
        set { values[setting] = newValue }
    }

    public var isEmpty: Bool { values.isEmpty }

    /// The given settings, in table order.
    public var given: [(setting: LSGSetting, value: LSGSettingValue)] {
        LSGSetting.all.compactMap { setting in values[setting].map { (setting, $0) } }
    }

    /// `base` with every given setting replaced, as given (no consistency fixes).
    public func applied(to base: LSGConfig) -> LSGConfig {
        var config = base
        for (setting, value) in values { setting.set(value, in: &config) }
        return config
    }

    /// The given settings out of range and the block/factor rule for the given values over the
    /// defaults, in `LSGConfig.settingProblems` order.
    public var problems: [LSGSettingProblem] {
        applied(to: LSGConfig()).settingProblems.filter { problem in
            if case .indivisibleBlock = problem.kind { return true }
            return values[problem.setting] != nil
        }
    }

    /// The given settings as a JSON object, keys sorted (golden metadata stores it so).
    public var json: JSONObject {
        JSONObject(given.sorted { $0.setting.key < $1.setting.key }.map { ($0.setting.key, $0.value.json) })
    }

    /// Reads a JSON object of settings by `config.json` key.
    public init(json: JSONObject) throws(ReadError) {
        values = [:]
        for (key, value) in json {
            guard let setting = LSGSetting.named(key) else { throw .unknownKey(key) }
            do throws(LSGSettingProblem) {
                guard let read = try setting.value(json: value) else {
                    throw LSGSettingProblem(setting, .wrongType(value))
                }
                values[setting] = read
            } catch {
                throw .invalid(error)
            }
        }
    }

    public enum ReadError: Error, Sendable {
        case unknownKey(String)
        case invalid(LSGSettingProblem)
    }
}
