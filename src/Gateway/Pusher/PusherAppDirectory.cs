using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OrleansVault.Channels;
using OrleansVault.Gateway.Options;

namespace OrleansVault.Gateway.Pusher;

/// <summary>This gateway's short-lived copy of the Pusher apps (<c>Vault:Auth:ProjectCacheTtl</c>), by key and by id.</summary>
public sealed class PusherAppDirectory(IGrainFactory grains, IOptions<AuthOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (PusherApp? App, DateTimeOffset FetchedAt)> _byKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (PusherApp? App, DateTimeOffset FetchedAt)> _byId = new(StringComparer.Ordinal);

    private IPusherAppsGrain Apps => grains.GetGrain<IPusherAppsGrain>(IPusherAppsGrain.Key);

    public ValueTask<PusherApp?> GetByKeyAsync(string key) => GetAsync(_byKey, key, k => Apps.GetByKey(k));

    public ValueTask<PusherApp?> GetByIdAsync(string appId) => GetAsync(_byId, appId, id => Apps.GetById(id));

    public void Update(PusherApp app)
    {
        _byKey[app.Key] = (app, time.GetUtcNow());
        _byId[app.AppId] = (app, time.GetUtcNow());
    }

    private async ValueTask<PusherApp?> GetAsync(
        ConcurrentDictionary<string, (PusherApp? App, DateTimeOffset FetchedAt)> cache, string name, Func<string, Task<PusherApp?>> fetch)
    {
        if (cache.TryGetValue(name, out var entry) && time.GetUtcNow() - entry.FetchedAt < options.Value.ProjectCacheTtl)
        {
            return entry.App;
        }

        // Only apps that exist are cached: names from unauthenticated requests must not grow the cache.
        var app = await fetch(name);
        if (app is not null)
        {
            cache[name] = (app, time.GetUtcNow());
        }

        return app;
    }
}
