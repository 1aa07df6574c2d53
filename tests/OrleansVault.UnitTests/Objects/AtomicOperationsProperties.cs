using System.Text.Json;
using CsCheck;
using OrleansVault.Grains.Objects;
using OrleansVault.Objects;

namespace OrleansVault.UnitTests.Objects;

/// <summary>Property tests: the atomic operations against simple reference models.</summary>
public sealed class AtomicOperationsProperties
{
    [Fact]
    public void Splice_matches_a_reference_model_of_array_prototype_splice()
    {
        Gen.Select(Gen.Int[0, 20].List[0, 12], Gen.Int[-15, 15], Gen.Int[-4, 15].Select(i => i == -4 ? (int?)null : i), Gen.Int[0, 99].List[0, 4])
            .Sample((array, start, deleteCount, items) =>
            {
                var body = JsonSerializer.Serialize(new { startIndex = start, deleteCount, items });
                var actual = JsonSerializer.Deserialize<List<int>>(AtomicOperations.Apply(AtomicOperation.Splice, JsonSerializer.Serialize(array), body))!;
                return actual.SequenceEqual(ReferenceSplice(array, start, deleteCount, items));
            });
    }

    [Fact]
    public void Increment_then_decrement_by_the_same_integer_is_the_identity()
    {
        Gen.Select(Gen.Long[-1_000_000_000_000, 1_000_000_000_000], Gen.Long[-1_000_000, 1_000_000])
            .Sample((start, delta) =>
            {
                var up = AtomicOperations.Apply(AtomicOperation.Increment, start.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{{\"value\":{delta}}}");
                var down = AtomicOperations.Apply(AtomicOperation.Decrement, up, $"{{\"value\":{delta}}}");
                return down == start.ToString(System.Globalization.CultureInfo.InvariantCulture);
            });
    }

    [Fact]
    public void SetIn_then_reading_the_path_gives_the_value_and_keeps_siblings()
    {
        var segment = Gen.String[Gen.Char['a', 'e'], 1, 3];
        Gen.Select(segment.Array[1, 4], Gen.Int)
            .Sample((path, value) =>
            {
                var result = AtomicOperations.Apply(AtomicOperation.SetIn, "{\"sibling\":true}", JsonSerializer.Serialize(new { path, value }));
                var node = JsonDocument.Parse(result).RootElement;
                var root = node;
                foreach (var part in path)
                {
                    node = node.GetProperty(part);
                }

                return node.GetInt32() == value && (path[0] == "sibling" || root.GetProperty("sibling").GetBoolean());
            });
    }

    private static List<int> ReferenceSplice(List<int> source, int start, int? deleteCount, List<int> items)
    {
        var list = new List<int>(source);
        var length = list.Count;
        var from = start < 0 ? Math.Max(length + start, 0) : Math.Min(start, length);
        var count = Math.Min(Math.Max(deleteCount ?? 0, 0), length - from);
        list.RemoveRange(from, count);
        list.InsertRange(from, items);
        return list;
    }
}
