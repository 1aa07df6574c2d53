using System.Net;
using System.Text;
using System.Text.Json;

namespace OrleansVault.IntegrationTests;

[Collection(GatewayCollection.Name)]
public sealed class HttpApiTests(SharedGateway gateway)
{
    private readonly GatewayFactory _factory = gateway.Factory;
    private readonly string _id = "obj-" + Guid.NewGuid().ToString("N");

    private string Path(string rest) => $"/project/{GatewayFactory.ProjectId}/{rest}";

    [Theory]
    [InlineData("0")]
    [InlineData("false")]
    [InlineData("\"\"")]
    [InlineData("null")]
    [InlineData("{\"nested\":[1,\"two\",{\"three\":3.5}]}")]
    public async Task Every_json_value_round_trips_exactly_and_has_no_key_version(string valueJson)
    {
        using var client = _factory.Client(_factory.BasicHeader);
        var set = await PostAsync(client, Path($"cache/c/{_id}/k"), $"{{\"value\":{valueJson}}}");
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);

        using var item = await JsonAsync(await client.GetAsync(Path($"cache/c/{_id}/k")));
        Assert.Equal(valueJson, item.RootElement.GetProperty("value").GetRawText());
        Assert.False(item.RootElement.TryGetProperty("keyVersion", out _));
        var createdAt = item.RootElement.GetProperty("createdAt").GetInt64();
        Assert.Equal(createdAt + 3_600_000, item.RootElement.GetProperty("expiresAt").GetInt64());
    }

    [Fact]
    public async Task Missing_items_are_404_without_body_and_unknown_objects_read_empty()
    {
        using var client = _factory.Client(_factory.BasicHeader);
        var missing = await client.GetAsync(Path($"cache/c/{_id}/nope"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Empty(await missing.Content.ReadAsByteArrayAsync());

        Assert.Equal("{}", await (await client.GetAsync(Path($"cache/c/{_id}"))).Content.ReadAsStringAsync());
        Assert.Equal("[]", await (await client.GetAsync(Path($"cache-keys/c/{_id}"))).Content.ReadAsStringAsync());
        Assert.Equal("[]", await (await client.GetAsync(Path($"presence-list/c/{_id}"))).Content.ReadAsStringAsync());
        Assert.Equal("{}", await (await PostAsync(client, Path($"cache-query/c/{_id}"), "[\"a\",\"b\"]")).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Set_many_get_many_prefix_keys_remove_and_clear_work_together()
    {
        using var client = _factory.Client(_factory.BasicHeader);
        using var many = await JsonAsync(await PostAsync(client, Path($"cache/c/{_id}"), "{\"user:1\":{\"value\":1},\"user:2\":{\"value\":2,\"ttl\":60000},\"other\":{\"value\":\"x\"}}"));
        Assert.Equal(2, many.RootElement.GetProperty("user:2").GetProperty("value").GetInt32());

        using var query = await JsonAsync(await PostAsync(client, Path($"cache-query/c/{_id}"), "[\"user:1\",\"missing\"]"));
        Assert.Equal(["user:1"], query.RootElement.EnumerateObject().Select(p => p.Name));

        using var prefixed = await JsonAsync(await client.GetAsync(Path($"cache/c/{_id}?prefix=user:")));
        Assert.Equal(2, prefixed.RootElement.EnumerateObject().Count());
        using var keys = await JsonAsync(await client.GetAsync(Path($"cache-keys/c/{_id}?prefix=oth")));
        Assert.Equal("[\"other\"]", keys.RootElement.GetRawText());

        Assert.True((await client.DeleteAsync(Path($"cache/c/{_id}/other"))).IsSuccessStatusCode);
        var removeMany = new HttpRequestMessage(HttpMethod.Delete, Path($"cache/c/{_id}")) { Content = Json("[\"user:1\"]") };
        Assert.True((await client.SendAsync(removeMany)).IsSuccessStatusCode);
        Assert.Equal("[\"user:2\"]", await (await client.GetAsync(Path($"cache-keys/c/{_id}"))).Content.ReadAsStringAsync());

        Assert.True((await client.DeleteAsync(Path($"cache/c/{_id}"))).IsSuccessStatusCode);
        Assert.Equal("{}", await (await client.GetAsync(Path($"cache/c/{_id}"))).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task If_absent_leaves_an_existing_item_alone()
    {
        using var client = _factory.Client(_factory.BasicHeader);
        await PostAsync(client, Path($"cache/c/{_id}/k"), "{\"value\":1}");
        var second = await PostAsync(client, Path($"cache/c/{_id}/k"), "{\"value\":2,\"ifAbsent\":true}");
        Assert.True(second.IsSuccessStatusCode);
        Assert.Empty(await second.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, await ValueAsync(client, "k"));
    }

    [Fact]
    public async Task A_stale_updated_at_is_a_409_conflict_and_changes_nothing()
    {
        using var client = _factory.Client(_factory.BasicHeader);
        using var first = await JsonAsync(await PostAsync(client, Path($"cache/c/{_id}/k"), "{\"value\":1}"));
        var updatedAt = first.RootElement.GetProperty("updatedAt").GetInt64();

        var ok = await PostAsync(client, Path($"cache/c/{_id}/k"), $"{{\"value\":2,\"updatedAt\":{updatedAt}}}");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        var stale = await PostAsync(client, Path($"cache/c/{_id}/k"), $"{{\"value\":3,\"updatedAt\":{updatedAt}}}");
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Equal("conflictError.updatedAt.mismatch", await CodeAsync(stale));
        Assert.Equal(2, await ValueAsync(client, "k"));

        var absent = await PostAsync(client, Path($"cache/c/{_id}/none/increment"), "{\"value\":1,\"updatedAt\":5}");
        Assert.Equal(HttpStatusCode.Conflict, absent.StatusCode);
    }

    [Fact]
    public async Task Concurrent_increments_are_never_lost()
    {
        using var client = _factory.Client(_factory.BasicHeader);
        var calls = Enumerable.Range(0, 40).Select(_ => PostAsync(client, Path($"cache/c/{_id}/n/increment"), "{\"value\":1}"));
        var responses = await Task.WhenAll(calls);
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(40, await ValueAsync(client, "n"));
    }

    [Fact]
    public async Task Items_expire_after_their_ttl_without_being_returned()
    {
        using var client = _factory.Client(_factory.BasicHeader);
        await PostAsync(client, Path($"cache/c/{_id}/short"), "{\"value\":\"gone soon\",\"ttl\":300}");
        await PostAsync(client, Path($"cache/c/{_id}/long"), "{\"value\":\"stays\"}");
        await Wait.UntilAsync(async () => (await client.GetAsync(Path($"cache/c/{_id}/short"))).StatusCode == HttpStatusCode.NotFound, "expiry");
        Assert.Equal("[\"long\"]", await (await client.GetAsync(Path($"cache-keys/c/{_id}"))).Content.ReadAsStringAsync());
        using var all = await JsonAsync(await client.GetAsync(Path($"cache/c/{_id}")));
        Assert.False(all.RootElement.TryGetProperty("short", out _));
    }

    [Theory]
    [InlineData("cache/c/{id}/k", "{not json", "validationError.body.malformed")]
    [InlineData("cache/c/{id}/k", "[1]", "validationError.body.malformed")]
    [InlineData("cache/c/{id}/k", "{\"novalue\":1}", "validationError.value.missing")]
    [InlineData("cache/c/{id}/k", "{\"value\":1,\"ttl\":-5}", "validationError.ttl.invalid")]
    [InlineData("cache/c/{id}/k", "{\"value\":1,\"ttl\":\"soon\"}", "validationError.ttl.invalid")]
    [InlineData("cache/c/{id}/k/increment", "{\"value\":\"1\"}", "validationError.operand.invalid")]
    [InlineData("cache/c/{id}/s/increment", "{\"value\":1}", "validationError.target.typeMismatch")]
    [InlineData("cache/c/{id}/k/splice", "{\"startIndex\":0,\"deleteCount\":1}", "validationError.target.typeMismatch")]
    [InlineData("cache/c/{id}/k/merge", "{\"value\":{\"a\":1}}", "validationError.target.typeMismatch")]
    [InlineData("cache/c/{id}/k/push", "{\"value\":1}", "validationError.target.typeMismatch")]
    [InlineData("cache/c/{id}/k/set-in", "{\"path\":\"\",\"value\":1}", "validationError.path.invalid")]
    [InlineData("cache/bad.class/{id}/k", "{\"value\":1}", "validationError.class.invalid")]
    [InlineData("cache-query/c/{id}", "{\"a\":1}", "validationError.body.malformed")]
    public async Task Bad_input_is_a_400_with_a_code_and_changes_nothing(string route, string body, string code)
    {
        using var client = _factory.Client(_factory.BasicHeader);
        await PostAsync(client, Path($"cache/c/{_id}/k"), "{\"value\":7}");
        await PostAsync(client, Path($"cache/c/{_id}/s"), "{\"value\":\"text\"}");
        using var before = await JsonAsync(await client.GetAsync(Path($"cache/c/{_id}")));

        var response = await PostAsync(client, Path(route.Replace("{id}", _id, StringComparison.Ordinal)), body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, await CodeAsync(response));

        using var after = await JsonAsync(await client.GetAsync(Path($"cache/c/{_id}")));
        Assert.Equal(before.RootElement.GetRawText(), after.RootElement.GetRawText());
    }

    [Fact]
    public async Task Unknown_routes_methods_and_operations_get_json_errors()
    {
        using var client = _factory.Client(_factory.BasicHeader);
        var route = await client.GetAsync("/nothing/here");
        Assert.Equal(HttpStatusCode.NotFound, route.StatusCode);
        Assert.Equal("notFoundError.route.unknown", await CodeAsync(route));

        var method = await client.PutAsync(Path($"cache/c/{_id}/k"), Json("{\"value\":1}"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, method.StatusCode);
        Assert.Equal("requestError.method.notAllowed", await CodeAsync(method));

        var op = await PostAsync(client, Path($"cache/c/{_id}/k/explode"), "{\"value\":1}");
        Assert.Equal(HttpStatusCode.NotFound, op.StatusCode);
        Assert.Equal("validationError.operation.unknown", await CodeAsync(op));
    }

    [Fact]
    public async Task Oversized_bodies_and_values_are_413_and_store_nothing()
    {
        using var client = _factory.Client(_factory.BasicHeader);
        var huge = new string('x', 1024 * 1024 + 10);
        var body = await PostAsync(client, Path($"cache/c/{_id}/big"), $"{{\"value\":\"{huge}\"}}");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, body.StatusCode);
        Assert.Equal("limitError.body.tooLarge", await CodeAsync(body));

        var value = await PostAsync(client, Path($"cache/c/{_id}/big"), $"{{\"value\":\"{new string('x', 300 * 1024)}\"}}");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, value.StatusCode);
        Assert.Equal("limitError.value.tooLarge", await CodeAsync(value));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(Path($"cache/c/{_id}/big"))).StatusCode);
    }

    [Fact]
    public async Task Atomic_operations_apply_inside_the_grain()
    {
        using var client = _factory.Client(_factory.BasicHeader);
        Assert.Equal("[1]", await OpValueAsync(client, "list", "push", "{\"value\":1}"));
        Assert.Equal("[1,2]", await OpValueAsync(client, "list", "push", "{\"value\":2}"));
        Assert.Equal("[1,\"a\",\"b\"]", await OpValueAsync(client, "list", "splice", "{\"startIndex\":-1,\"deleteCount\":1,\"items\":[\"a\",\"b\"]}"));
        Assert.Equal("{\"a\":1}", await OpValueAsync(client, "obj", "merge", "{\"value\":{\"a\":1}}"));
        Assert.Equal("{\"a\":1,\"b\":{\"c\":true}}", await OpValueAsync(client, "obj", "set-in", "{\"path\":[\"b\",\"c\"],\"value\":true}"));
        Assert.Equal("-2.5", await OpValueAsync(client, "num", "decrement", "{\"value\":2.5}"));
    }

    [Fact]
    public async Task Encryption_settings_are_created_once_and_rotated()
    {
        using var client = _factory.Client(_factory.BasicHeader);
        using var first = await JsonAsync(await PostAsync(client, Path($"cache-encryption/c/{_id}"), "{}"));
        var salt = first.RootElement.GetProperty("encryptionSettings").GetProperty("salt").GetString()!;
        Assert.Equal(16, Convert.FromBase64String(salt).Length);
        using var again = await JsonAsync(await PostAsync(client, Path($"cache-encryption/c/{_id}"), "{}"));
        Assert.Equal(salt, again.RootElement.GetProperty("encryptionSettings").GetProperty("salt").GetString());

        using var rotated = await JsonAsync(await PostAsync(client, Path($"cache-encryption-rotate/c/{_id}"), "{\"saltLength\":24}"));
        Assert.Equal(1, rotated.RootElement.GetProperty("encryptionSettings").GetProperty("keyVersion").GetInt32());
        Assert.Equal(0, rotated.RootElement.GetProperty("previousEncryptionSettings")[0].GetProperty("keyVersion").GetInt32());

        var request = new HttpRequestMessage(HttpMethod.Post, Path($"cache/c/{_id}/secret")) { Content = Json("{\"value\":\"ciphertext\"}") };
        request.Headers.Add("X-Enc-KV", "0");
        using var stored = await JsonAsync(await client.SendAsync(request));
        Assert.Equal(0, stored.RootElement.GetProperty("keyVersion").GetInt32());

        var unknown = new HttpRequestMessage(HttpMethod.Post, Path($"cache/c/{_id}/secret")) { Content = Json("{\"value\":\"x\"}") };
        unknown.Headers.Add("X-Enc-KV", "7");
        var refused = await client.SendAsync(unknown);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("encryptionError.keyVersion.unknown", await CodeAsync(refused));

        var atomic = await PostAsync(client, Path($"cache/c/{_id}/secret/push"), "{\"value\":1}");
        Assert.Equal("encryptionError.item.encrypted", await CodeAsync(atomic));
    }

    private async Task<string> OpValueAsync(HttpClient client, string key, string op, string body)
    {
        var response = await PostAsync(client, Path($"cache/c/{_id}/{key}/{op}"), body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = await JsonAsync(response);
        return document.RootElement.GetProperty("value").GetRawText();
    }

    private async Task<int> ValueAsync(HttpClient client, string key)
    {
        using var document = await JsonAsync(await client.GetAsync(Path($"cache/c/{_id}/{key}")));
        return document.RootElement.GetProperty("value").GetInt32();
    }

    internal static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    internal static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string body) => client.PostAsync(path, Json(body));

    internal static async Task<JsonDocument> JsonAsync(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    internal static async Task<string?> CodeAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(document.RootElement.TryGetProperty("message", out _));
        return document.RootElement.GetProperty("cause").GetProperty("code").GetString();
    }
}
