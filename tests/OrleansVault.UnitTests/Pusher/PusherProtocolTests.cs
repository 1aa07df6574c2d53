using System.Text;
using System.Text.Json;
using CsCheck;
using OrleansVault.Channels;
using OrleansVault.Gateway.Pusher.Protocol;

namespace OrleansVault.UnitTests.Pusher;

public sealed class PusherProtocolTests
{
    [Theory]
    [InlineData("my-channel", true)]
    [InlineData("private-a_b-c=d@e,f.g;h", true)]
    [InlineData("presence-room", true)]
    [InlineData("", false)]
    [InlineData("with space", false)]
    [InlineData("slash/not", false)]
    [InlineData("#hash", false)]
    [InlineData("#server-to-user-42", true)]
    [InlineData("#server-to-user-", false)]
    public void Channel_names_follow_pushers_rules(string name, bool valid) => Assert.Equal(valid, PusherChannelName.IsValid(name));

    [Fact]
    public void Channel_names_are_limited_to_164_characters()
    {
        Assert.True(PusherChannelName.IsValid(new string('a', 164)));
        Assert.False(PusherChannelName.IsValid(new string('a', 165)));
    }

    [Theory]
    [InlineData("news", PusherChannelKind.Public, false)]
    [InlineData("cache-news", PusherChannelKind.Public, true)]
    [InlineData("private-x", PusherChannelKind.Private, false)]
    [InlineData("private-cache-x", PusherChannelKind.Private, true)]
    [InlineData("presence-x", PusherChannelKind.Presence, false)]
    [InlineData("presence-cache-x", PusherChannelKind.Presence, true)]
    [InlineData("private-encrypted-x", PusherChannelKind.PrivateEncrypted, false)]
    [InlineData("private-encrypted-cache-x", PusherChannelKind.PrivateEncrypted, true)]
    [InlineData("#server-to-user-7", PusherChannelKind.User, false)]
    public void Prefixes_give_the_channel_kind(string name, PusherChannelKind kind, bool cache)
    {
        Assert.Equal(kind, PusherChannelName.KindOf(name));
        Assert.Equal(cache, PusherChannelName.IsCache(name));
    }

    [Fact]
    public void Socket_ids_are_two_decimal_integers_and_unique()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => PusherSocketId.New()).ToHashSet();
        Assert.Equal(1000, ids.Count);
        Assert.All(ids, id => Assert.Matches(@"^\d+\.\d+$", id));
        Assert.All(ids, id => Assert.True(PusherSocketId.IsValid(id)));
        Assert.False(PusherSocketId.IsValid("1.2.3"));
        Assert.False(PusherSocketId.IsValid("a.1"));
        Assert.False(PusherSocketId.IsValid(".1"));
    }

    [Fact]
    public void Frames_with_object_or_double_encoded_data_parse_alike()
    {
        var plain = PusherFrames.Parse("""{"event":"pusher:subscribe","data":{"channel":"a","auth":"k:s"}}"""u8)!;
        var doubled = PusherFrames.Parse("""{"event":"pusher:subscribe","data":"{\"channel\":\"a\",\"auth\":\"k:s\"}"}"""u8)!;
        foreach (var frame in new[] { plain, doubled })
        {
            var data = PusherFrames.DataObject(frame)!.Value;
            Assert.Equal("a", PusherFrames.StringProperty(data, "channel"));
            Assert.Equal("k:s", PusherFrames.StringProperty(data, "auth"));
        }
    }

    [Fact]
    public void Client_event_keeps_its_raw_data()
    {
        var frame = PusherFrames.Parse("""{"event":"client-x","channel":"private-a","data":{"n":[1,2]}}"""u8)!;
        Assert.Equal("client-x", frame.Event);
        Assert.Equal("private-a", frame.Channel);
        Assert.Equal("""{"n":[1,2]}""", frame.DataJson);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("""{"event":1}""")]
    [InlineData("""{"event":""}""")]
    [InlineData("""{"event":"a"} trailing""")]
    [InlineData("""{"event":"a","data":""")]
    public void Malformed_frames_are_refused(string text) => Assert.Null(PusherFrames.Parse(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void Parser_never_throws_on_arbitrary_input() =>
        Gen.Byte.Array[0, 200].Sample(bytes => { _ = PusherFrames.Parse(bytes); });

    [Fact]
    public void Parser_never_throws_on_json_like_input() =>
        Gen.String[Gen.Char["{}[]\":,event data channel 01\\"], 0, 80].Sample(text => { _ = PusherFrames.Parse(Encoding.UTF8.GetBytes(text)); });

    [Fact]
    public void Presence_data_has_ids_hash_and_count()
    {
        var json = PusherFrames.PresenceData([new ChannelMember("1", """{"name":"a"}"""), new ChannelMember("2", null)]);
        using var document = JsonDocument.Parse(json);
        var presence = document.RootElement.GetProperty("presence");
        Assert.Equal(2, presence.GetProperty("count").GetInt32());
        Assert.Equal("a", presence.GetProperty("hash").GetProperty("1").GetProperty("name").GetString());
        Assert.Equal(["1", "2"], presence.GetProperty("ids").EnumerateArray().Select(e => e.GetString()!));
    }

    [Fact]
    public void Connection_established_carries_socket_id_and_timeout_as_a_json_string()
    {
        using var document = JsonDocument.Parse(PusherFrames.ConnectionEstablished("1.2", 120));
        Assert.Equal("pusher:connection_established", document.RootElement.GetProperty("event").GetString());
        using var data = JsonDocument.Parse(document.RootElement.GetProperty("data").GetString()!);
        Assert.Equal("1.2", data.RootElement.GetProperty("socket_id").GetString());
        Assert.Equal(120, data.RootElement.GetProperty("activity_timeout").GetInt32());
    }

    [Theory]
    [InlineData("""{"user_id":"u1","user_info":{"name":"A"}}""", "u1")]
    [InlineData("""{"user_id":10,"user_info":{"name":"Mr. Channels"}}""", "10")]
    [InlineData("""{"user_id":"u2"}""", "u2")]
    public void Channel_data_gives_the_member(string data, string id)
    {
        var member = PusherUserData.ParseChannelData(data, 1024, out var problem);
        Assert.Null(problem);
        Assert.Equal(id, member!.UserId);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"user_info":{}}""")]
    [InlineData("""{"user_id":""}""")]
    [InlineData("""{"user_id":{"a":1}}""")]
    [InlineData("""{"user_id":"u","user_info":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}""")]
    public void Bad_channel_data_is_refused_with_a_reason(string data)
    {
        Assert.Null(PusherUserData.ParseChannelData(data, 64, out var problem));
        Assert.NotNull(problem);
    }

    [Theory]
    [InlineData("""{"id":"12345"}""", "12345")]
    [InlineData("""{"id":12345}""", null)]
    [InlineData("""{"id":""}""", null)]
    [InlineData("""{"name":"x"}""", null)]
    [InlineData("nope", null)]
    public void Sign_in_user_data_needs_a_string_id(string data, string? id) => Assert.Equal(id, PusherUserData.ParseSignInUserId(data, out _));

    [Fact]
    public void String_data_escapes_quotes_the_short_way_and_round_trips()
    {
        var frame = PusherFrames.Event("e", "c", """{"a":"<b>&"}""");
        var text = Encoding.UTF8.GetString(frame);
        Assert.Contains("""{\"a\":\"<b>&\"}""", text, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(frame);
        Assert.Equal("""{"a":"<b>&"}""", document.RootElement.GetProperty("data").GetString());
    }
}
