using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace OrleansVault.IntegrationTests;

/// <summary>Verified identity inside an object (WIRE 1.7), with frames and headers shaped as SDK 1.1 sends them.</summary>
public sealed class IdentityTests
{
    private const string UserIdSecret = "class-secret-for-identity-tests";

    private static string Sign(string userId) => Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(UserIdSecret), Encoding.UTF8.GetBytes(userId))).ToLowerInvariant();

    private static async Task<(System.Net.WebSockets.WebSocket Socket, FrameReader Frames)> OpenAsync(GatewayFactory factory, string cls, string id)
    {
        var socket = await factory.ConnectAsync(cls, id, factory.BasicHeader);
        var frames = new FrameReader(socket);
        await frames.NextAsync();
        return (socket, frames);
    }

    private static async Task<string> ErrorCodeAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("cause").GetProperty("code").GetString()!;
    }

    [Fact]
    public async Task User_id_signatures_gate_join_and_send_and_a_verified_join_carries_the_user_id()
    {
        await using var factory = new GatewayFactory(settings: new Dictionary<string, string?>
        {
            ["Vault:Bootstrap:Classes:verified:IdentityMode"] = "UserIdSignature",
            ["Vault:Bootstrap:Classes:verified:UserIdSecret"] = UserIdSecret,
        });
        factory.ForbiddenInLogs.Add(UserIdSecret);
        try
        {
            var id = "ident-" + Guid.NewGuid().ToString("N");
            var (a, aFrames) = await OpenAsync(factory, "verified", id);
            var (b, bFrames) = await OpenAsync(factory, "verified", id);
            using (a)
            using (b)
            {
                await aFrames.SendAsync(new { @event = "presence:join", payload = new { userId = "u1", name = "A" } });
                Assert.Contains("verified user identity", (await aFrames.NextEventAsync("error")).GetProperty("payload").GetString(), StringComparison.Ordinal);
                await aFrames.SendAsync(new { @event = "presence:join", payload = new { userId = "admin", name = "A" }, auth = new { userIdSignature = Sign("u1") } });
                Assert.Contains("not valid", (await aFrames.NextEventAsync("error")).GetProperty("payload").GetString(), StringComparison.Ordinal);

                await aFrames.SendAsync(new { @event = "presence:join", payload = new { userId = "u1", name = "A" }, auth = new { userIdSignature = Sign("u1") } });
                var join = await bFrames.NextEventAsync("presence:join");
                Assert.Equal("u1", join.GetProperty("verifiedUserId").GetString());
                using var client = factory.Client(factory.BasicHeader);
                var list = await client.GetStringAsync($"/project/{GatewayFactory.ProjectId}/presence-list/verified/{id}");
                Assert.Contains("\"verifiedUserId\":\"u1\"", list, StringComparison.Ordinal);

                // A forged message reaches nobody: the next good one is the first b sees.
                await aFrames.SendAsync(new { @event = "message", payload = new { userId = "u2", text = "forged" }, auth = new { userIdSignature = Sign("u1") } });
                await aFrames.NextEventAsync("error");
                await aFrames.SendAsync(new { @event = "message", payload = new { userId = "u1", text = "genuine" }, auth = new { userIdSignature = Sign("u1") } });
                Assert.Equal("genuine", (await bFrames.NextEventAsync("message")).GetProperty("payload").GetProperty("text").GetString());

                // Over HTTP the proof rides in headers.
                var path = $"/project/{GatewayFactory.ProjectId}/message/verified/{id}";
                Assert.Equal("authenticationError.identity.missing", await ErrorCodeAsync(await HttpApiTests.PostAsync(client, path, "{\"userId\":\"u1\"}"), HttpStatusCode.Unauthorized));
                var forged = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{\"userId\":\"u2\"}", Encoding.UTF8, "application/json") };
                forged.Headers.Add("x-vaultrice-auth-signature", Sign("u1"));
                Assert.Equal("authorizationError.identity.invalid", await ErrorCodeAsync(await client.SendAsync(forged), HttpStatusCode.Forbidden));
                var good = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{\"userId\":\"u2\",\"text\":\"http\"}", Encoding.UTF8, "application/json") };
                good.Headers.Add("x-vaultrice-auth-signature", Sign("u2"));
                Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(good)).StatusCode);
                Assert.Equal("http", (await bFrames.NextEventAsync("message")).GetProperty("payload").GetProperty("text").GetString());
            }
        }
        finally
        {
            factory.DeleteData();
        }
    }

    [Fact]
    public async Task Identity_tokens_are_verified_with_the_class_key_and_pinned_algorithm_and_must_agree_with_the_payload()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await using var factory = new GatewayFactory(settings: new Dictionary<string, string?>
        {
            ["Vault:Bootstrap:Classes:jwt:IdentityMode"] = "IdentityToken",
            ["Vault:Bootstrap:Classes:jwt:IdentityAlgorithm"] = "ES256",
            ["Vault:Bootstrap:Classes:jwt:IdentityPublicKey"] = key.ExportSubjectPublicKeyInfoPem(),
        });
        try
        {
            var handler = new JsonWebTokenHandler();
            string Token(SigningCredentials credentials, DateTime? expires = null) => handler.CreateToken(new SecurityTokenDescriptor
            {
                Claims = new Dictionary<string, object> { ["sub"] = "user-123", ["name"] = "Alice" },
                Expires = expires ?? DateTime.UtcNow.AddMinutes(5),
                NotBefore = (expires ?? DateTime.UtcNow.AddMinutes(5)).AddMinutes(-10),
                IssuedAt = (expires ?? DateTime.UtcNow.AddMinutes(5)).AddMinutes(-10),
                SigningCredentials = credentials,
            });
            var genuine = Token(new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256));
            var foreign = Token(new SigningCredentials(new ECDsaSecurityKey(stranger), SecurityAlgorithms.EcdsaSha256));
            var expired = Token(new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256), DateTime.UtcNow.AddMinutes(-5));
            var hmac = Token(new SigningCredentials(new SymmetricSecurityKey(key.ExportSubjectPublicKeyInfo().Concat(new byte[32]).ToArray()), SecurityAlgorithms.HmacSha256));
            var unsigned = Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + new JsonWebToken(genuine).EncodedPayload + ".";

            var id = "jwt-" + Guid.NewGuid().ToString("N");
            var (a, aFrames) = await OpenAsync(factory, "jwt", id);
            var (b, bFrames) = await OpenAsync(factory, "jwt", id);
            using (a)
            using (b)
            {
                foreach (var bad in new[] { foreign, expired, hmac, unsigned, "not.a.jwt" })
                {
                    await aFrames.SendAsync(new { @event = "presence:join", payload = new { sub = "user-123" }, auth = new { identityToken = bad } });
                    Assert.Contains("not valid", (await aFrames.NextEventAsync("error")).GetProperty("payload").GetString(), StringComparison.Ordinal);
                }

                await aFrames.SendAsync(new { @event = "presence:join", payload = new { sub = "user-123", name = "Mallory" }, auth = new { identityToken = genuine } });
                Assert.Contains("'name'", (await aFrames.NextEventAsync("error")).GetProperty("payload").GetString(), StringComparison.Ordinal);

                await aFrames.SendAsync(new { @event = "presence:join", payload = new { sub = "user-123", name = "Alice", custom = 7 }, auth = new { identityToken = genuine } });
                var join = await bFrames.NextEventAsync("presence:join");
                Assert.Equal("user-123", join.GetProperty("verifiedUserId").GetString());
                Assert.Equal(7, join.GetProperty("payload").GetProperty("custom").GetInt32());

                using var client = factory.Client(factory.BasicHeader);
                var message = new HttpRequestMessage(HttpMethod.Post, $"/project/{GatewayFactory.ProjectId}/message/jwt/{id}") { Content = new StringContent("{\"sub\":\"user-123\",\"text\":\"hi\"}", Encoding.UTF8, "application/json") };
                message.Headers.Add("x-vaultrice-auth-token", genuine);
                Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(message)).StatusCode);
                Assert.Equal("hi", (await bFrames.NextEventAsync("message")).GetProperty("payload").GetProperty("text").GetString());
            }
        }
        finally
        {
            factory.DeleteData();
        }
    }
}
