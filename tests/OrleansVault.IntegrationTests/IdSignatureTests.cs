using System.Net;
using System.Text.Json;
using OrleansVault.Client;

namespace OrleansVault.IntegrationTests;

public sealed class IdSignatureTests
{
    [Fact]
    public async Task A_signed_class_refuses_unsigned_or_badly_signed_requests_before_touching_the_object()
    {
        using var signer = ObjectIdSigner.Create();
        using var stranger = ObjectIdSigner.Create();
        using var retired = ObjectIdSigner.Create();
        await using var factory = new GatewayFactory(settings: new Dictionary<string, string?>
        {
            ["Vault:Bootstrap:Classes:signed:RequireIdSignature"] = "true",
            ["Vault:Bootstrap:Classes:signed:IdSignatureKeys:0:Version"] = "1",
            ["Vault:Bootstrap:Classes:signed:IdSignatureKeys:0:PublicKey"] = retired.ExportPublicKeyPem(),
            ["Vault:Bootstrap:Classes:signed:IdSignatureKeys:0:Revoked"] = "true",
            ["Vault:Bootstrap:Classes:signed:IdSignatureKeys:1:Version"] = "2",
            ["Vault:Bootstrap:Classes:signed:IdSignatureKeys:1:PublicKey"] = signer.ExportPublicKeyPem(),
        });
        try
        {
            var id = "room-" + Guid.NewGuid().ToString("N");
            var path = $"/project/{GatewayFactory.ProjectId}/cache/signed/{id}/k";
            async Task<HttpResponseMessage> SendAsync(HttpMethod method, string? signature, string? version, string? body = null)
            {
                using var client = factory.Client(factory.BasicHeader);
                var request = new HttpRequestMessage(method, path);
                if (signature is not null)
                {
                    request.Headers.Add("X-Id-Sig", signature);
                }

                if (version is not null)
                {
                    request.Headers.Add("X-Id-Sig-KV", version);
                }

                if (body is not null)
                {
                    request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
                }

                return await client.SendAsync(request);
            }

            async Task AssertRefusedAsync(string? signature, string? version, string code)
            {
                var response = await SendAsync(HttpMethod.Post, signature, version, "{\"value\":\"forged\"}");
                Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
                using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                Assert.Equal(code, error.RootElement.GetProperty("cause").GetProperty("code").GetString());
            }

            await AssertRefusedAsync(null, null, "authorizationError.idSignature.missing");
            await AssertRefusedAsync(stranger.Sign(id), null, "authorizationError.idSignature.invalid");
            await AssertRefusedAsync(signer.Sign(id + "x"), null, "authorizationError.idSignature.invalid");
            await AssertRefusedAsync(retired.Sign(id), "1", "authorizationError.idSignature.keyVersion");
            await AssertRefusedAsync(signer.Sign(id), "7", "authorizationError.idSignature.keyVersion");

            // Nothing was forwarded: with a good signature the object is still empty, then it accepts the write.
            Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, signer.Sign(id), null)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, signer.Sign(id), "2", "{\"value\":\"real\"}")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, signer.Sign(id), null)).StatusCode);

            // Sockets: the signature rides in the query; without it the handshake is refused before the upgrade.
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => factory.ConnectAsync("signed", id, factory.BasicHeader));
            Assert.Contains("403", refused.Message, StringComparison.Ordinal);
            var badSocket = await Assert.ThrowsAnyAsync<Exception>(() => factory.ConnectAsync("signed", id, factory.BasicHeader, extraQuery: $"idSignature={stranger.Sign(id)}"));
            Assert.Contains("403", badSocket.Message, StringComparison.Ordinal);
            using var socket = await factory.ConnectAsync("signed", id, factory.BasicHeader, extraQuery: $"idSignature={signer.Sign(id)}&idSignatureKeyVersion=2");
            var frames = new FrameReader(socket);
            Assert.Equal("connected", (await frames.NextAsync()).GetProperty("event").GetString());

            // Other classes are not affected.
            using var open = factory.Client(factory.BasicHeader);
            Assert.Equal(HttpStatusCode.OK, (await HttpApiTests.PostAsync(open, $"/project/{GatewayFactory.ProjectId}/cache/open/{id}/k", "{\"value\":1}")).StatusCode);
        }
        finally
        {
            factory.DeleteData();
        }
    }
}
