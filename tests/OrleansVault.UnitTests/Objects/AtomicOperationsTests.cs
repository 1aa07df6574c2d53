using System.Text.Json;
using OrleansVault.Errors;
using OrleansVault.Grains.Objects;
using OrleansVault.Objects;

namespace OrleansVault.UnitTests.Objects;

public sealed class AtomicOperationsTests
{
    [Theory]
    [InlineData(null, "{\"value\":5}", "5")]
    [InlineData("10", "{\"value\":5}", "15")]
    [InlineData("1.5", "{\"value\":1}", "2.5")]
    [InlineData("9223372036854775807", "{\"value\":1}", "9.223372036854776E+18")]
    public void Increment_adds_and_starts_absent_keys_at_zero(string? current, string body, string expected)
    {
        Assert.Equal(expected, AtomicOperations.Apply(AtomicOperation.Increment, current, body));
    }

    [Fact]
    public void Decrement_subtracts()
    {
        Assert.Equal("-3", AtomicOperations.Apply(AtomicOperation.Decrement, null, "{\"value\":3}"));
    }

    [Theory]
    [InlineData("\"text\"", "{\"value\":1}")]
    [InlineData("5", "{\"value\":\"1\"}")]
    [InlineData("5", "{}")]
    public void Increment_refuses_wrong_types(string current, string body)
    {
        var error = Assert.Throws<VaultException>(() => AtomicOperations.Apply(AtomicOperation.Increment, current, body));
        Assert.Equal(VaultErrorKind.Validation, error.Kind);
    }

    [Fact]
    public void Push_appends_and_creates_arrays()
    {
        Assert.Equal("[{\"a\":1}]", AtomicOperations.Apply(AtomicOperation.Push, null, "{\"value\":{\"a\":1}}"));
        Assert.Equal("[1,null]", AtomicOperations.Apply(AtomicOperation.Push, "[1]", "{\"value\":null}"));
        Assert.Throws<VaultException>(() => AtomicOperations.Apply(AtomicOperation.Push, "{}", "{\"value\":1}"));
    }

    [Theory]
    [InlineData("[1,2,3,4]", 1, 2, "[9]", "[1,9,4]")]
    [InlineData("[1,2,3,4]", -1, 1, "[]", "[1,2,3]")]
    [InlineData("[1,2,3,4]", -10, 1, "[]", "[2,3,4]")]
    [InlineData("[1,2]", 5, 3, "[7,8]", "[1,2,7,8]")]
    [InlineData("[1,2,3]", 0, 0, "[0]", "[0,1,2,3]")]
    [InlineData("[1,2,3]", 1, -4, "[]", "[1,2,3]")]
    public void Splice_follows_array_prototype_splice(string current, int start, int deleteCount, string items, string expected)
    {
        var body = $"{{\"startIndex\":{start},\"deleteCount\":{deleteCount},\"items\":{items}}}";
        Assert.Equal(expected, AtomicOperations.Apply(AtomicOperation.Splice, current, body));
    }

    [Fact]
    public void Splice_without_delete_count_deletes_nothing()
    {
        Assert.Equal("[1,2,3]", AtomicOperations.Apply(AtomicOperation.Splice, "[1,2,3]", "{\"startIndex\":1}"));
        Assert.Equal("[1,9,2,3]", AtomicOperations.Apply(AtomicOperation.Splice, "[1,2,3]", "{\"startIndex\":1,\"deleteCount\":null,\"items\":[9]}"));
    }

    [Fact]
    public void Splice_refuses_a_number()
    {
        var error = Assert.Throws<VaultException>(() => AtomicOperations.Apply(AtomicOperation.Splice, "5", "{\"startIndex\":0,\"deleteCount\":0}"));
        Assert.Equal(ErrorCodes.TargetTypeMismatch, error.Code);
    }

    [Fact]
    public void Merge_is_shallow()
    {
        var result = AtomicOperations.Apply(AtomicOperation.Merge, "{\"a\":{\"x\":1},\"b\":2}", "{\"value\":{\"a\":{\"y\":2},\"c\":3}}");
        Assert.Equal("{\"a\":{\"y\":2},\"b\":2,\"c\":3}", result);
        Assert.Throws<VaultException>(() => AtomicOperations.Apply(AtomicOperation.Merge, "[1]", "{\"value\":{}}"));
        Assert.Throws<VaultException>(() => AtomicOperations.Apply(AtomicOperation.Merge, "{}", "{\"value\":[1]}"));
    }

    [Theory]
    [InlineData("\"a.b.c\"")]
    [InlineData("[\"a\",\"b\",\"c\"]")]
    public void SetIn_creates_intermediate_objects(string path)
    {
        var result = AtomicOperations.Apply(AtomicOperation.SetIn, "{\"a\":{\"keep\":true}}", $"{{\"path\":{path},\"value\":false}}");
        using var doc = JsonDocument.Parse(result);
        Assert.True(doc.RootElement.GetProperty("a").GetProperty("keep").GetBoolean());
        Assert.False(doc.RootElement.GetProperty("a").GetProperty("b").GetProperty("c").GetBoolean());
    }

    [Fact]
    public void SetIn_indexes_into_arrays_and_refuses_bad_paths()
    {
        Assert.Equal("{\"l\":[1,5]}", AtomicOperations.Apply(AtomicOperation.SetIn, "{\"l\":[1,2]}", "{\"path\":\"l.1\",\"value\":5}"));
        Assert.Throws<VaultException>(() => AtomicOperations.Apply(AtomicOperation.SetIn, "{}", "{\"path\":\"\",\"value\":1}"));
        Assert.Throws<VaultException>(() => AtomicOperations.Apply(AtomicOperation.SetIn, "{}", "{\"path\":\"__proto__.x\",\"value\":1}"));
        Assert.Throws<VaultException>(() => AtomicOperations.Apply(AtomicOperation.SetIn, "3", "{\"path\":\"a\",\"value\":1}"));
    }

    [Fact]
    public void Malformed_bodies_are_validation_errors()
    {
        var error = Assert.Throws<VaultException>(() => AtomicOperations.Apply(AtomicOperation.Increment, null, "{nope"));
        Assert.Equal(ErrorCodes.BodyMalformed, error.Code);
    }
}

public sealed class AtomicOperationDepthTests
{
    [Fact]
    public void Results_deeper_than_the_limit_are_refused_and_what_is_stored_stays_parseable()
    {
        var deepValue = string.Concat(Enumerable.Repeat("[", 60)) + string.Concat(Enumerable.Repeat("]", 60));
        var path = string.Join('.', Enumerable.Range(0, 20).Select(i => "p" + i));
        var error = Assert.Throws<VaultException>(() => AtomicOperations.Apply(AtomicOperation.SetIn, null, $"{{\"path\":\"{path}\",\"value\":{deepValue}}}"));
        Assert.Equal(ErrorCodes.ValueTooDeep, error.Code);

        // Exactly at the limit works, and the next operation on it still parses.
        var atLimit = string.Concat(Enumerable.Repeat("[", 63)) + string.Concat(Enumerable.Repeat("]", 63));
        var stored = AtomicOperations.Apply(AtomicOperation.Merge, null, $"{{\"value\":{{\"a\":{atLimit}}}}}");
        Assert.Throws<VaultException>(() => AtomicOperations.Apply(AtomicOperation.SetIn, stored, "{\"path\":\"a.0.x\",\"value\":1}"));
        Assert.Equal("{\"a\":[]}", AtomicOperations.Apply(AtomicOperation.SetIn, stored, "{\"path\":\"a\",\"value\":[]}"));
    }
}
