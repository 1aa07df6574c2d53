using System.Net;
using System.Text.Json;

namespace OrleansVault.IntegrationTests;

public sealed class StartupTests
{
    [Fact]
    public async Task Without_bootstrap_a_development_project_is_generated_once_into_an_owner_only_file()
    {
        var factory = new GatewayFactory(bootstrap: false);
        try
        {
            _ = factory.Server;
            var file = Path.Combine(factory.DataDirectory, "dev-credentials.json");
            Assert.True(File.Exists(file));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }

            using var credentials = JsonDocument.Parse(await File.ReadAllTextAsync(file));
            var projectId = credentials.RootElement.GetProperty("projectId").GetString()!;
            var key = credentials.RootElement.GetProperty("apiKey").GetString()!;
            var secret = credentials.RootElement.GetProperty("apiSecret").GetString()!;
            Assert.True(secret.Length >= 40);

            using var client = factory.Client(GatewayFactory.BasicFor(key, secret));
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/project/{projectId}/auth/token")).StatusCode);

            Assert.Contains(factory.Logs.Lines, line => line.Contains("DEVELOPMENT ONLY", StringComparison.Ordinal) && line.Contains(projectId, StringComparison.Ordinal) && line.Contains(file, StringComparison.Ordinal));
            Assert.DoesNotContain(factory.Logs.Lines, line => line.Contains(secret, StringComparison.Ordinal));

            await factory.DisposeAsync();
            var restarted = new GatewayFactory(factory.DataDirectory, bootstrap: false);
            await using (restarted)
            {
                _ = restarted.Server;
                using var again = JsonDocument.Parse(await File.ReadAllTextAsync(file));
                Assert.Equal(projectId, again.RootElement.GetProperty("projectId").GetString());
                using var client2 = restarted.Client(GatewayFactory.BasicFor(key, secret));
                Assert.Equal(HttpStatusCode.OK, (await client2.GetAsync($"/project/{projectId}/auth/token")).StatusCode);
            }
        }
        finally
        {
            await factory.DisposeAsync();
            factory.DeleteData();
        }
    }

    [Fact]
    public async Task Data_and_tokens_survive_a_restart()
    {
        var first = new GatewayFactory();
        var id = "persist-" + Guid.NewGuid().ToString("N");
        try
        {
            var token = await first.TokenAsync();
            using (var client = first.Client("Bearer " + token))
            {
                var set = await HttpApiTests.PostAsync(client, $"/project/{GatewayFactory.ProjectId}/cache/c/{id}/k", "{\"value\":{\"kept\":true}}");
                Assert.Equal(HttpStatusCode.OK, set.StatusCode);
                await HttpApiTests.PostAsync(client, $"/project/{GatewayFactory.ProjectId}/cache/c/{id}/n/increment", "{\"value\":41}");
            }

            await first.DisposeAsync();

            await using var second = new GatewayFactory(first.DataDirectory);
            using var after = second.Client("Bearer " + token);
            using var item = JsonDocument.Parse(await after.GetStringAsync($"/project/{GatewayFactory.ProjectId}/cache/c/{id}/k"));
            Assert.True(item.RootElement.GetProperty("value").GetProperty("kept").GetBoolean());
            var n = await HttpApiTests.PostAsync(after, $"/project/{GatewayFactory.ProjectId}/cache/c/{id}/n/increment", "{\"value\":1}");
            using var counter = JsonDocument.Parse(await n.Content.ReadAsStringAsync());
            Assert.Equal(42, counter.RootElement.GetProperty("value").GetInt32());
        }
        finally
        {
            await first.DisposeAsync();
            first.DeleteData();
        }
    }

    [Theory]
    [InlineData("Vault:Auth:TokenLifetime", "00:01:00", "Vault:Auth:TokenLifetime")]
    [InlineData("Vault:Bootstrap:ApiSecret", "short", "Vault:Bootstrap:ApiSecret")]
    [InlineData("Vault:Storage:Synchronous", "OFF", "Vault:Storage:Synchronous")]
    public void A_bad_setting_fails_start_up_with_a_message_naming_it(string key, string value, string named)
    {
        var factory = new GatewayFactory(settings: new Dictionary<string, string?> { [key] = value });
        try
        {
            var error = Assert.ThrowsAny<Exception>(() => factory.Server);
            Assert.Contains(named, error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            factory.Dispose();
            factory.DeleteData();
        }
    }
}

[Collection(GatewayCollection.Name)]
public sealed class CorsTests(SharedGateway gateway)
{
    [Fact]
    public async Task Preflights_are_answered_for_an_unrestricted_project_with_the_sdk_headers()
    {
        using var client = gateway.Factory.Client();
        var request = new HttpRequestMessage(HttpMethod.Options, $"/project/{GatewayFactory.ProjectId}/cache/c/x/k");
        request.Headers.Add("Origin", "https://app.example");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type,x-enc-kv");
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var headers = response.Headers.GetValues("Access-Control-Allow-Headers").Single();
        Assert.Contains("X-Enc-KV", headers, StringComparison.Ordinal);
        Assert.Contains("X-Id-Sig", headers, StringComparison.Ordinal);
    }
}

public sealed class RestrictedOriginTests
{
    [Fact]
    public async Task An_origin_bound_key_refuses_other_origins_and_never_reflects_them()
    {
        await using var factory = new GatewayFactory(settings: new Dictionary<string, string?>
        {
            ["Vault:Bootstrap:AllowedOrigins"] = "https://app.example.com, https://*.example.org",
        });
        try
        {
            using var client = factory.Client(factory.BasicHeader);
            var path = $"/project/{GatewayFactory.ProjectId}/auth/token";

            var noOrigin = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.Forbidden, noOrigin.StatusCode);
            Assert.Equal("authorizationError.origin.server.notFound", await HttpApiTests.CodeAsync(noOrigin));

            var evil = new HttpRequestMessage(HttpMethod.Get, path);
            evil.Headers.Add("Origin", "https://evil.example");
            var refused = await client.SendAsync(evil);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("authorizationError.origin.notAllowed", await HttpApiTests.CodeAsync(refused));
            Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));

            var good = new HttpRequestMessage(HttpMethod.Get, path);
            good.Headers.Add("Origin", "https://shop.example.org");
            var minted = await client.SendAsync(good);
            Assert.Equal(HttpStatusCode.OK, minted.StatusCode);
            Assert.Equal("https://shop.example.org", minted.Headers.GetValues("Access-Control-Allow-Origin").Single());
            var token = await minted.Content.ReadAsStringAsync();

            // The token carries its origin: a socket handshake from another origin is refused before the upgrade.
            var error = await Assert.ThrowsAnyAsync<Exception>(() => factory.ConnectAsync("c", "o", "Bearer " + token, origin: "https://app.example.com"));
            Assert.Contains("403", error.Message, StringComparison.Ordinal);
            using var ok = await factory.ConnectAsync("c", "o", "Bearer " + token, origin: "https://shop.example.org");
            Assert.Equal("connected", (await new FrameReader(ok).NextAsync()).GetProperty("event").GetString());

            var preflight = new HttpRequestMessage(HttpMethod.Options, path);
            preflight.Headers.Add("Origin", "https://evil.example");
            preflight.Headers.Add("Access-Control-Request-Method", "GET");
            var denied = await client.SendAsync(preflight);
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            Assert.False(denied.Headers.Contains("Access-Control-Allow-Origin"));
        }
        finally
        {
            factory.DeleteData();
        }
    }
}
