namespace ConnLeakGuard.Tests.Infrastructure;

/// <summary>
/// Tests that start guards under load or measure timing run one at a time in this collection, so that
/// they do not compete for the two cores of a CI machine; long tests that are mostly idle stay outside it
/// and run alongside.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SequentialTests
{
    /// <summary>Collection name for <see cref="CollectionAttribute"/>.</summary>
    public const string Name = "Sequential";
}
