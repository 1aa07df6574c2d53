using System.Text;
using OrleansVault.LoadTest.Metrics;
using OrleansVault.LoadTest.Options;

namespace OrleansVault.LoadTest.Targets;

/// <summary>
/// What the two baselines (tools/Baselines) share: writes are an HTTP publish to <c>{prefix}/{topic}</c>, and a
/// request/response round trip is a publish nobody listens to followed by <c>GET /health</c>.
/// </summary>
public abstract class BaselineTarget(LoadOptions options, ClientNetwork network, string publishPrefix, string contentType) : ILoadTarget
{
    public abstract string Name { get; }

    protected ClientNetwork Network => network;

    public Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public abstract Task<IAsyncDisposable> SubscribeAsync(string topic, int index, LoadMetrics metrics, CancellationToken cancellationToken);

    public Task PublishAsync(string topic, string payload, CancellationToken cancellationToken) =>
        PostAsync($"{publishPrefix}/{topic}", payload, cancellationToken);

    public async Task RequestAsync(int index, CancellationToken cancellationToken)
    {
        await PostAsync($"{publishPrefix}/http-{index % Math.Max(1, options.Objects)}", Payload.Create(DateTime.UtcNow.Ticks, options.PayloadBytes), cancellationToken);
        using var response = await network.Http.GetAsync(new Uri(network.BaseFor(index), "/health"), cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task PostAsync(string path, string body, CancellationToken cancellationToken)
    {
        using var content = new StringContent(body, Encoding.UTF8, contentType);
        using var response = await network.Http.PostAsync(new Uri(network.NextBase(), path), content, cancellationToken);
        response.EnsureSuccessStatusCode();
    }
}
