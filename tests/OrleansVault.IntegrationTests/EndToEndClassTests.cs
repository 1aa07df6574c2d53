using System.Net;
using System.Text.Json;

namespace OrleansVault.IntegrationTests;

public sealed class EndToEndClassTests
{
    [Fact]
    public async Task A_class_requiring_e2ee_refuses_plaintext_on_every_path_and_atomic_operations()
    {
        await using var factory = new GatewayFactory(settings: new Dictionary<string, string?> { ["Vault:Bootstrap:Classes:sealed:RequireEndToEndEncryption"] = "true" });
        try
        {
            var id = "sealed-" + Guid.NewGuid().ToString("N");
            var root = $"/project/{GatewayFactory.ProjectId}";
            using var client = factory.Client(factory.BasicHeader);
            async Task<string> CodeAsync(HttpResponseMessage response)
            {
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                return body.RootElement.GetProperty("cause").GetProperty("code").GetString()!;
            }

            Assert.Equal("encryptionError.required", await CodeAsync(await HttpApiTests.PostAsync(client, $"{root}/cache/sealed/{id}/k", "{\"value\":\"plain\"}")));
            Assert.Equal("encryptionError.required", await CodeAsync(await HttpApiTests.PostAsync(client, $"{root}/cache/sealed/{id}", "{\"k\":{\"value\":\"plain\"}}")));
            Assert.Equal("encryptionError.required", await CodeAsync(await HttpApiTests.PostAsync(client, $"{root}/message/sealed/{id}", "{\"m\":\"plain\"}")));
            Assert.Equal("encryptionError.atomic.refused", await CodeAsync(await HttpApiTests.PostAsync(client, $"{root}/cache/sealed/{id}/n/increment", "{\"value\":1}")));

            using var socket = await factory.ConnectAsync("sealed", id, factory.BasicHeader);
            var frames = new FrameReader(socket);
            await frames.NextAsync();
            await frames.SendAsync(new { @event = "message", payload = "plain" });
            Assert.Contains("end-to-end", (await frames.NextEventAsync("error")).GetProperty("payload").GetString(), StringComparison.Ordinal);
            await frames.SendAsync(new { @event = "presence:join", payload = new { name = "plain" } });
            Assert.Contains("end-to-end", (await frames.NextEventAsync("error")).GetProperty("payload").GetString(), StringComparison.Ordinal);

            // Nothing was stored or shown.
            Assert.Equal("{}", await client.GetStringAsync($"{root}/cache/sealed/{id}"));
            Assert.Equal("[]", await client.GetStringAsync($"{root}/presence-list/sealed/{id}"));
        }
        finally
        {
            factory.DeleteData();
        }
    }
}
