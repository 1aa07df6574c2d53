using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using OrleansVault.Channels;
using OrleansVault.Gateway.Pusher.Protocol;

namespace OrleansVault.Gateway.Pusher;

/// <summary>
/// The Pusher HTTP API (signed requests): events, batch events, channel queries, users, terminate connections.
/// Errors are text bodies with Pusher's statuses: 400 bad request, 401 signature, 403 disabled app, 404 unknown app,
/// 413 event too large.
/// </summary>
public static class PusherRestApi
{
    public static IEndpointRouteBuilder MapPusherRestApi(this IEndpointRouteBuilder app)
    {
        var apps = app.MapGroup("/apps/{appId}");
        apps.MapPost("/events", (HttpContext context, string appId, PusherRestHandler handler) => handler.RunAsync(context, appId, handler.EventsAsync));
        apps.MapPost("/batch_events", (HttpContext context, string appId, PusherRestHandler handler) => handler.RunAsync(context, appId, handler.BatchEventsAsync));
        apps.MapGet("/channels", (HttpContext context, string appId, PusherRestHandler handler) => handler.RunAsync(context, appId, handler.ChannelsAsync));
        apps.MapGet("/channels/{channel}", (HttpContext context, string appId, string channel, PusherRestHandler handler) =>
            handler.RunAsync(context, appId, (ctx, a, _) => handler.ChannelAsync(ctx, a, channel)));
        apps.MapGet("/channels/{channel}/users", (HttpContext context, string appId, string channel, PusherRestHandler handler) =>
            handler.RunAsync(context, appId, (ctx, a, _) => handler.UsersAsync(a, channel)));
        apps.MapPost("/users/{userId}/terminate_connections", (HttpContext context, string appId, string userId, PusherRestHandler handler) =>
            handler.RunAsync(context, appId, (ctx, a, _) => handler.TerminateAsync(a, userId)));
        return app;
    }
}

/// <summary>A refusal of a REST call: status and the text Pusher's clients show.</summary>
public sealed class PusherRestException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>Verifies each signed REST request and serves it.</summary>
public sealed class PusherRestHandler(
    PusherAppDirectory apps,
    IClusterClient client,
    ChannelReferences channels,
    IOptions<PusherSocketOptions> options,
    TimeProvider time)
{
    public async Task<IResult> RunAsync(HttpContext context, string appId, Func<HttpContext, PusherApp, byte[], Task<object>> serve)
    {
        try
        {
            var body = await ReadBodyAsync(context);
            var app = await apps.GetByIdAsync(appId) ?? throw new PusherRestException(404, $"Unknown app id {appId}");
            await AuthenticateAsync(context, app, body);
            if (!app.Enabled)
            {
                throw new PusherRestException(403, "Application disabled");
            }

            return Results.Json(await serve(context, app, body));
        }
        catch (PusherRestException refusal)
        {
            return Results.Text(refusal.Message, "text/plain", Encoding.UTF8, refusal.Status);
        }
        catch (JsonException)
        {
            return Results.Text("Request body is not valid JSON", "text/plain", Encoding.UTF8, 400);
        }
    }

    public async Task<object> EventsAsync(HttpContext context, PusherApp app, byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        var root = Object(document.RootElement, "body");
        var channels = new List<string>();
        if (root.TryGetProperty("channels", out var list))
        {
            if (list.ValueKind != JsonValueKind.Array)
            {
                throw new PusherRestException(400, "channels must be an array of channel names");
            }

            channels.AddRange(list.EnumerateArray().Select(c => c.ValueKind == JsonValueKind.String ? c.GetString()! : throw new PusherRestException(400, "channels must be an array of channel names")));
        }
        else if (root.TryGetProperty("channel", out var single) && single.ValueKind == JsonValueKind.String)
        {
            channels.Add(single.GetString()!);
        }

        if (channels.Count == 0)
        {
            throw new PusherRestException(400, "Missing channels: give channels (an array) or channel");
        }

        if (channels.Count > options.Value.MaxChannelsPerEvent)
        {
            throw new PusherRestException(400, $"Cannot trigger an event on more than {options.Value.MaxChannelsPerEvent} channels at once");
        }

        var publish = ReadEvent(root);
        var info = Info(root);

        // Every name is checked before anything is sent: a bad request publishes nothing (the SDK may retry it).
        var targets = channels.Distinct().ToList();
        targets.ForEach(CheckChannel);
        var results = await Task.WhenAll(targets.Select(async channel => (channel, result: await Channel(app, channel).Publish(publish))));
        return info.Count == 0 ? new { } : new { channels = results.ToDictionary(r => r.channel, r => InfoFor(r.channel, r.result, info)) };
    }

    public async Task<object> BatchEventsAsync(HttpContext context, PusherApp app, byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        var root = Object(document.RootElement, "body");
        if (!root.TryGetProperty("batch", out var batch) || batch.ValueKind != JsonValueKind.Array)
        {
            throw new PusherRestException(400, "Missing batch: an array of events");
        }

        if (batch.GetArrayLength() > options.Value.MaxEventsPerBatch)
        {
            throw new PusherRestException(400, $"Cannot send more than {options.Value.MaxEventsPerBatch} events in one batch");
        }

        // Every event is checked before any is sent, so a bad batch sends nothing.
        var events = batch.EnumerateArray().Select(item =>
        {
            var e = Object(item, "batch event");
            var channel = e.TryGetProperty("channel", out var c) && c.ValueKind == JsonValueKind.String
                ? c.GetString()! : throw new PusherRestException(400, "Every batch event needs a channel");
            CheckChannel(channel);
            return (Channel: channel, Publish: ReadEvent(e), Info: Info(e));
        }).ToList();

        var results = new List<Dictionary<string, int>>();
        foreach (var (channel, publish, info) in events)
        {
            var result = await Channel(app, channel).Publish(publish);
            results.Add(InfoFor(channel, result, info));
        }

        return events.Any(e => e.Info.Count > 0) ? new { batch = results } : new { };
    }

    public async Task<object> ChannelsAsync(HttpContext context, PusherApp app, byte[] body)
    {
        var prefix = context.Request.Query["filter_by_prefix"].ToString();
        var info = Attributes(context.Request.Query["info"].ToString());
        if (info.Contains("user_count") && !prefix.StartsWith("presence-", StringComparison.Ordinal))
        {
            throw new PusherRestException(400, "user_count may only be requested for presence channels: add filter_by_prefix=presence-");
        }

        var names = await client.GetGrain<IChannelIndexGrain>(app.AppId).List(string.IsNullOrEmpty(prefix) ? null : prefix);
        var channels = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            channels[name] = info.Count == 0 ? [] : InfoFor(name, await Channel(app, name).GetInfo(), info);
        }

        return new { channels };
    }

    public async Task<object> ChannelAsync(HttpContext context, PusherApp app, string channel)
    {
        CheckChannel(channel);
        var info = Attributes(context.Request.Query["info"].ToString());
        var presence = PusherChannelName.KindOf(channel) == PusherChannelKind.Presence;
        if (info.Contains("user_count") && !presence)
        {
            throw new PusherRestException(400, "user_count is only available for presence channels");
        }

        var result = await Channel(app, channel).GetInfo();
        var response = new Dictionary<string, object> { ["occupied"] = result.Occupied };
        if (info.Contains("user_count"))
        {
            response["user_count"] = result.UserCount;
        }

        if (info.Contains("subscription_count"))
        {
            response["subscription_count"] = result.SubscriptionCount;
        }

        return response;
    }

    public async Task<object> UsersAsync(PusherApp app, string channel)
    {
        CheckChannel(channel);
        if (PusherChannelName.KindOf(channel) != PusherChannelKind.Presence)
        {
            throw new PusherRestException(400, "Users can only be listed for presence channels");
        }

        var ids = await Channel(app, channel).GetUserIds();
        return new { users = ids.Select(id => new { id }) };
    }

    public async Task<object> TerminateAsync(PusherApp app, string userId)
    {
        if (!PusherChannelName.IsValidUserId(userId))
        {
            throw new PusherRestException(400, "Invalid user id");
        }

        await Channel(app, PusherChannelName.UserChannel(userId)).Terminate();
        return new { };
    }

    private IChannelGrain Channel(PusherApp app, string channel) => channels.Get(app.AppId, channel);

    private async Task AuthenticateAsync(HttpContext context, PusherApp app, byte[] body)
    {
        var query = context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var window = (long)options.Value.RestTimestampWindow.TotalSeconds;
        var failure = PusherRestAuth.Verify(context.Request.Method, context.Request.Path.Value ?? "", query, body, key => key == app.Key ? app.Secret : null, now, window);
        switch (failure)
        {
            case RestAuthFailure.None:
                break;
            case RestAuthFailure.MissingParameter:
                throw new PusherRestException(401, "Missing authentication: auth_key, auth_timestamp, auth_version and auth_signature are required");
            case RestAuthFailure.UnknownKey:
                throw new PusherRestException(401, "Invalid auth_key for this app");
            case RestAuthFailure.BadVersion:
                throw new PusherRestException(401, "Unsupported auth_version: use 1.0");
            case RestAuthFailure.Timestamp:
                throw new PusherRestException(401, $"Timestamp expired: given timestamp not within {window}s of server time");
            case RestAuthFailure.BodyMd5:
                throw new PusherRestException(401, "body_md5 does not match the body");
            default:
                throw new PusherRestException(401, "Invalid signature: check the app secret and that the request is signed as sent");
        }

        // Keyed on the signature as hex digits of one case (hex decoding accepts either), kept until the request's own
        // timestamp leaves the window (a timestamp ahead of the clock stays valid that much longer).
        if (app.ReplayProtection
            && !await client.GetGrain<IRestReplayGuardGrain>(app.AppId).TryUse(
                query["auth_signature"].ToLowerInvariant(),
                Math.Max(now, long.Parse(query["auth_timestamp"], System.Globalization.CultureInfo.InvariantCulture)) + window))
        {
            throw new PusherRestException(401, "Replayed request: this signature was already used (replay protection is on for this app)");
        }
    }

    private ChannelPublish ReadEvent(JsonElement e)
    {
        var settings = options.Value;
        var name = e.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : throw new PusherRestException(400, "Missing event name");
        if (name.Length == 0 || name.Length > settings.MaxEventNameLength)
        {
            throw new PusherRestException(400, $"Event names are 1-{settings.MaxEventNameLength} characters");
        }

        var data = e.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : throw new PusherRestException(400, "Missing data: a string");
        if (Encoding.UTF8.GetByteCount(data) > settings.MaxEventBytes)
        {
            throw new PusherRestException(413, $"The data content of this event exceeds the allowed maximum ({settings.MaxEventBytes} bytes)");
        }

        string? socketId = null;
        if (e.TryGetProperty("socket_id", out var s))
        {
            socketId = s.ValueKind == JsonValueKind.String && PusherSocketId.IsValid(s.GetString()) ? s.GetString() : throw new PusherRestException(400, "Invalid socket_id");
        }

        return new ChannelPublish(name, data, DataIsJson: false, ExcludedSocketId: socketId, UserId: null, FromClient: false);
    }

    private static HashSet<string> Info(JsonElement e) =>
        e.TryGetProperty("info", out var info) && info.ValueKind == JsonValueKind.String ? Attributes(info.GetString()!) : [];

    private static HashSet<string> Attributes(string info) =>
        [.. info.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private static Dictionary<string, int> InfoFor(string channel, ChannelInfo info, HashSet<string> wanted)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        var presence = PusherChannelName.KindOf(channel) == PusherChannelKind.Presence;
        if (wanted.Contains("user_count") && presence)
        {
            result["user_count"] = info.UserCount;
        }

        if (wanted.Contains("subscription_count"))
        {
            result["subscription_count"] = info.SubscriptionCount;
        }

        return result;
    }

    private static void CheckChannel(string channel)
    {
        if (!PusherChannelName.IsValid(channel))
        {
            throw new PusherRestException(400, $"Invalid channel name {channel}");
        }
    }

    private static JsonElement Object(JsonElement e, string what) =>
        e.ValueKind == JsonValueKind.Object ? e : throw new PusherRestException(400, $"The {what} must be a JSON object");

    // The server bounds the body (Kestrel's MaxRequestBodySize is Vault:Limits:MaxBodyBytes; past it, 413).
    private static Task<byte[]> ReadBodyAsync(HttpContext context) => Vaultrice.RequestBody.ReadBytesAsync(context, int.MaxValue);
}
