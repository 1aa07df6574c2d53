using OrleansVault.Channels;
using OrleansVault.Errors;
using OrleansVault.Grains.Objects;

namespace OrleansVault.Grains.Channels;

/// <summary>The persisted Pusher apps of the cluster.</summary>
[GenerateSerializer]
[Alias("ov.PusherAppsState")]
public sealed class PusherAppsState
{
    [Id(0)]
    public List<PusherApp> Apps { get; set; } = [];
}

/// <summary>The registry of Pusher apps; state name <c>pusherApps</c> is encrypted under the cluster's data key.</summary>
public sealed class PusherAppsGrain(
    [PersistentState("pusherApps", SharedObjectOptions.StorageName)] IPersistentState<PusherAppsState> state) : Grain, IPusherAppsGrain
{
    public Task<PusherApp?> GetById(string appId) => Task.FromResult(state.State.Apps.Find(a => a.AppId == appId));

    public Task<PusherApp?> GetByKey(string appKey) => Task.FromResult(state.State.Apps.Find(a => a.Key == appKey));

    public Task<IReadOnlyList<PusherApp>> List() => Task.FromResult<IReadOnlyList<PusherApp>>([.. state.State.Apps]);

    public async Task Upsert(PusherApp app)
    {
        if (state.State.Apps.Exists(a => a.Key == app.Key && a.AppId != app.AppId))
        {
            throw new VaultException(VaultErrorKind.Conflict, ErrorCodes.PusherKeyTaken, "Another Pusher app already uses this key.");
        }

        var index = state.State.Apps.FindIndex(a => a.AppId == app.AppId);
        if (index >= 0 && state.State.Apps[index].Equals(app))
        {
            return;
        }

        if (index >= 0)
        {
            state.State.Apps[index] = app;
        }
        else
        {
            state.State.Apps.Add(app);
        }

        await state.WriteStateAsync();
    }
}
