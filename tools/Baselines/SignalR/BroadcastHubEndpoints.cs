using System.Text;
using Microsoft.AspNetCore.SignalR;
using OrleansVault.Baselines.Http;

namespace OrleansVault.Baselines.SignalR;

/// <summary>Maps the hub at <c>/hub</c> and its HTTP publish route <c>POST /signalr/publish/{topic}</c>.</summary>
internal static class BroadcastHubEndpoints
{
    public static IServiceCollection AddBroadcastHub(this IServiceCollection services)
    {
        services.AddSignalR(options => options.MaximumReceiveMessageSize = BoundedRequestBody.MaxPayloadBytes);
        return services;
    }

    public static IEndpointRouteBuilder MapBroadcastHub(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHub<BroadcastHub>("/hub");
        endpoints.MapPost("/signalr/publish/{topic}", PublishAsync);
        return endpoints;
    }

    private static async Task<IResult> PublishAsync(
        string topic, HttpRequest request, IHubContext<BroadcastHub> hub, CancellationToken cancellationToken)
    {
        string? payload = await BoundedRequestBody.ReadAsync(
            request, static body => Encoding.UTF8.GetString(body), cancellationToken);
        if (payload is null)
        {
            return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        }

        // Not tied to the request: a publisher hanging up must not cut the fan-out short halfway through.
        await hub.Clients.Group(topic).SendAsync(BroadcastHub.EventMethod, payload, CancellationToken.None);
        return Results.NoContent();
    }
}
