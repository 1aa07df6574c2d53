using System.Net;
using System.Net.WebSockets;
using System.Text.Json;

namespace OrleansVault.IntegrationTests;

public sealed class LimitTests
{
    [Fact]
    public async Task A_flooding_socket_is_closed_with_tier_limit_exceeded_and_everyone_else_is_still_served()
    {
        await using var factory = new GatewayFactory(settings: new Dictionary<string, string?>
        {
            ["Vault:Limits:MessagesPerSecond"] = "5",
            ["Vault:Limits:MessageBurst"] = "10",
        });
        try
        {
            var id = "flood-" + Guid.NewGuid().ToString("N");
            using var listener = await factory.ConnectAsync("c", id, factory.BasicHeader);
            var listenerFrames = new FrameReader(listener);
            await listenerFrames.NextAsync();
            using var flooder = await factory.ConnectAsync("c", id, factory.BasicHeader);
            var flooderFrames = new FrameReader(flooder);
            await flooderFrames.NextAsync();

            for (var i = 0; i < 500 && flooder.State == WebSocketState.Open; i++)
            {
                try
                {
                    await flooderFrames.SendAsync(new { @event = "message", payload = new { i } });
                }
                catch (Exception error) when (error is WebSocketException or IOException or ObjectDisposedException)
                {
                    // The server closed it mid-flood.
                    break;
                }
            }

            WebSocketCloseStatus? status;
            try
            {
                status = await flooderFrames.ClosedAsync();
            }
            catch (Exception error) when (error is IOException or ObjectDisposedException)
            {
                // The test host may drop the socket right after delivering the close frame.
                status = flooder.CloseStatus;
            }

            Assert.Equal((WebSocketCloseStatus)4029, status);
            Assert.StartsWith("TierLimitExceeded", flooder.CloseStatusDescription, StringComparison.Ordinal);

            // The others carry on: a message from the HTTP side reaches the listener after at most the burst of flood messages.
            using var client = factory.Client(factory.BasicHeader);
            Assert.True((await HttpApiTests.PostAsync(client, $"/project/{GatewayFactory.ProjectId}/message/c/{id}", "{\"marker\":true}")).IsSuccessStatusCode);
            var flood = 0;
            while (true)
            {
                var frame = await listenerFrames.NextEventAsync("message");
                if (frame.GetProperty("payload").TryGetProperty("marker", out _))
                {
                    break;
                }

                flood++;
            }

            Assert.InRange(flood, 1, 11);
        }
        finally
        {
            factory.DeleteData();
        }
    }

    [Fact]
    public async Task Sockets_over_the_per_key_limit_are_closed_with_tier_limit_exceeded_and_a_freed_slot_is_reused()
    {
        await using var factory = new GatewayFactory(settings: new Dictionary<string, string?> { ["Vault:Limits:MaxConnectionsPerKey"] = "2" });
        try
        {
            var id = "conn-" + Guid.NewGuid().ToString("N");
            var first = await factory.ConnectAsync("c", id, factory.BasicHeader);
            await new FrameReader(first).NextAsync();
            using var second = await factory.ConnectAsync("c", id, factory.BasicHeader);
            await new FrameReader(second).NextAsync();

            using var third = await factory.ConnectAsync("c", id, factory.BasicHeader);
            Assert.Equal((WebSocketCloseStatus)4029, await new FrameReader(third).ClosedAsync());
            Assert.Contains("TierLimitExceeded", third.CloseStatusDescription, StringComparison.Ordinal);

            await first.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
            first.Dispose();
            await Wait.UntilAsync(
                async () =>
                {
                    using var next = await factory.ConnectAsync("c", id, factory.BasicHeader);
                    try
                    {
                        await new FrameReader(next).NextAsync();
                    }
                    catch (WebSocketClosedException)
                    {
                        // Still full: the closed socket's slot is freed once its clean-up ran.
                        return false;
                    }

                    await next.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    return true;
                },
                "a freed connection slot");
        }
        finally
        {
            factory.DeleteData();
        }
    }

    [Fact]
    public async Task Requests_over_the_address_rate_get_429_with_retry_and_health_is_never_limited()
    {
        await using var factory = new GatewayFactory(settings: new Dictionary<string, string?>
        {
            ["Vault:Limits:RequestsPerSecondPerAddress"] = "0.5",
            ["Vault:Limits:RequestBurstPerAddress"] = "3",
        });
        try
        {
            using var client = factory.Client(factory.BasicHeader);
            var path = $"/project/{GatewayFactory.ProjectId}/cache/c/rate/k";
            var statuses = new List<HttpStatusCode>();
            HttpResponseMessage? limited = null;
            for (var i = 0; i < 10; i++)
            {
                var response = await client.GetAsync(path);
                statuses.Add(response.StatusCode);
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    limited = response;
                }
            }

            Assert.NotNull(limited);
            Assert.True(statuses.Count(s => s == HttpStatusCode.TooManyRequests) >= 6, string.Join(",", statuses));
            using var body = JsonDocument.Parse(await limited!.Content.ReadAsStringAsync());
            Assert.Equal("limitError.requests.retry", body.RootElement.GetProperty("cause").GetProperty("code").GetString());
            Assert.Contains("retry", body.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);

            for (var i = 0; i < 10; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
            }
        }
        finally
        {
            factory.DeleteData();
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_over_the_limit_is_413_with_or_without_a_content_length_and_one_in_many_pieces_is_read_whole(bool announced)
    {
        await using var factory = new GatewayFactory(settings: new Dictionary<string, string?> { ["Vault:Limits:MaxBodyBytes"] = "4096" });
        try
        {
            using var client = factory.Client(factory.BasicHeader);
            var path = $"/project/{GatewayFactory.ProjectId}/cache/c/body-{Guid.NewGuid():N}/k";

            var refused = await client.PostAsync(path, new PiecewiseContent($"{{\"value\":\"{new string('x', 5000)}\"}}", announced));
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
            using (var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()))
            {
                Assert.Equal("limitError.body.tooLarge", body.RootElement.GetProperty("cause").GetProperty("code").GetString());
            }

            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(path)).StatusCode);

            // Just under the limit, sent in 100-byte pieces: every byte arrives.
            var value = new string('y', 3000) + "é€";
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(path, new PiecewiseContent($"{{\"value\":\"{value}\"}}", announced))).StatusCode);
            using var stored = await HttpApiTests.JsonAsync(await client.GetAsync(path));
            Assert.Equal(value, stored.RootElement.GetProperty("value").GetString());
        }
        finally
        {
            factory.DeleteData();
        }
    }

    /// <summary>A JSON body written in 100-byte pieces, with or without a Content-Length (chunked).</summary>
    private sealed class PiecewiseContent : HttpContent
    {
        private readonly byte[] _bytes;
        private readonly bool _announced;

        public PiecewiseContent(string json, bool announced)
        {
            _bytes = System.Text.Encoding.UTF8.GetBytes(json);
            _announced = announced;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var at = 0; at < _bytes.Length; at += 100)
            {
                await stream.WriteAsync(_bytes.AsMemory(at, Math.Min(100, _bytes.Length - at)));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _bytes.Length;
            return _announced;
        }
    }

    [Fact]
    public async Task A_write_that_would_make_an_object_too_large_is_413_and_changes_nothing()
    {
        await using var factory = new GatewayFactory(settings: new Dictionary<string, string?> { ["Vault:Objects:MaxObjectBytes"] = "2048" });
        try
        {
            using var client = factory.Client(factory.BasicHeader);
            var root = $"/project/{GatewayFactory.ProjectId}/cache/c/big-{Guid.NewGuid():N}";
            var chunk = new string('x', 600);
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await HttpApiTests.PostAsync(client, $"{root}/k{i}", $"{{\"value\":\"{chunk}\"}}")).StatusCode);
            }

            var refused = await HttpApiTests.PostAsync(client, $"{root}/k3", $"{{\"value\":\"{chunk}\"}}");
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
            using (var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()))
            {
                Assert.Equal("limitError.object.tooLarge", body.RootElement.GetProperty("cause").GetProperty("code").GetString());
            }

            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{root}/k3")).StatusCode);

            // Replacing an item counts its new size only, so a same-size rewrite still fits.
            Assert.Equal(HttpStatusCode.OK, (await HttpApiTests.PostAsync(client, $"{root}/k0", $"{{\"value\":\"{chunk}\"}}")).StatusCode);
        }
        finally
        {
            factory.DeleteData();
        }
    }

    [Fact]
    public async Task A_project_at_its_object_limit_refuses_new_objects_and_keeps_serving_the_others()
    {
        await using var factory = new GatewayFactory(settings: new Dictionary<string, string?> { ["Vault:Objects:MaxObjectsPerProject"] = "3" });
        try
        {
            using var client = factory.Client(factory.BasicHeader);
            var root = $"/project/{GatewayFactory.ProjectId}/cache/c";
            var run = Guid.NewGuid().ToString("N");
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await HttpApiTests.PostAsync(client, $"{root}/o{i}-{run}/k", "{\"value\":1}")).StatusCode);
            }

            var refused = await HttpApiTests.PostAsync(client, $"{root}/o3-{run}/k", "{\"value\":1}");
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            using (var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()))
            {
                Assert.Equal("limitError.objects.tooMany", body.RootElement.GetProperty("cause").GetProperty("code").GetString());
            }

            await Wait.UntilAsync(async () => (await client.GetAsync($"{root}/o3-{run}/k")).StatusCode == HttpStatusCode.NotFound, "the refused object to hold nothing");
            Assert.Equal(HttpStatusCode.OK, (await HttpApiTests.PostAsync(client, $"{root}/o0-{run}/k2", "{\"value\":2}")).StatusCode);
        }
        finally
        {
            factory.DeleteData();
        }
    }
}
