using System.Buffers;
using OrleansVault.Baselines.Diagnostics;
using OrleansVault.Baselines.Http;

namespace OrleansVault.Baselines.PlainWebSockets;

/// <summary>Maps <c>GET /ws/{topic}</c> (subscribe) and <c>POST /publish/{topic}</c> (broadcast).</summary>
internal static class SocketEndpoint
{
    public static IServiceCollection AddPlainWebSockets(this IServiceCollection services) =>
        services.AddSingleton<TopicHub>();

    public static IEndpointRouteBuilder MapPlainWebSockets(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/ws/{topic}", SubscribeAsync);
        endpoints.MapPost("/publish/{topic}", PublishAsync);
        return endpoints;
    }

    private static async Task SubscribeAsync(
        string topic, HttpContext context, TopicHub hub, ConnectionCounters counters, IHostApplicationLifetime lifetime)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();

        // Without the stopping token, shutdown would wait out Kestrel's timeout on every idle socket.
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(
            context.RequestAborted, lifetime.ApplicationStopping);
        await new SocketSession(socket, topic, hub, counters).RunAsync(ending.Token);
    }

    private static async Task<IResult> PublishAsync(
        string topic, HttpRequest request, TopicHub hub, CancellationToken cancellationToken)
    {
        byte[]? payload = await BoundedRequestBody.ReadAsync(request, static body => body.ToArray(), cancellationToken);
        if (payload is null)
        {
            return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        }

        hub.Broadcast(topic, payload, sender: null);
        return Results.NoContent();
    }
}
