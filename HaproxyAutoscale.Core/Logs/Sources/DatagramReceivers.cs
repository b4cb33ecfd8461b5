using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace HaproxyAutoscale.Logs;

/// <summary>
/// Blocking receive of one or more datagrams from a bound socket, with each sender's address: the datagram source's
/// receive step. Implementations reuse their buffers: a datagram is valid until the next <see cref="Receive"/>.
/// </summary>
internal interface IDatagramReceiver : IDisposable
{
    /// <summary>Waits for datagrams (up to the socket's receive timeout) and returns how many arrived; 0 after a timeout.</summary>
    /// <exception cref="SocketException">The socket failed or was closed.</exception>
    int Receive();

    /// <summary>The most datagrams one <see cref="Receive"/> returns.</summary>
    int BatchSize { get; }

    /// <summary>The bytes of datagram <paramref name="index"/> of the last receive.</summary>
    ReadOnlySpan<byte> Datagram(int index);

    /// <summary>The sender of datagram <paramref name="index"/> of the last receive, as <see cref="SenderAllowlist.TryReadSender(SocketAddress, out UInt128, out bool)"/> reads it.</summary>
    bool TryReadSender(int index, out UInt128 address, out bool v4);
}

/// <summary>Creates the fastest receiver the platform offers.</summary>
internal static class DatagramReceivers
{
    /// <summary>
    /// <c>recvmmsg</c> (many datagrams per system call) on 64-bit Linux; one <c>recvfrom</c> per datagram elsewhere
    /// or when <paramref name="batch"/> is false.
    /// </summary>
    public static IDatagramReceiver Create(Socket socket, int maxDatagramSize, bool withSender, bool batch = true) =>
        batch && RecvMmsgReceiver.IsSupported
            ? new RecvMmsgReceiver(socket, maxDatagramSize, withSender)
            : new SocketReceiver(socket, maxDatagramSize, withSender);
}

/// <summary>One <see cref="Socket.ReceiveFrom(Span{byte}, SocketFlags, SocketAddress)"/> per datagram: portable.</summary>
internal sealed class SocketReceiver(Socket socket, int maxDatagramSize, bool withSender) : IDatagramReceiver
{
    private readonly byte[] _buffer = new byte[maxDatagramSize];
    // Filled in place by each receive: the sender is read from its bytes, no EndPoint is made per datagram.
    private readonly SocketAddress? _sender = withSender ? new SocketAddress(socket.AddressFamily) : null;
    private int _length;

    public int BatchSize => 1;

    public int Receive()
    {
        try
        {
            _length = _sender is null ? socket.Receive(_buffer, SocketFlags.None) : socket.ReceiveFrom(_buffer, SocketFlags.None, _sender);
            return 1;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            return 0;
        }
    }

    public ReadOnlySpan<byte> Datagram(int index) => _buffer.AsSpan(0, _length);

    public bool TryReadSender(int index, out UInt128 address, out bool v4)
    {
        if (_sender is null)
        {
            address = default;
            v4 = false;
            return false;
        }

        return SenderAllowlist.TryReadSender(_sender, out address, out v4);
    }

    public void Dispose()
    {
    }
}

/// <summary>
/// <c>recvmmsg(2)</c> with <c>MSG_WAITFORONE</c>: one system call returns every datagram already queued (up to a
/// batch), instead of one call per datagram. The message headers, address slots and data slots live in pinned arrays
/// laid out as Linux's 64-bit <c>struct mmsghdr</c>, <c>struct iovec</c> and <c>sockaddr_in6</c>; no unsafe code, no
/// allocation per call. The socket's handle is held (AddRef) while in use, so closing the socket cannot hand its
/// descriptor number to another file under a blocked call; the call wakes at least every receive timeout.
/// </summary>
internal sealed partial class RecvMmsgReceiver : IDatagramReceiver
{
    private const int MsgHdrSize = 64; // struct mmsghdr: msghdr (56) + msg_len (4) + padding
    private const int IoVecSize = 16;
    private const int NameSize = 32; // sockaddr_in6 is 28 bytes
    private const int MsgWaitForOne = 0x10000;
    private const int EAgain = 11;
    private const int EIntr = 4;
    private const ushort AfInet = 2;
    private const ushort AfInet6 = 10;
    private const int BatchBytes = 1024 * 1024; // the data slots of one batch at most

    private readonly Socket _socket;
    private readonly int _slotSize;
    private readonly int _batch;
    private readonly bool _withSender;
    private readonly byte[] _headers;
    private readonly byte[] _names;
    private readonly byte[] _data;
    private readonly nint _headersAddress;
    private bool _handleHeld;

    public RecvMmsgReceiver(Socket socket, int maxDatagramSize, bool withSender)
    {
        _socket = socket;
        _slotSize = maxDatagramSize;
        _withSender = withSender;
        _batch = Math.Clamp(BatchBytes / maxDatagramSize, 1, 64);
        _headers = GC.AllocateArray<byte>(_batch * MsgHdrSize, pinned: true);
        byte[] iovecs = GC.AllocateArray<byte>(_batch * IoVecSize, pinned: true);
        _names = GC.AllocateArray<byte>(_batch * NameSize, pinned: true);
        _data = GC.AllocateArray<byte>(_batch * _slotSize, pinned: true);
        _headersAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_headers, 0);
        IoVecs = iovecs;
        for (int i = 0; i < _batch; i++)
        {
            Span<byte> iovec = iovecs.AsSpan(i * IoVecSize, IoVecSize);
            BinaryPrimitives.WriteInt64LittleEndian(iovec, Marshal.UnsafeAddrOfPinnedArrayElement(_data, i * _slotSize));
            BinaryPrimitives.WriteInt64LittleEndian(iovec[8..], _slotSize);
            Span<byte> header = _headers.AsSpan(i * MsgHdrSize, MsgHdrSize);
            BinaryPrimitives.WriteInt64LittleEndian(header, withSender ? Marshal.UnsafeAddrOfPinnedArrayElement(_names, i * NameSize) : 0); // msg_name
            BinaryPrimitives.WriteInt64LittleEndian(header[16..], Marshal.UnsafeAddrOfPinnedArrayElement(iovecs, i * IoVecSize)); // msg_iov
            BinaryPrimitives.WriteInt64LittleEndian(header[24..], 1); // msg_iovlen
        }
    }

    /// <summary>64-bit Linux, whose struct layouts this class writes, with a C library that has <c>recvmmsg</c>.</summary>
    public static bool IsSupported { get; } = OperatingSystem.IsLinux() && Environment.Is64BitProcess && CanCall();

    // Kept reachable with the headers that point into it.
    private byte[] IoVecs { get; }

    public int BatchSize => _batch;

    public int Receive()
    {
        if (!_handleHeld)
        {
            bool added = false;
            _socket.SafeHandle.DangerousAddRef(ref added);
            _handleHeld = added;
        }

        for (int i = 0; i < _batch; i++)
        {
            Span<byte> header = _headers.AsSpan(i * MsgHdrSize, MsgHdrSize);
            BinaryPrimitives.WriteInt32LittleEndian(header[8..], _withSender ? NameSize : 0); // msg_namelen, overwritten by each call
            BinaryPrimitives.WriteInt32LittleEndian(header[48..], 0); // msg_flags
        }

        int count = RecvMmsg((int)_socket.SafeHandle.DangerousGetHandle(), _headersAddress, (uint)_batch, MsgWaitForOne, 0);
        if (count >= 0)
        {
            return count;
        }

        int error = Marshal.GetLastPInvokeError();
        if (error is EAgain or EIntr)
        {
            return 0; // the receive timeout passed: the caller looks whether it should stop
        }

        throw new SocketException(error);
    }

    public ReadOnlySpan<byte> Datagram(int index)
    {
        ReadOnlySpan<byte> header = _headers.AsSpan(index * MsgHdrSize, MsgHdrSize);
        int length = BinaryPrimitives.ReadInt32LittleEndian(header[56..]);
        // A datagram longer than a slot is cut (msg_len is then its full length), as the portable path cuts it.
        return _data.AsSpan(index * _slotSize, Math.Min(length, _slotSize));
    }

    public bool TryReadSender(int index, out UInt128 address, out bool v4)
    {
        address = default;
        v4 = false;
        if (!_withSender)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(_headers.AsSpan((index * MsgHdrSize) + 8));
        ReadOnlySpan<byte> name = _names.AsSpan(index * NameSize, Math.Min(length, NameSize));
        if (name.Length < 2)
        {
            return false;
        }

        // Linux's sa_family values; the addresses sit at the same offsets as in every sockaddr_in/sockaddr_in6.
        AddressFamily family = BinaryPrimitives.ReadUInt16LittleEndian(name) switch
        {
            AfInet => AddressFamily.InterNetwork,
            AfInet6 => AddressFamily.InterNetworkV6,
            _ => AddressFamily.Unknown,
        };
        return SenderAllowlist.TryReadSender(family, name, out address, out v4);
    }

    public void Dispose()
    {
        if (_handleHeld)
        {
            _handleHeld = false;
            _socket.SafeHandle.DangerousRelease();
        }
    }

    // One call on no descriptor (it fails with EBADF): whether "libc" resolves and exports recvmmsg, so a C library
    // without it means the portable path, not a receive thread dying on its first datagram.
    private static bool CanCall()
    {
        try
        {
            return RecvMmsg(-1, 0, 0, 0, 0) < 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "recvmmsg", SetLastError = true)]
    private static partial int RecvMmsg(int fd, nint messages, uint count, int flags, nint timeout);
}
