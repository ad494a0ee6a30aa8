using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace ConnLeakGuard.Configuration;

/// <summary>
/// Binds the <c>ConnLeakGuard</c> section onto <see cref="GuardOptions"/>, parsing durations and sizes,
/// checking each value against its <see cref="SettingAttribute"/> range, and collecting every problem
/// instead of stopping at the first one.
/// </summary>
/// <remarks>
/// The framework's <c>ConfigurationBinder</c> is not used because it stops at the first failure, parses a
/// bare <c>100</c> as 100 days, and cannot name the allowed range in its message.
/// </remarks>
internal static class GuardOptionsBinder
{
    /// <summary>Value that switches off a limit whose <see cref="SettingAttribute.AllowOff"/> is true.</summary>
    public const string Off = "off";

    /// <summary>Binds <paramref name="section"/> onto <paramref name="options"/>, adding problems to <see cref="GuardOptions.Problems"/>.</summary>
    public static void Bind(IConfiguration section, GuardOptions options)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(options);

        BindObject(section, options, GuardOptions.SectionName, options.Problems, options.DisabledLimits);
    }

    /// <summary>
    /// Binds one setting of <paramref name="target"/> by property name, as used for per-cluster metadata;
    /// returns false and adds a problem when the name is unknown or the value invalid.
    /// </summary>
    public static bool TryBindSetting(object target, string propertyName, string text, string key, List<ConfigurationProblem> problems, List<string> disabledLimits)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(problems);

        var property = GetSettingProperties(target.GetType()).FirstOrDefault(p => string.Equals(p.Name, propertyName, StringComparison.OrdinalIgnoreCase));
        if (property is null || IsSubsection(property.PropertyType))
        {
            var known = string.Join(", ", GetSettingProperties(target.GetType()).Select(p => p.Name));
            problems.Add(new ConfigurationProblem(key, text, $"unknown setting; the settings are: {known}"));
            return false;
        }

        var before = problems.Count;
        BindValue(key, text, target, property, problems, disabledLimits);
        return problems.Count == before;
    }

    /// <summary>Returns the (key, property) pairs of every setting, for tables and documentation checks.</summary>
    public static IEnumerable<(string Key, object Owner, PropertyInfo Property)> EnumerateSettings(GuardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        return Enumerate(options, GuardOptions.SectionName);

        static IEnumerable<(string, object, PropertyInfo)> Enumerate(object owner, string prefix)
        {
            foreach (var property in GetSettingProperties(owner.GetType()))
            {
                var key = $"{prefix}:{property.Name}";
                if (IsSubsection(property.PropertyType))
                {
                    foreach (var nested in Enumerate(property.GetValue(owner)!, key))
                    {
                        yield return nested;
                    }
                }
                else
                {
                    yield return (key, owner, property);
                }
            }
        }
    }

    /// <summary>Formats a setting's current value in configuration syntax.</summary>
    public static string FormatValue(object? value) => value switch
    {
        null => Off,
        TimeSpan duration => DurationParser.Format(duration),
        double fraction => string.Create(CultureInfo.InvariantCulture, $"{fraction * 100:0.##}%"),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private static void BindObject(IConfiguration section, object target, string prefix, List<ConfigurationProblem> problems, List<string> disabledLimits)
    {
        var properties = GetSettingProperties(target.GetType()).ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

        foreach (var child in section.GetChildren())
        {
            var key = $"{prefix}:{child.Key}";
            if (!properties.TryGetValue(child.Key, out var property))
            {
                var known = string.Join(", ", properties.Keys);
                problems.Add(new ConfigurationProblem(key, child.Value, $"unknown setting; the settings in {prefix} are: {known}"));
                continue;
            }

            if (IsSubsection(property.PropertyType))
            {
                BindObject(child, property.GetValue(target)!, key, problems, disabledLimits);
                continue;
            }

            if (child.Value is null)
            {
                problems.Add(new ConfigurationProblem(key, null, "expected a value, found a section"));
                continue;
            }

            BindValue(key, child.Value, target, property, problems, disabledLimits);
        }
    }

    private static void BindValue(string key, string text, object target, PropertyInfo property, List<ConfigurationProblem> problems, List<string> disabledLimits)
    {
        var setting = property.GetCustomAttribute<SettingAttribute>();
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;

        if (setting is not null && string.Equals(text.Trim(), Off, StringComparison.OrdinalIgnoreCase))
        {
            if (!setting.AllowOff)
            {
                problems.Add(new ConfigurationProblem(key, text, $"this limit cannot be switched off; allowed range {DescribeRange(setting)}"));
                return;
            }

            property.SetValue(target, type == typeof(TimeSpan) ? Timeout.InfiniteTimeSpan : null);
            disabledLimits.Add(key);
            return;
        }

        if (!TryParse(type, text, out var value, out var error))
        {
            var range = setting is null ? string.Empty : $"; allowed range {DescribeRange(setting)}";
            problems.Add(new ConfigurationProblem(key, text, error + range));
            return;
        }

        if (setting is not null && !IsInRange(type, value!, setting))
        {
            problems.Add(new ConfigurationProblem(key, text, $"out of range; allowed range {DescribeRange(setting)}"));
            return;
        }

        property.SetValue(target, value);
    }

    private static bool TryParse(Type type, string text, out object? value, out string error)
    {
        value = null;
        error = string.Empty;
        string? parseError;

        if (type == typeof(TimeSpan))
        {
            var ok = DurationParser.TryParse(text, out var duration, out parseError);
            value = duration;
            error = parseError ?? string.Empty;
            return ok;
        }

        if (type == typeof(long))
        {
            var ok = ByteSizeParser.TryParse(text, out var size, out parseError);
            value = size;
            error = parseError ?? string.Empty;
            return ok;
        }

        if (type == typeof(int))
        {
            var ok = int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var count);
            value = count;
            error = "not a whole number";
            return ok;
        }

        if (type == typeof(double))
        {
            var ok = TryParsePercent(text, out var fraction);
            value = fraction;
            error = "not a percentage; write for example '10%'";
            return ok;
        }

        if (type == typeof(bool))
        {
            var ok = bool.TryParse(text, out var flag);
            value = flag;
            error = "not a boolean; write 'true' or 'false'";
            return ok;
        }

        if (type.IsEnum)
        {
            var ok = Enum.TryParse(type, text, ignoreCase: true, out var member) && Enum.IsDefined(type, member!);
            value = member;
            error = $"not one of: {string.Join(", ", Enum.GetNames(type))}";
            return ok;
        }

        value = text;
        return true;
    }

    private static bool TryParsePercent(string text, out double fraction)
    {
        var trimmed = text.Trim();
        var hasPercent = trimmed.EndsWith('%');
        var number = hasPercent ? trimmed[..^1] : trimmed;

        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
        {
            fraction = 0;
            return false;
        }

        // "10%" and "0.1" both mean a tenth; a bare number above 1 is read as a percentage.
        fraction = hasPercent || parsed > 1 ? parsed / 100 : parsed;
        return true;
    }

    private static bool IsInRange(Type type, object value, SettingAttribute setting)
    {
        var comparable = (IComparable)value;

        if (setting.Min is not null && TryParse(type, setting.Min, out var min, out _) && comparable.CompareTo(min) < 0)
        {
            return false;
        }

        return setting.Max is null || !TryParse(type, setting.Max, out var max, out _) || comparable.CompareTo(max) <= 0;
    }

    private static string DescribeRange(SettingAttribute setting)
    {
        var range = $"{setting.Min ?? "-"} to {setting.Max ?? "-"}";
        return setting.AllowOff ? $"{range}, or '{Off}'" : range;
    }

    private static IEnumerable<PropertyInfo> GetSettingProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite);

    private static bool IsSubsection(Type type) =>
        type.IsClass && type != typeof(string);
}
