using System.Text;
using OrleansVault.Gateway.Pusher.Protocol;

namespace OrleansVault.UnitTests.Pusher;

/// <summary>Signing checked against the worked examples in Pusher's "auth signatures" reference.</summary>
public sealed class PusherSignatureTests
{
    private const string Key = "278d425bdf160c739803";
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("7ad3773142a6692b25b8");

    [Fact]
    public void Private_channel_signature_matches_the_published_example()
    {
        var toSign = PusherSignatures.ChannelAuthString("1234.1234", "private-foobar", null);
        Assert.Equal("1234.1234:private-foobar", toSign);
        Assert.Equal("58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4", PusherSignatures.Sign(Secret, toSign));
        Assert.True(PusherSignatures.VerifyAuth($"{Key}:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4", Key, Secret, toSign));
    }

    [Fact]
    public void Sign_in_signature_matches_the_published_example()
    {
        var toSign = PusherSignatures.SignInString("1234.1234", "{\"id\":\"12345\"}");
        Assert.Equal("1234.1234::user::{\"id\":\"12345\"}", toSign);
        Assert.Equal("4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba", PusherSignatures.Sign(Secret, toSign));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4")]
    [InlineData("otherkey:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4")]
    [InlineData("278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a5")]
    [InlineData("278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3")]
    [InlineData("278d425bdf160c739803:zzdf8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4")]
    public void Wrong_or_malformed_auth_is_refused(string? auth) =>
        Assert.False(PusherSignatures.VerifyAuth(auth, Key, Secret, "1234.1234:private-foobar"));

    [Fact]
    public void Auth_for_another_socket_or_channel_is_refused()
    {
        var auth = $"{Key}:{PusherSignatures.Sign(Secret, "1234.1234:private-foobar")}";
        Assert.False(PusherSignatures.VerifyAuth(auth, Key, Secret, "1234.1235:private-foobar"));
        Assert.False(PusherSignatures.VerifyAuth(auth, Key, Secret, "1234.1234:private-foobaz"));
    }

    [Fact]
    public void Rest_canonical_string_sorts_parameters_and_leaves_out_the_signature()
    {
        var query = new Dictionary<string, string>
        {
            ["auth_version"] = "1.0",
            ["auth_key"] = Key,
            ["auth_timestamp"] = "1353088179",
            ["body_md5"] = "ec365a775a4cd0599faeb73354201b6f",
            ["auth_signature"] = "x",
        };
        Assert.Equal(
            "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f",
            PusherRestAuth.CanonicalString("post", "/apps/3/events", query));
    }

    [Fact]
    public void Rest_request_verifies_and_each_defect_is_named()
    {
        var body = Encoding.UTF8.GetBytes("{\"name\":\"foo\",\"channels\":[\"project-3\"],\"data\":\"{\\\"some\\\":\\\"data\\\"}\"}");
        const long now = 1353088179;
        Dictionary<string, string> Signed(long timestamp, string? md5 = null)
        {
            var query = new Dictionary<string, string>
            {
                ["auth_key"] = Key,
                ["auth_timestamp"] = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["auth_version"] = "1.0",
                ["body_md5"] = md5 ?? PusherRestAuth.BodyMd5(body),
            };
            query["auth_signature"] = PusherSignatures.Sign(Secret, PusherRestAuth.CanonicalString("POST", "/apps/3/events", query));
            return query;
        }

        byte[]? SecretFor(string key) => key == Key ? Secret : null;
        Assert.Equal(RestAuthFailure.None, PusherRestAuth.Verify("POST", "/apps/3/events", Signed(now), body, SecretFor, now, 600));
        Assert.Equal(RestAuthFailure.Timestamp, PusherRestAuth.Verify("POST", "/apps/3/events", Signed(now - 601), body, SecretFor, now, 600));
        Assert.Equal(RestAuthFailure.Timestamp, PusherRestAuth.Verify("POST", "/apps/3/events", Signed(now + 601), body, SecretFor, now, 600));
        Assert.Equal(RestAuthFailure.BodyMd5, PusherRestAuth.Verify("POST", "/apps/3/events", Signed(now, "00000000000000000000000000000000"), body, SecretFor, now, 600));
        Assert.Equal(RestAuthFailure.Signature, PusherRestAuth.Verify("POST", "/apps/4/events", Signed(now), body, SecretFor, now, 600));
        var other = Signed(now);
        other["auth_key"] = "unknown";
        Assert.Equal(RestAuthFailure.UnknownKey, PusherRestAuth.Verify("POST", "/apps/3/events", other, body, SecretFor, now, 600));
        var missing = Signed(now);
        missing.Remove("auth_signature");
        Assert.Equal(RestAuthFailure.MissingParameter, PusherRestAuth.Verify("POST", "/apps/3/events", missing, body, SecretFor, now, 600));
    }

    [Fact]
    public void Body_md5_is_lower_case_hex() =>
        Assert.Equal("d41d8cd98f00b204e9800998ecf8427e", PusherRestAuth.BodyMd5([]));
}
