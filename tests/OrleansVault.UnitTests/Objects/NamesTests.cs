using OrleansVault.Objects;

namespace OrleansVault.UnitTests.Objects;

public sealed class NamesTests
{
    [Theory]
    [InlineData("_undefined_", true)]
    [InlineData("a-b_C9", true)]
    [InlineData("", false)]
    [InlineData("a.b", false)]
    [InlineData("a/b", false)]
    public void Class_names_follow_the_wire_rules(string name, bool valid) => Assert.Equal(valid, Names.IsValidClass(name));

    [Fact]
    public void Object_ids_allow_the_sdk_generated_73_character_ids()
    {
        var id = $"{Guid.NewGuid()}-{Guid.NewGuid()}";
        Assert.Equal(73, id.Length);
        Assert.True(Names.IsValidObjectId(id));
        Assert.True(Names.IsValidObjectId("room:1.2"));
        Assert.False(Names.IsValidObjectId(new string('a', 129)));
        Assert.False(Names.IsValidObjectId("a b"));
    }

    [Theory]
    [InlineData("name", true)]
    [InlineData("ünïcödé key", true)]
    [InlineData("a/b", false)]
    [InlineData("a?b", false)]
    [InlineData("a#b", false)]
    [InlineData("a%b", false)]
    [InlineData("a\nb", false)]
    [InlineData("", false)]
    public void Keys_follow_the_wire_rules(string key, bool valid) => Assert.Equal(valid, Names.IsValidKey(key));

    [Fact]
    public void Keys_are_limited_to_256_utf8_bytes()
    {
        Assert.True(Names.IsValidKey(new string('a', 256)));
        Assert.False(Names.IsValidKey(new string('a', 257)));
        Assert.False(Names.IsValidKey(new string('é', 129)));
    }
}
