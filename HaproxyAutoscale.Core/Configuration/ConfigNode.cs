using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace HaproxyAutoscale.Configuration;

/// <summary>
/// One node of a configuration as the schema reader sees it, whatever it was written in: a JSON element or an
/// <see cref="IConfiguration"/> section. The reader decides what a node must be (an object, an array, a value),
/// so an <see cref="IConfiguration"/> section whose keys are 0..n-1 is an array only where the schema expects one.
/// </summary>
internal abstract class ConfigNode
{
    /// <summary>The members, keys as written; <see langword="null"/> when the node is not an object.</summary>
    public abstract IReadOnlyList<KeyValuePair<string, ConfigNode>>? Members();

    /// <summary>The items with their index as text; <see langword="null"/> when the node is not an array.</summary>
    public abstract IReadOnlyList<KeyValuePair<string, ConfigNode>>? Items();

    /// <summary>The text of a string value; <see langword="null"/> for anything else.</summary>
    public abstract string? Text { get; }

    /// <summary>Any single value as text (a string, a number, true or false); <see langword="null"/> for anything else.</summary>
    public abstract string? Scalar { get; }

    public static ConfigNode From(JsonElement element) => new JsonNode(element);

    public static ConfigNode From(IConfiguration configuration) => new SectionNode(configuration);

    private sealed class JsonNode(JsonElement element) : ConfigNode
    {
        public override string? Text => element.ValueKind == JsonValueKind.String ? element.GetString() : null;

        public override string? Scalar => element.ValueKind switch
        {
            JsonValueKind.String => element.GetString(),
            JsonValueKind.Number => element.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };

        public override IReadOnlyList<KeyValuePair<string, ConfigNode>>? Members()
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            // Most servers of a large fleet are written "s2": {}: no list for them.
            JsonElement.ObjectEnumerator members = element.EnumerateObject();
            return members.MoveNext()
                ? [.. element.EnumerateObject().Select(p => new KeyValuePair<string, ConfigNode>(p.Name, new JsonNode(p.Value)))]
                : [];
        }

        public override IReadOnlyList<KeyValuePair<string, ConfigNode>>? Items() =>
            element.ValueKind == JsonValueKind.Array
                ? [.. element.EnumerateArray().Select((item, i) => new KeyValuePair<string, ConfigNode>(i.ToString(CultureInfo.InvariantCulture), new JsonNode(item)))]
                : null;
    }

    // Configuration providers hold every value as text and store arrays as keys 0..n-1; an empty JSON object or
    // array arrives as a key without value and without children.
    private sealed class SectionNode(IConfiguration configuration) : ConfigNode
    {
        private readonly string? _value = (configuration as IConfigurationSection)?.Value;
        private readonly List<IConfigurationSection> _children = [.. configuration.GetChildren()];

        private bool IsEmpty => _children.Count == 0 && string.IsNullOrEmpty(_value);

        public override string? Text => _children.Count == 0 ? _value : null;

        public override string? Scalar => Text;

        public override IReadOnlyList<KeyValuePair<string, ConfigNode>>? Members() =>
            _children.Count > 0 || IsEmpty ? [.. _children.Select(c => new KeyValuePair<string, ConfigNode>(c.Key, new SectionNode(c)))] : null;

        public override IReadOnlyList<KeyValuePair<string, ConfigNode>>? Items()
        {
            if (IsEmpty)
            {
                return [];
            }

            var items = new List<(int Index, IConfigurationSection Section)>(_children.Count);
            foreach (IConfigurationSection child in _children)
            {
                if (!int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                {
                    return null;
                }

                items.Add((index, child));
            }

            return items.Count == 0
                ? null
                : [.. items.OrderBy(i => i.Index).Select(i => new KeyValuePair<string, ConfigNode>(i.Section.Key, new SectionNode(i.Section)))];
        }
    }
}
