using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace OrleansVault.IntegrationTests;

[Collection(GatewayCollection.Name)]
public sealed class AuthTests(SharedGateway gateway)
{
    private readonly GatewayFactory _factory = gateway.Factory;
    private static readonly string ItemPath = $"/project/{GatewayFactory.ProjectId}/cache/c/auth-{Guid.NewGuid():N}";

    [Fact]
    public async Task Minted_tokens_are_es256_plain_text_with_millisecond_times_and_work_as_bearer()
    {
        using var client = _factory.Client(_factory.BasicHeader);
        var response = await client.GetAsync($"/project/{GatewayFactory.ProjectId}/auth/token");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var token = await response.Content.ReadAsStringAsync();

        var jwt = new JsonWebToken(token);
        Assert.Equal("ES256", jwt.Alg);
        Assert.False(string.IsNullOrEmpty(jwt.Kid));
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var exp = jwt.GetPayloadValue<long>("exp");
        Assert.InRange(exp - now, 3_590_000, 3_610_000);
        Assert.Equal(GatewayFactory.ApiKey, jwt.Subject);

        using var bearer = _factory.Client("Bearer " + token);
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync(ItemPath)).StatusCode);
    }

    [Fact]
    public async Task Wrong_missing_or_malformed_credentials_are_401_with_codes()
    {
        await AssertRefused(null, HttpStatusCode.Unauthorized, "authenticationError.credentials.missing");
        await AssertRefused(GatewayFactory.BasicFor(GatewayFactory.ApiKey, "wrong-secret"), HttpStatusCode.Unauthorized, "authenticationError.credentials.invalid");
        await AssertRefused(GatewayFactory.BasicFor("no-such-key", GatewayFactory.Secret), HttpStatusCode.Unauthorized, "authenticationError.credentials.invalid");
        await AssertRefused("Basic !!!notbase64", HttpStatusCode.Unauthorized, "authenticationError.credentials.invalid");
        await AssertRefused("Bearer not.a.jwt", HttpStatusCode.Unauthorized, "authenticationError.token.invalid");
        await AssertRefused("Digest abc", HttpStatusCode.Unauthorized, "authenticationError.credentials.invalid");
    }

    [Fact]
    public async Task Tokens_for_another_project_are_refused()
    {
        var token = await _factory.TokenAsync();
        using var client = _factory.Client("Bearer " + token);
        var response = await client.GetAsync("/project/other-project/cache/c/x");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        using var basic = _factory.Client(_factory.BasicHeader);
        Assert.Equal(HttpStatusCode.Unauthorized, (await basic.GetAsync("/project/other-project/auth/token")).StatusCode);
    }

    [Fact]
    public async Task Unsigned_tokens_are_refused()
    {
        var genuine = new JsonWebToken(await _factory.TokenAsync());
        var header = Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        var payload = genuine.EncodedPayload;
        await AssertRefused($"Bearer {header}.{payload}.", HttpStatusCode.Unauthorized, "authenticationError.token.invalid");
    }

    [Fact]
    public async Task Tokens_signed_with_a_foreign_key_or_a_symmetric_algorithm_are_refused()
    {
        var genuine = new JsonWebToken(await _factory.TokenAsync());
        var claims = JsonSerializer.Deserialize<Dictionary<string, object>>(Encoding.UTF8.GetString(Base64UrlDecode(genuine.EncodedPayload)))!;
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };

        using var foreign = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var forged = handler.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(foreign) { KeyId = genuine.Kid }, SecurityAlgorithms.EcdsaSha256),
        });
        await AssertRefused("Bearer " + forged, HttpStatusCode.Unauthorized, "authenticationError.token.invalid");

        var hmac = handler.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(GatewayFactory.Secret.PadRight(64, 'x'))) { KeyId = genuine.Kid }, SecurityAlgorithms.HmacSha256),
        });
        await AssertRefused("Bearer " + hmac, HttpStatusCode.Unauthorized, "authenticationError.token.invalid");
    }

    [Fact]
    public async Task Tokens_signed_with_the_real_key_but_a_wrong_issuer_audience_kid_or_time_are_refused()
    {
        var ring = await _factory.Services.GetRequiredService<IClusterClient>().GetGrain<OrleansVault.Projects.IKeyRingGrain>(OrleansVault.Projects.IKeyRingGrain.KeyRingKey).GetKeyRing();
        var signing = ring.SigningKeys[^1];
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportPkcs8PrivateKey(signing.Pkcs8PrivateKey, out _);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        string Sign(string? issuer = "orleansvault", string audience = GatewayFactory.ProjectId, string? kid = null, long? nbf = null, long? exp = null)
        {
            var claims = new Dictionary<string, object>
            {
                ["sub"] = GatewayFactory.ApiKey,
                ["iat"] = now,
                ["nbf"] = nbf ?? now,
                ["exp"] = exp ?? now + 600_000,
            };
            var descriptor = new SecurityTokenDescriptor
            {
                Audience = audience,
                Claims = claims,
                SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(ecdsa) { KeyId = kid ?? signing.KeyId }, SecurityAlgorithms.EcdsaSha256),
            };
            if (issuer is not null)
            {
                descriptor.Issuer = issuer;
            }

            return "Bearer " + new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
        }

        // The control: the same construction with the right values is accepted, so each refusal below is about its one change.
        using (var good = _factory.Client(Sign()))
        {
            Assert.Equal(HttpStatusCode.OK, (await good.GetAsync(ItemPath)).StatusCode);
        }

        await AssertRefused(Sign(issuer: "someone-else"), HttpStatusCode.Unauthorized, "authenticationError.token.invalid");
        await AssertRefused(Sign(issuer: null), HttpStatusCode.Unauthorized, "authenticationError.token.invalid");
        await AssertRefused(Sign(audience: "other-project"), HttpStatusCode.Unauthorized, "authenticationError.token.invalid");
        await AssertRefused(Sign(kid: "unknown-kid"), HttpStatusCode.Unauthorized, "authenticationError.token.invalid");
        await AssertRefused(Sign(nbf: now + 600_000), HttpStatusCode.Unauthorized, "authenticationError.token.invalid");
        await AssertRefused(Sign(exp: now - 60_000), HttpStatusCode.Unauthorized, "authenticationError.token.expired");
    }

    [Fact]
    public async Task Tampered_claims_break_the_signature()
    {
        var genuine = new JsonWebToken(await _factory.TokenAsync());
        var payload = Encoding.UTF8.GetString(Base64UrlDecode(genuine.EncodedPayload));
        var exp = genuine.GetPayloadValue<long>("exp");
        var tampered = Base64Url(payload.Replace(exp.ToString(System.Globalization.CultureInfo.InvariantCulture), (exp + 86_400_000).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        await AssertRefused($"Bearer {genuine.EncodedHeader}.{tampered}.{genuine.EncodedSignature}", HttpStatusCode.Unauthorized, "authenticationError.token.invalid");
    }

    [Fact]
    public async Task A_remembered_token_counts_only_by_its_exact_text()
    {
        var token = await _factory.TokenAsync();

        // Verified once, so the gateway remembers it; the header's scheme case and spacing around the token do not matter.
        foreach (var header in new[] { $"Bearer {token}", $"bearer {token}", $"Bearer   {token}  " })
        {
            using var client = _factory.Client();
            var request = new HttpRequestMessage(HttpMethod.Get, ItemPath);
            request.Headers.TryAddWithoutValidation("Authorization", header);
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
        }

        // A remembered token with one character of its signature changed (not the last, whose low bits are padding),
        // cut short or extended is a token never verified.
        var at = token.Length - 10;
        var changed = token[..at] + (token[at] == 'A' ? 'B' : 'A') + token[(at + 1)..];
        await AssertRefused($"Bearer {changed}", HttpStatusCode.Unauthorized, "authenticationError.token.invalid");
        await AssertRefused($"Bearer {token[..^1]}", HttpStatusCode.Unauthorized, "authenticationError.token.invalid");
        await AssertRefused($"Bearer {token}x", HttpStatusCode.Unauthorized, "authenticationError.token.invalid");
        await AssertRefused($"Bearer {token}.{token}", HttpStatusCode.Unauthorized, "authenticationError.token.invalid");
    }

    [Fact]
    public async Task Secrets_tokens_and_socket_query_strings_never_reach_the_logs()
    {
        var token = await _factory.TokenAsync();
        using (var socket = await _factory.ConnectAsync("c", "logged", "Bearer " + token))
        {
            await new FrameReader(socket).NextAsync();
        }

        using var basic = await _factory.ConnectAsync("c", "logged", _factory.BasicHeader);
        await new FrameReader(basic).NextAsync();

        var encodedBasic = _factory.BasicHeader["Basic ".Length..];
        Assert.NotEmpty(_factory.Logs.Lines);
        Assert.DoesNotContain(_factory.Logs.Lines, line => line.Contains(GatewayFactory.Secret, StringComparison.Ordinal));
        Assert.DoesNotContain(_factory.Logs.Lines, line => line.Contains(encodedBasic, StringComparison.Ordinal));
        Assert.DoesNotContain(_factory.Logs.Lines, line => line.Contains(token, StringComparison.Ordinal));
        Assert.DoesNotContain(_factory.Logs.Lines, line => line.Contains("auth=", StringComparison.Ordinal));
    }

    private async Task AssertRefused(string? authorization, HttpStatusCode status, string code)
    {
        using var client = _factory.Client();
        var request = new HttpRequestMessage(HttpMethod.Get, ItemPath);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        var response = await client.SendAsync(request);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(code, await HttpApiTests.CodeAsync(response));
    }

    private static string Base64Url(string text) => Base64UrlEncoder.Encode(text);

    private static byte[] Base64UrlDecode(string text) => Base64UrlEncoder.DecodeBytes(text);
}

public sealed class TokenLifetimeTests
{
    [Fact]
    public async Task Expired_tokens_are_401_and_close_open_sockets_with_4001()
    {
        var clock = new ShiftedClock();
        await using var factory = new GatewayFactory { Clock = clock };
        try
        {
            var token = await factory.TokenAsync();
            clock.Advance(TimeSpan.FromHours(1) - TimeSpan.FromSeconds(2));

            using var socket = await factory.ConnectAsync("c", "expiring", "Bearer " + token);
            var frames = new FrameReader(socket);
            Assert.Equal("connected", (await frames.NextAsync()).GetProperty("event").GetString());
            Assert.Equal((System.Net.WebSockets.WebSocketCloseStatus)4001, await frames.ClosedAsync());
            Assert.Equal("token expired", frames.CloseReason);

            clock.Advance(TimeSpan.FromMinutes(1));
            using var client = factory.Client("Bearer " + token);
            var response = await client.GetAsync($"/project/{GatewayFactory.ProjectId}/cache/c/x");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("authenticationError.token.expired", await HttpApiTests.CodeAsync(response));
        }
        finally
        {
            factory.DeleteData();
        }
    }
}
