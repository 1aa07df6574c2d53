namespace OrleansVault.Objects;

/// <summary>Where a shared object lives: project, class and object id, validated by <see cref="Names"/>.</summary>
[GenerateSerializer]
[Alias("ov.ObjectAddress")]
public readonly record struct ObjectAddress(
    [property: Id(0)] string ProjectId,
    [property: Id(1)] string Class,
    [property: Id(2)] string ObjectId)
{
    /// <summary>The grain key; '/' never appears in any part, so the split is unambiguous.</summary>
    public string GrainKey => $"{ProjectId}/{Class}/{ObjectId}";

    public static ObjectAddress Parse(string grainKey)
    {
        var parts = grainKey.Split('/');
        if (parts.Length != 3)
        {
            throw new FormatException("A shared object key has three parts.");
        }

        return new ObjectAddress(parts[0], parts[1], parts[2]);
    }

    public override string ToString() => GrainKey;
}
