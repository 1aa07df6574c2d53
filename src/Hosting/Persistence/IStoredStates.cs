namespace OrleansVault.Hosting.Persistence;

/// <summary>
/// What the <c>admin</c> command does to stored grain states, in embedded mode (SQLite) and cluster mode (PostgreSQL):
/// count rows per data key, re-encrypt rows under older keys, delete a crypto-shredded scope's rows.
/// </summary>
public interface IStoredStates
{
    /// <summary>Rewrites the rows of <paramref name="scope"/> (all when null) not under their scope's current data key, keeping their ETag; returns how many.</summary>
    Task<int> ReencryptAsync(string? scope);

    /// <summary>How many rows each (scope, data key version) protects.</summary>
    Task<IReadOnlyDictionary<(string Scope, int? Version), int>> CountRowsByKeyAsync();

    /// <summary>Deletes every row of a scope; returns the count.</summary>
    Task<int> DeleteScopeAsync(string scope);
}
