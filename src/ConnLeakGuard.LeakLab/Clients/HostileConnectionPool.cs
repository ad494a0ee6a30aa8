using System.Net;
using System.Net.Sockets;
using ConnLeakGuard.LeakLab.Scenarios;

namespace ConnLeakGuard.LeakLab.Clients;

/// <summary>
/// Opens connections for one kind of misbehaving client at a steady rate, up to a maximum number
/// open at once, and runs the kind's behaviour on each. A connection that the server closes frees
/// its slot, so the pool opens a new one on a later tick: a bounded pool is refilled for ever.
/// </summary>
internal sealed class HostileConnectionPool
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);

    private readonly ClientLoad _load;
    private readonly IHostileBehavior _behavior;
    private readonly IPEndPoint _target;
    private readonly IPAddress _source;
    private readonly List<Task> _connections = [];

    private int _open;
    private int _peakOpen;
    private long _opened;
    private long _connectFailures;
    private long _closedByServer;

    public HostileConnectionPool(ClientLoad load, IHostileBehavior behavior, IPEndPoint target, IPAddress source)
    {
        ArgumentNullException.ThrowIfNull(load);
        ArgumentNullException.ThrowIfNull(behavior);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(source);

        _load = load;
        _behavior = behavior;
        _target = target;
        _source = source;
    }

    public ClientKind Kind => _load.Kind;

    public ClientLoad Load => _load;

    public int Open => Volatile.Read(ref _open);

    public int PeakOpen => Volatile.Read(ref _peakOpen);

    public long Opened => Interlocked.Read(ref _opened);

    public long ConnectFailures => Interlocked.Read(ref _connectFailures);

    public long ClosedByServer => Interlocked.Read(ref _closedByServer);

    /// <summary>Opens connections until <paramref name="cancellationToken"/> is cancelled, then waits for all of them to end.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        long startTimestamp = TimeProvider.System.GetTimestamp();
        long started = 0;
        using var timer = new PeriodicTimer(Tick);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                double elapsedSeconds = TimeProvider.System.GetElapsedTime(startTimestamp).TotalSeconds;
                long due = (long)(elapsedSeconds * _load.OpenPerSecond);

                // Slots freed by the server are refilled at the pool's rate, not all at once:
                // a full pool skips its turns instead of saving them up.
                while (started < due)
                {
                    started++;
                    if (Open >= _load.MaxOpen)
                    {
                        continue;
                    }

                    Interlocked.Increment(ref _open);
                    _connections.Add(RunConnectionAsync(cancellationToken));
                }

                _connections.RemoveAll(task => task.IsCompleted);
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over: fall through and wait for the connections to notice.
        }

        await Task.WhenAll(_connections);
    }

    private async Task RunConnectionAsync(CancellationToken cancellationToken)
    {
        UpdatePeak();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        bool connected = false;
        try
        {
            _behavior.Configure(socket);
            socket.Bind(new IPEndPoint(_source, 0));

            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connectTimeout.CancelAfter(ConnectTimeout);
                await socket.ConnectAsync(_target, connectTimeout.Token);
            }

            connected = true;
            Interlocked.Increment(ref _opened);
            await _behavior.RunAsync(socket, _target.ToString(), cancellationToken);
            Interlocked.Increment(ref _closedByServer);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run ended while this connection was still open: that is the normal end for a leak.
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException)
        {
            if (connected)
            {
                Interlocked.Increment(ref _closedByServer);
            }
            else
            {
                Interlocked.Increment(ref _connectFailures);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    private void UpdatePeak()
    {
        int open = Open;
        int peak;
        while (open > (peak = Volatile.Read(ref _peakOpen)))
        {
            if (Interlocked.CompareExchange(ref _peakOpen, open, peak) == peak)
            {
                return;
            }
        }
    }
}
