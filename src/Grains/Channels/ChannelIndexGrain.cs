using Microsoft.Extensions.Options;
using OrleansVault.Channels;

namespace OrleansVault.Grains.Channels;

/// <summary>
/// The occupied channels of one app, in memory. Channels announce themselves when occupied and again every
/// <see cref="ChannelOptions.IndexRefresh"/>; an entry not renewed for three refreshes (a channel that died with its
/// silo) expires, so a lost index rebuilds itself within one refresh.
/// </summary>
public sealed class ChannelIndexGrain(IOptions<ChannelOptions> options, TimeProvider time) : Grain, IChannelIndexGrain
{
    private readonly SortedDictionary<string, long> _channels = new(StringComparer.Ordinal);

    public Task Announce(string channel, bool occupied)
    {
        if (occupied)
        {
            _channels[channel] = time.GetUtcNow().ToUnixTimeMilliseconds();
        }
        else
        {
            _channels.Remove(channel);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> List(string? prefix)
    {
        var oldest = time.GetUtcNow().ToUnixTimeMilliseconds() - (long)(options.Value.IndexRefresh.TotalMilliseconds * 3);
        foreach (var stale in _channels.Where(c => c.Value < oldest).Select(c => c.Key).ToList())
        {
            _channels.Remove(stale);
        }

        return Task.FromResult<IReadOnlyList<string>>(
            [.. _channels.Keys.Where(c => prefix is null || c.StartsWith(prefix, StringComparison.Ordinal))]);
    }
}
