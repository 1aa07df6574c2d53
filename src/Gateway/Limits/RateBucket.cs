namespace OrleansVault.Gateway.Limits;

/// <summary>
/// A token bucket for one connection's frames: <see cref="_rate"/> tokens a second, at most <see cref="_burst"/> saved
/// up. Used by one receive loop at a time, so it is not thread-safe.
/// </summary>
public sealed class RateBucket
{
    private readonly double _rate;
    private readonly double _burst;
    private readonly TimeProvider _time;
    private double _tokens;
    private long _last;

    public RateBucket(double rate, double burst, TimeProvider time)
    {
        _rate = rate;
        _burst = burst;
        _time = time;
        _tokens = burst;
        _last = time.GetTimestamp();
    }

    /// <summary>Takes one token; false when the bucket is empty (the caller is over its rate).</summary>
    public bool TryTake()
    {
        var now = _time.GetTimestamp();
        _tokens = Math.Min(_burst, _tokens + (_time.GetElapsedTime(_last, now).TotalSeconds * _rate));
        _last = now;
        if (_tokens < 1)
        {
            return false;
        }

        _tokens -= 1;
        return true;
    }
}
