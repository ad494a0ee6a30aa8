using System.Net;
using ConnLeakGuard.LeakLab.Guard;
using Xunit;

namespace ConnLeakGuard.LeakLab.Tests;

public sealed class GuardMetricsReaderTests
{
    private static readonly GuardEndpoints Endpoints = new(
        new IPEndPoint(IPAddress.Loopback, 20102),
        new IPEndPoint(IPAddress.Loopback, 20103),
        new IPEndPoint(IPAddress.Loopback, 20101));

    [Fact]
    public void Sum_CountsInboundPortOnly()
    {
        const string exposition = """
            # TYPE kestrel_active_connections gauge
            kestrel_active_connections{network_transport="tcp",network_type="ipv4",server_address="127.0.0.1",server_port="20102"} 212 1733340000000
            kestrel_active_connections{network_transport="tcp",network_type="ipv4",server_address="127.0.0.1",server_port="20103"} 1 1733340000000
            kestrel_queued_connections{server_port="20102"} 7
            """;
        using var reader = new GuardMetricsReader(Endpoints);

        Assert.Equal(212, reader.SumInboundSeries(exposition));
    }

    [Fact]
    public void Sum_WithoutPortLabelsAddsAll()
    {
        const string exposition = "kestrel_active_connections 5\nkestrel_active_connections{a=\"b\"} 3\n";
        using var reader = new GuardMetricsReader(Endpoints);

        Assert.Equal(8, reader.SumInboundSeries(exposition));
    }

    [Fact]
    public void Sum_MissingMetricIsNull()
    {
        using var reader = new GuardMetricsReader(Endpoints);

        Assert.Null(reader.SumInboundSeries("process_memory_usage_bytes 1e8\n"));
    }
}
